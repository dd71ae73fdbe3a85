#!/usr/bin/env bash
# Runs the system: the server in demo mode (embedded SQLite in ./data, demo accounts)
# and the desktop app signed in to it as the demo admin. Ctrl+C (or closing the app
# with "Quitter") stops both. The portal is at http://127.0.0.1:8080/client-portal.
set -euo pipefail
cd "$(dirname "$0")/.."

ADDR="${ITV_ADDR:-127.0.0.1:8080}"
DATA_DIR="${ITV_DATA_DIR:-./data}"

echo "::: building the server, the desktop UI and the desktop app"
(cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
cargo build -p itv-server -p itv-desk-app

echo "::: starting the server on http://$ADDR (data in $DATA_DIR)"
target/debug/itv-server serve --demo --addr "$ADDR" --data-dir "$DATA_DIR" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://$ADDR/api/health" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "::: portal: http://$ADDR/client-portal (client@itvision.sn / demo1234)"
echo "::: desktop app: signed in as admin@itvision.sn"
# First start signs in with these; later starts restore the session from the keyring.
ITV_DESK_SERVER="http://$ADDR" ITV_DESK_EMAIL="${ITV_DESK_EMAIL:-admin@itvision.sn}" \
  ITV_DESK_PASSWORD="${ITV_DESK_PASSWORD:-demo1234}" target/debug/itv-desk-app
