#!/usr/bin/env bash
# End-to-end test of the desktop app: builds the UI, the app and the server, then runs e2e.py
# (Xvfb + private D-Bus + tauri-driver/WebKitWebDriver + the real server). Exits non-zero on failure.
# Needs: xvfb, dbus, webkit2gtk-driver, imagemagick (Debian) and tauri-driver (cargo install).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

command -v tauri-driver >/dev/null || cargo install tauri-driver --locked
for tool in Xvfb dbus-daemon WebKitWebDriver import; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install xvfb dbus webkit2gtk-driver imagemagick)"; exit 2; }
done

if [ "${ITV_E2E_SKIP_BUILD:-}" != 1 ]; then
  (cd ui && { [ -d node_modules ] || npm ci; } && npm run build)
  cargo build -p itv-desk-app -p itv-server
fi

if [ ! -x "$here/.venv/bin/python" ]; then
  python3 -m venv "$here/.venv"
  "$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
fi
rm -f "$here/out/failures.log"
status=0
"$here/.venv/bin/python" "$here/e2e.py" || status=$?
# On failure, the tracebacks and the end of each process's log, so CI output says why.
if [ "$status" != 0 ]; then
  cat "$here/out/failures.log" 2>/dev/null || true
  for log in "$here"/out/{server,tauri-driver}.log; do
    echo "---- tail of $log"
    tail -n 40 "$log" 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' || true
  done
fi
exit "$status"
