#!/usr/bin/env bash
# Builds the Windows installer of the desktop app with Debian's makensis, from our own
# packaging/windows/installer.nsi: Tauri's NSIS target downloads its NSIS plugins from
# GitHub, which is unreachable here. Needs the release cross build of itv-desk-app.exe
# (scripts/windows-check.sh builds it); does not run cargo itself.
#
# Usage: bash scripts/windows-installer.sh [EXE [OUTFILE]]
#   EXE      default target/x86_64-pc-windows-gnu/release/itv-desk-app.exe
#   OUTFILE  default target/x86_64-pc-windows-gnu/release/bundle/nsis/IT_Vision_Desk_<version>_x64-setup.exe
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

release="target/x86_64-pc-windows-gnu/release"
exe="${1:-$release/itv-desk-app.exe}"

command -v makensis >/dev/null || {
  echo "makensis not found: apt-get install nsis (Debian's nsis 3.08 is enough)" >&2; exit 2; }
[ -f "$exe" ] || {
  echo "no $exe: cross build it first (cargo build --release --target x86_64-pc-windows-gnu -p itv-desk-app, as scripts/windows-check.sh does), or pass the .exe" >&2
  exit 2; }

# One version for the app and its installer: the one in tauri.conf.json.
version="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' src-tauri/tauri.conf.json)"
# The file-properties version must be four numbers: 0.1.0-rc.1 -> 0.1.0.0.
IFS=. read -r v1 v2 v3 _ <<<"${version%%[-+]*}"
viversion="${v1:-0}.${v2:-0}.${v3:-0}.0"

out="${2:-$release/bundle/nsis/IT_Vision_Desk_${version}_x64-setup.exe}"
mkdir -p "$(dirname "$out")"
# makensis runs from the script's directory: every path passed to it is absolute.
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
exe="$(abs "$exe")"
out="$(abs "$out")"

defines=(-DEXE="$exe" -DVERSION="$version" -DVIVERSION="$viversion" -DOUTFILE="$out"
         -DICON="$root/icons/icon.ico")
# The GNU build links WebView2Loader.dll dynamically (MSVC builds link it statically): when
# the .exe imports it, the installer must ship the copy the build put beside it.
loader="$(dirname "$exe")/WebView2Loader.dll"
with_loader=no
if grep -qai 'WebView2Loader\.dll' "$exe"; then
  [ -f "$loader" ] || { echo "$exe needs WebView2Loader.dll, not found beside it" >&2; exit 2; }
  defines+=(-DWEBVIEW2LOADER="$loader")
  with_loader=yes
fi

t0=$(date +%s)
# -INPUTCHARSET: the .nsi is UTF-8 (French strings) without a BOM. -V2: warnings and errors.
makensis -V2 -INPUTCHARSET UTF8 "${defines[@]}" packaging/windows/installer.nsi
t1=$(date +%s)

printf '  %-34s %s\n' "$(basename "$exe")" "$(du -h "$exe" | cut -f1)"
if [ "$with_loader" = yes ]; then
  printf '  %-34s %s\n' "WebView2Loader.dll" "$(du -h "$loader" | cut -f1)"
fi
printf '  %-34s %s\n' "$(basename "$out")" "$(du -h "$out" | cut -f1)"
echo "  makensis: $((t1 - t0)) s, version $version -> $out"
