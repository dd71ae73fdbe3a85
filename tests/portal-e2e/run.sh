#!/usr/bin/env bash
# End-to-end tests of the client portal: builds the server, installs the pinned npm
# dependencies (npm ci), and drives Debian's Chromium against the real binary.
# Exits non-zero on any failure. Needs: cargo, node >= 20, /usr/bin/chromium, pdftotext.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

for tool in node npm pdftotext; do
  command -v "$tool" >/dev/null || { echo "portal-e2e: missing $tool" >&2; exit 1; }
done
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$chromium" ] || { echo "portal-e2e: missing Chromium at $chromium" >&2; exit 1; }

if [ -z "${ITV_SERVER_BIN:-}" ]; then
  (cd "$root" && cargo build -p itv-server --bin itv-server)
fi

cd "$here"
npm ci --no-audit --no-fund --loglevel=error
exec node --test --test-concurrency=1 --test-reporter=spec
