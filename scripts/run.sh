#!/usr/bin/env bash
# Runs the system: the server in demo mode (embedded SQLite in ./data, demo accounts)
# and the desktop app signed in to it as the demo admin. Ctrl+C (or closing the app
# with "Quitter") stops both. The portal is at http://127.0.0.1:8080/client-portal.
#
# Installs what it needs first (scripts/setup.sh run). Without a display (neither DISPLAY
# nor WAYLAND_DISPLAY set) it runs the server and the portal only, says how to reach them
# from the desktop app elsewhere, and waits for Ctrl+C.
#
# ITV_ADDR (default 127.0.0.1:8080), ITV_DATA_DIR (default ./data); ITV_SKIP_BUILD=1 uses
# the binaries already in target/debug.
set -euo pipefail
cd "$(dirname "$0")/.."

ADDR="${ITV_ADDR:-127.0.0.1:8080}"
DATA_DIR="${ITV_DATA_DIR:-./data}"
PORT="${ADDR##*:}"
display="${DISPLAY:-}${WAYLAND_DISPLAY:-}"

bash scripts/setup.sh run
# rustup's default place, for a shell that has not read ~/.cargo/env yet.
PATH="$HOME/.cargo/bin:$PATH"

if [ -n "${ITV_SKIP_BUILD:-}" ]; then
  echo "::: ITV_SKIP_BUILD set: not building, using the binaries in target/debug"
  [ -x target/debug/itv-server ] || { echo "no target/debug/itv-server yet: run without ITV_SKIP_BUILD" >&2; exit 1; }
elif [ -n "$display" ]; then
  echo "::: building the server, the desktop UI and the desktop app"
  (cd ui && npm run build)
  cargo build -p itv-server -p itv-desk-app
else
  echo "::: no display: building the server only (it serves the portal)"
  cargo build -p itv-server
fi

echo "::: starting the server on http://$ADDR (data in $DATA_DIR)"
target/debug/itv-server serve --demo --addr "$ADDR" --data-dir "$DATA_DIR" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 100); do
  curl -fsS "http://$ADDR/api/health" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "the server stopped (see above)" >&2; exit 1; }
  sleep 0.1
done

echo "::: portal: http://$ADDR/client-portal (client@itvision.sn / demo1234)"

if [ -z "$display" ]; then
  host_ip="$(hostname -I 2>/dev/null | awk '{print $1}')"
  host_ip="${host_ip:-<address of this machine>}"
  case "$ADDR" in
    127.* | localhost:*)
      reach="The server listens on $ADDR, this machine only. To reach it from the LAN, rerun
    with ITV_ADDR=0.0.0.0:$PORT (demo accounts, password demo1234: a trusted network only),
    then use http://$host_ip:$PORT; or keep it local and forward the port over SSH:
    ssh -L $PORT:127.0.0.1:$PORT <this machine>, then use http://127.0.0.1:$PORT." ;;
    *)
      reach="Server address to type: http://$host_ip:$PORT" ;;
  esac
  cat <<EOF
::: no display here (neither DISPLAY nor WAYLAND_DISPLAY is set): the desktop app is not started.
To open the desktop app:
  - on a machine with a display: run this script there (bash scripts/run.sh);
  - from another machine: install the app (docs/install.md) and sign in to this server as
    admin@itvision.sn / demo1234, typing its address under "Adresse du serveur" (or start
    the app with ITV_DESK_SERVER, ITV_DESK_EMAIL and ITV_DESK_PASSWORD set).
    $reach
Ctrl+C stops the server.
EOF
  wait "$server"
  exit
fi

echo "::: desktop app: signed in as admin@itvision.sn"
# First start signs in with these; later starts restore the session from the keyring.
ITV_DESK_SERVER="http://$ADDR" ITV_DESK_EMAIL="${ITV_DESK_EMAIL:-admin@itvision.sn}" \
  ITV_DESK_PASSWORD="${ITV_DESK_PASSWORD:-demo1234}" target/debug/itv-desk-app
