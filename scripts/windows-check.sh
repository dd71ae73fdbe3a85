#!/usr/bin/env bash
# The Windows build, checked from Linux on every CI run:
#   1. cross builds, release, for x86_64-pc-windows-gnu (Debian's mingw-w64): the server
#      and the desktop app, an .exe each;
#   2. the core's and the desk engine's unit tests, built for Windows and run under Wine
#      (Debian's wine64), so the Windows code paths run, not only compile: paths, bundled
#      SQLite, the Credential Manager keyring and its persistence check, the toast builder;
#   3. the NSIS installer of the real .exe, installed and uninstalled under Wine (and once
#      more with a stand-in program, for the checks that need the app running).
# Prints the counts (`N passed, 0 failed`), the sizes and the times. Release, so that the
# tests reuse the dependencies the .exe builds compiled.
#
# Usage: bash scripts/windows-check.sh [--no-installer]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

TARGET=x86_64-pc-windows-gnu
out="target/$TARGET/release"
WINE="${WINE:-$(command -v wine64 || command -v wine || echo /usr/lib/wine/wine64)}"
WINESERVER="$(command -v wineserver || echo /usr/lib/wine/wineserver)"

for tool in x86_64-w64-mingw32-gcc "$WINE"; do
  command -v "$tool" >/dev/null || [ -x "$tool" ] || {
    echo "missing $tool: bash scripts/setup.sh ci (gcc-mingw-w64-x86-64, wine64)"; exit 2; }
done
rustup target list --installed 2>/dev/null | grep -qx "$TARGET" || rustup target add "$TARGET"

step() { printf '\n::: %s\n' "$*"; }
elapsed() { echo "$(( $(date +%s) - $1 )) s"; }

step "Windows cross build (release): itv-server.exe, itv-desk-app.exe"
[ -f ui/dist/index.html ] || (cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
t0=$(date +%s)
cargo build --release --target "$TARGET" -p itv-server -p itv-desk-app
build_time=$(elapsed "$t0")
for exe in itv-server.exe itv-desk-app.exe; do
  printf '  %-18s %s\n' "$exe" "$(du -h "$out/$exe" | cut -f1)"
done
echo "  cross build: $build_time"

step "unit tests for Windows (itv-core, itv-desk), built"
t0=$(date +%s)
mapfile -t tests < <(cargo test --release --target "$TARGET" -p itv-core -p itv-desk --lib --no-run \
  --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable"):
        print(m["executable"])')
[ "${#tests[@]}" -eq 2 ] || { echo "expected 2 test executables, got ${#tests[@]}: ${tests[*]}"; exit 1; }
echo "  built in $(elapsed "$t0")"

step "unit tests under Wine ($("$WINE" --version))"
work="$(mktemp -d)"
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() { "$WINESERVER" -k 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
# Rust's std needs ProcessPrng, which Wine 8 lacks: a test-only stand-in, beside the tests.
x86_64-w64-mingw32-gcc -O2 -shared -o "$work/bcryptprimitives.dll" \
  tests/wine/bcryptprimitives.c tests/wine/bcryptprimitives.def -ladvapi32
t0=$(date +%s)
"$WINE" wineboot --init >/dev/null 2>&1 || true
echo "  Wine prefix ready in $(elapsed "$t0")"
passed=0 failed=0
for t in "${tests[@]}"; do
  name="$(basename "$t")"
  cp "$t" "$work/$name"
  log="$work/${name%.exe}.log"
  t0=$(date +%s)
  # Inside the prefix's C: drive, as a Windows user would run it (temp dirs, app data).
  if (cd "$work" && "$WINE" "$work/$name" --test-threads=2) >"$log" 2>&1; then rc=0; else rc=$?; fi
  result="$(grep -a '^test result:' "$log" | tail -1 || true)"
  p="$(sed -n 's/.* \([0-9]\+\) passed.*/\1/p' <<<"$result")"
  f="$(sed -n 's/.* \([0-9]\+\) failed.*/\1/p' <<<"$result")"
  if [ -z "$p" ] || [ "$rc" -ne 0 ]; then
    echo "  $name: did not finish cleanly under Wine (exit $rc)"; tail -40 "$log"; exit 1
  fi
  echo "  ${name%-*}: $p passed, $f failed ($(elapsed "$t0"))"
  passed=$((passed + p)); failed=$((failed + f))
done
echo "  Wine: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] || exit 1

if [ "${1:-}" != --no-installer ] && [ -f tests/windows/installer.sh ]; then
  step "Windows installer (NSIS) of the real .exe, installed and removed under Wine"
  "$WINESERVER" -k 2>/dev/null || true
  bash tests/windows/installer.sh "$out/itv-desk-app.exe"
  # The checks the real app cannot run under Wine (it needs WebView2): an itv:// link started
  # through the shell, a running app not overwritten. With a stand-in program.
  "$WINESERVER" -k 2>/dev/null || true
  bash tests/windows/installer.sh --stand-in
fi
step "Windows checks passed"
