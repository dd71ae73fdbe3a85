#!/usr/bin/env bash
# The Windows installer (packaging/windows/installer.nsi), installed and removed for real under
# Wine in a throwaway prefix: silent install, then the files, the Start-menu shortcut, the
# registry (itv:// protocol, AppUserModelID, Apps & features), the WebView2 notice, an itv://
# link started through the shell, the refusal to overwrite a running app, an upgrade, and the
# silent uninstall (files, shortcut, keys and autostart gone, the user's data kept).
#
# Usage: bash tests/windows/installer.sh [EXE | --stand-in]
#   EXE defaults to the release cross build; when there is none (or with --stand-in), a tiny program
#   built with mingw-w64 takes its place (said loudly): it records its command line, and can
#   stay running, so the deep-link and running-app checks have something to observe.
# Prints `N passed, M failed` (and what was skipped, with why); exits non-zero on a failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

WINE="${WINE:-$(command -v wine64 || command -v wine || echo /usr/lib/wine/wine64)}"
WINESERVER="$(command -v wineserver || echo /usr/lib/wine/wineserver)"
for tool in makensis "$WINE" "$WINESERVER"; do
  command -v "$tool" >/dev/null || [ -x "$tool" ] || {
    echo "missing $tool: apt-get install nsis wine64" >&2; exit 2; }
done

step() { printf '\n::: %s\n' "$*"; }
passed=0 failed=0 skipped=0
ok() { passed=$((passed + 1)); echo "  ok    $1"; }
bad() { failed=$((failed + 1)); echo "  FAIL  $1${2:+: $2}"; }
skip() { skipped=$((skipped + 1)); echo "  SKIP  $1: $2"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() { local d="$1"; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else bad "$d"; fi; }
# expect DESCRIPTION ACTUAL WANTED: passes on equal strings, shows both otherwise.
expect() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "got '$2', wanted '$3'"; fi; }

work="$(mktemp -d)"
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() {
  touch "$work/stop"
  "$WINESERVER" -k 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

default_exe="target/x86_64-pc-windows-gnu/release/itv-desk-app.exe"
exe="${1:-}"
if [ "$exe" = --stand-in ]; then exe=""
elif [ -z "$exe" ] && [ -f "$default_exe" ]; then exe="$default_exe"; fi
standin=no
if [ -z "$exe" ]; then
  standin=yes
  command -v x86_64-w64-mingw32-gcc >/dev/null || {
    echo "no $default_exe and no x86_64-w64-mingw32-gcc for a stand-in: apt-get install gcc-mingw-w64-x86-64" >&2
    exit 2; }
  step "!!! STAND-IN EXE: no itv-desk-app.exe built, the installer is tested with a tiny stand-in program, NOT the app !!!"
  mkdir -p "$work/standin"
  # Records its command line in $ITV_STANDIN_LOG; --stay waits (and --window also shows
  # the app's window class and title, hidden) until $ITV_STANDIN_STOP exists, 60 s at most.
  cat >"$work/standin/standin.c" <<'EOF'
#include <windows.h>
#include <stdio.h>
#include <wchar.h>
static void note(const wchar_t *what) {
  wchar_t path[MAX_PATH], line[4096];
  char utf8[8192];
  if (!GetEnvironmentVariableW(L"ITV_STANDIN_LOG", path, MAX_PATH)) return;
  _snwprintf(line, 4096, L"%ls %ls\n", what, GetCommandLineW());
  line[4095] = 0;
  int n = WideCharToMultiByte(CP_UTF8, 0, line, -1, utf8, sizeof utf8, NULL, NULL);
  FILE *f = _wfopen(path, L"ab");
  if (f && n > 1) fwrite(utf8, 1, n - 1, f);
  if (f) fclose(f);
}
static int stop_asked(void) {
  wchar_t path[MAX_PATH];
  return !GetEnvironmentVariableW(L"ITV_STANDIN_STOP", path, MAX_PATH) ||
         GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES;
}
int WINAPI WinMain(HINSTANCE inst, HINSTANCE prev, LPSTR cmd, int show) {
  const wchar_t *line = GetCommandLineW();
  int stay = wcsstr(line, L"--stay") != NULL, window = wcsstr(line, L"--window") != NULL;
  HWND hwnd = NULL;
  if (window) {
    WNDCLASSW wc = {0};
    wc.lpfnWndProc = DefWindowProcW;
    wc.hInstance = inst;
    wc.lpszClassName = L"Tauri Window";
    RegisterClassW(&wc);
    hwnd = CreateWindowExW(0, L"Tauri Window", L"IT Vision Desk", WS_OVERLAPPEDWINDOW,
                           0, 0, 100, 100, NULL, NULL, inst, NULL);
  }
  note(window ? (hwnd ? L"window" : L"no-window") : L"started");
  for (int i = 0; (stay || window) && !stop_asked() && i < 600; i++) {
    MSG m;
    while (PeekMessageW(&m, NULL, 0, 0, PM_REMOVE)) DispatchMessageW(&m);
    Sleep(100);
  }
  return 0;
}
EOF
  x86_64-w64-mingw32-gcc -O2 -s -mwindows -o "$work/standin/itv-desk-app.exe" "$work/standin/standin.c"
  exe="$work/standin/itv-desk-app.exe"
fi
[ -f "$exe" ] || { echo "no such exe: $exe" >&2; exit 2; }
version="$(python3 -c 'import json; print(json.load(open("src-tauri/tauri.conf.json"))["version"])')"

[ "$standin" = yes ] && what="STAND-IN exe" || what="$exe"
step "installer of $what"
t0=$(date +%s)
bash scripts/windows-installer.sh "$exe" "$work/IT_Vision_Desk_${version}_x64-setup.exe"
makensis_time=$(( $(date +%s) - t0 ))
setup="$work/IT_Vision_Desk_${version}_x64-setup.exe"

step "Wine prefix ($("$WINE" --version))"
t0=$(date +%s)
"$WINE" wineboot --init >/dev/null 2>&1 || true
# Wine's null display driver: windows without an X server (the stand-in's --window).
"$WINE" reg add 'HKCU\Software\Wine\Drivers' /v Graphics /d null /f >/dev/null 2>&1
"$WINESERVER" -w
echo "  ready in $(( $(date +%s) - t0 )) s"

# Windows path -> Unix path in the prefix, and a registry value's data ("" for the default).
unix() { "$WINE" winepath -u "$1" 2>/dev/null | tr -d '\r'; }
regval() {
  local out
  if [ -z "$2" ]; then out="$("$WINE" reg query "$1" /ve 2>/dev/null)" || return 1
  else out="$("$WINE" reg query "$1" /v "$2" 2>/dev/null)" || return 1; fi
  tr -d '\r' <<<"$out" | awk -F'    ' -v n="${2:-(Default)}" '$2 == n { print $4; f = 1 } END { exit !f }'
}
haskey() { "$WINE" reg query "$1" >/dev/null 2>&1; }
nokey() { ! haskey "$1"; }
novalue() { ! regval "$1" "$2" >/dev/null; }

localappdata_w="$("$WINE" cmd /c echo %LOCALAPPDATA% 2>/dev/null | tr -d '\r')"
appdata_w="$("$WINE" cmd /c echo %APPDATA% 2>/dev/null | tr -d '\r')"
instdir_w="$localappdata_w\\Programs\\IT Vision Desk"
instdir="$(unix "$instdir_w")"
lnk="$(unix "$appdata_w\\Microsoft\\Windows\\Start Menu\\Programs\\IT Vision Desk.lnk")"
[ -n "$localappdata_w" ] && [ -n "$instdir" ] && [ -n "$lnk" ] || { echo "could not resolve the prefix's paths" >&2; exit 1; }
export ITV_STANDIN_LOG="$("$WINE" winepath -w "$work/standin.log" 2>/dev/null | tr -d '\r')"
export ITV_STANDIN_STOP="$("$WINE" winepath -w "$work/stop" 2>/dev/null | tr -d '\r')"
log() { iconv -f UTF-16 -t UTF-8 "$instdir/install.log" 2>/dev/null | tr -d '\r'; }

# wine_errors TRACE INDENT: Wine's own error lines in a program's stderr, indented.
wine_errors() { grep -a -m 5 -E '^wine:|err:' "$1" | sed "s/^/$2/" || true; }

# run_wine TRACE PROGRAM ARGS...: runs a Windows program once Wine is idle (none of ours may
# be running), its stderr in TRACE; sets $rc, and $took, the seconds the program ran (the
# wait for Wine left out).
# Exit 53 is Wine's loader giving up before the program ran (c0000135, "could not load",
# truncated to a byte): CI saw it once on the first install into a fresh prefix, never
# reproduced here. That says nothing of the installer, so it is said loudly with Wine's own
# words and the program run once more, after Wine has gone idle; twice is a failure.
run_wine() {
  local trace="$1" t0 attempt; shift
  for attempt in 1 2; do
    "$WINESERVER" -w
    t0=$(date +%s)
    if "$WINE" "$@" 2>"$trace"; then rc=0; else rc=$?; fi
    [ "$rc" -eq 53 ] && [ "$attempt" -eq 1 ] || break
    echo "  NOTE  Wine did not start ${1##*[/\\]} (exit 53); its words, then one retry:"
    wine_errors "$trace" '          '
  done
  took=$(( $(date +%s) - t0 ))
  [ "$rc" -eq 0 ] || wine_errors "$trace" '  Wine said: '
}

HKCU='HKCU\Software'
PROTO="$HKCU\\Classes\\itv"
AUMID_KEY="$HKCU\\Classes\\AppUserModelId\\sn.itvision.desk"
UNINST="$HKCU\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\sn.itvision.desk"
RUN="$HKCU\\Microsoft\\Windows\\CurrentVersion\\Run"
APPROVED="$HKCU\\Microsoft\\Windows\\CurrentVersion\\Explorer\\StartupApproved\\Run"
WEBVIEW2="$HKCU\\Microsoft\\EdgeUpdate\\Clients\\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"

step "silent install (/S)"
[ ! -e "$instdir" ] || { echo "the fresh prefix already has $instdir" >&2; exit 1; }
# fixme+shell: Wine names the ShellLink property-store methods the installer reaches.
WINEDEBUG=-all,fixme+shell run_wine "$work/install.trace" "$setup" /S
install_time=$took
expect "installer exit code" "$rc" 0

step "files and shortcut"
check "itv-desk-app.exe installed, identical to the one given" cmp "$exe" "$instdir/itv-desk-app.exe"
check "Uninstall.exe installed" test -s "$instdir/Uninstall.exe"
check "icon.ico installed (the AUMID's IconUri)" cmp icons/icon.ico "$instdir/icon.ico"
if grep -qai 'WebView2Loader\.dll' "$exe"; then
  check "WebView2Loader.dll installed beside the exe it links" cmp "$(dirname "$exe")/WebView2Loader.dll" "$instdir/WebView2Loader.dll"
else
  check "no WebView2Loader.dll for an exe that does not link it" test ! -e "$instdir/WebView2Loader.dll"
fi
check "Start-menu shortcut IT Vision Desk.lnk" test -s "$lnk"
check "the shortcut targets the installed exe" grep -qaF "$instdir_w\\itv-desk-app.exe" "$lnk"

step "registry"
expect "itv: protocol name" "$(regval "$PROTO" "")" "URL:IT Vision Desk"
check "itv: \"URL Protocol\" value" regval "$PROTO" "URL Protocol"
expect "itv: open command" "$(regval "$PROTO\\shell\\open\\command" "")" "\"$instdir_w\\itv-desk-app.exe\" \"%1\""
expect "itv: DefaultIcon" "$(regval "$PROTO\\DefaultIcon" "")" "\"$instdir_w\\itv-desk-app.exe\",0"
expect "AUMID DisplayName" "$(regval "$AUMID_KEY" DisplayName)" "IT Vision Desk"
expect "AUMID IconUri" "$(regval "$AUMID_KEY" IconUri)" "$instdir_w\\icon.ico"
expect "uninstall entry DisplayName" "$(regval "$UNINST" DisplayName)" "IT Vision Desk"
expect "uninstall entry DisplayVersion" "$(regval "$UNINST" DisplayVersion)" "$version"
expect "uninstall entry Publisher" "$(regval "$UNINST" Publisher)" "IT Vision"
expect "uninstall entry DisplayIcon" "$(regval "$UNINST" DisplayIcon)" "\"$instdir_w\\itv-desk-app.exe\",0"
expect "uninstall entry UninstallString" "$(regval "$UNINST" UninstallString)" "\"$instdir_w\\Uninstall.exe\""
expect "uninstall entry QuietUninstallString" "$(regval "$UNINST" QuietUninstallString)" "\"$instdir_w\\Uninstall.exe\" /S"
expect "uninstall entry InstallLocation" "$(regval "$UNINST" InstallLocation)" "$instdir_w"
expect "uninstall entry NoModify" "$(regval "$UNINST" NoModify)" 0x1
expect "uninstall entry NoRepair" "$(regval "$UNINST" NoRepair)" 0x1
size_kb=$(( $(regval "$UNINST" EstimatedSize || echo 0) ))
exe_kb=$(( $(stat -c %s "$exe") / 1024 ))
check "uninstall entry EstimatedSize ($size_kb KB) covers the exe ($exe_kb KB)" test "$size_kb" -ge "$exe_kb"

step "shortcut AppUserModelID"
expect "the installer set PKEY_AppUserModel_ID through IPropertyStore, all HRESULTs S_OK" \
  "$(log | grep -o 'AppUserModelID sn.itvision.desk: .*' || true)" \
  "AppUserModelID sn.itvision.desk: ok ({9F4C2855-9F79-4B39-A8D0-E1D42DE1D5F3},5 = VT 31 'sn.itvision.desk')"
check "the calls reached the ShellLink's IPropertyStore::SetValue and ::Commit" \
  grep -q 'propertystore_SetValue.*propertystore_Commit' <(tr '\n' ' ' <"$work/install.trace")
# The .lnk itself: a property-store block holding the AUMID after {9F4C2855-...}'s bytes.
if python3 - "$lnk" <<'EOF'
import sys, uuid
data = open(sys.argv[1], "rb").read()
fmtid = uuid.UUID("9F4C2855-9F79-4B39-A8D0-E1D42DE1D5F3").bytes_le
at = data.find(fmtid)
sys.exit(0 if at >= 0 and "sn.itvision.desk".encode("utf-16-le") in data[at:] else 1)
EOF
then ok "the .lnk holds System.AppUserModel.ID = sn.itvision.desk"
elif grep -q 'fixme:shell:propertystore_SetValue.*stub' "$work/install.trace"; then
  skip "the .lnk holds System.AppUserModel.ID" "Wine's ShellLink property store is a stub (SetValue/Commit do nothing): check on Windows"
else
  bad "the .lnk holds System.AppUserModel.ID" "no AUMID in $lnk"
fi

step "WebView2 notice (the prefix has no WebView2)"
check "silent install logged WebView2's absence and went on" \
  grep -qF "Microsoft Edge WebView2 not found: IT Vision Desk needs it (https://go.microsoft.com/fwlink/p/?LinkId=2124703)" <(log)

uuid="123e4567-e89b-42d3-a456-426614174000"
if [ "$standin" = yes ]; then
  step "itv:// link through the shell (ShellExecute, as a browser does)"
  # Wine 8's HKCR does not merge HKCU\Software\Classes (Windows does): the values the
  # installer wrote under HKCU are copied to HKLM\Software\Classes for Wine to find.
  "$WINE" reg add 'HKLM\Software\Classes\itv' /ve /d "$(regval "$PROTO" "")" /f >/dev/null 2>&1
  "$WINE" reg add 'HKLM\Software\Classes\itv' /v 'URL Protocol' /d '' /f >/dev/null 2>&1
  "$WINE" reg add 'HKLM\Software\Classes\itv\shell\open\command' /ve \
    /d "$(regval "$PROTO\\shell\\open\\command" "")" /f >/dev/null 2>&1
  rm -f "$work/standin.log"
  "$WINE" start "itv://request/$uuid" >/dev/null 2>&1 || true
  "$WINESERVER" -w
  expect "itv://request/<uuid> started the installed exe with the link as its argument" \
    "$(cat "$work/standin.log" 2>/dev/null || true)" \
    "started \"$instdir_w\\itv-desk-app.exe\" \"itv://request/$uuid\""
  "$WINE" reg delete 'HKLM\Software\Classes\itv' /f >/dev/null 2>&1

  step "a running app is not overwritten"
  # wait_started PID WORD: the stand-in wrote WORD in its log, or died (fail).
  wait_started() {
    for _ in $(seq 100); do
      grep -q "^$2 " "$work/standin.log" 2>/dev/null && return 0
      kill -0 "$1" 2>/dev/null || return 1
      sleep 0.1
    done
    return 1
  }
  rm -f "$work/standin.log" "$work/stop"
  "$WINE" "$instdir/itv-desk-app.exe" --stay >/dev/null 2>&1 &
  pid=$!
  if wait_started "$pid" started; then
    if "$WINE" "$setup" /S 2>/dev/null; then rc=0; else rc=$?; fi
    expect "install over the running exe cancelled (exit code 2)" "$rc" 2
    # _?=: the uninstaller runs in place instead of from a temp copy, so its exit code is
    # seen; NSIS wants it last and unquoted, hence a .bat (wine would quote the spaces).
    printf '@"%s\\Uninstall.exe" /S _?=%s\r\n@exit /b %%errorlevel%%\r\n' "$instdir_w" "$instdir_w" >"$work/un.bat"
    if "$WINE" cmd /c "$("$WINE" winepath -w "$work/un.bat" 2>/dev/null | tr -d '\r')" >/dev/null 2>&1; then rc=0; else rc=$?; fi
    expect "uninstall while it runs cancelled (exit code 2)" "$rc" 2
    check "... and left the exe and the keys" test -f "$instdir/itv-desk-app.exe" -a -n "$(regval "$UNINST" DisplayName)"
  else
    bad "stand-in started from the install dir"
  fi
  touch "$work/stop"; wait "$pid" || true
  rm -f "$work/standin.log" "$work/stop"
  cp "$exe" "$work/other-copy.exe"
  "$WINE" "$work/other-copy.exe" --window >/dev/null 2>&1 &
  pid=$!
  if wait_started "$pid" window; then
    if "$WINE" "$setup" /S 2>/dev/null; then rc=0; else rc=$?; fi
    expect "install while the app's window (Tauri Window, IT Vision Desk) exists cancelled (exit code 2)" "$rc" 2
  else
    bad "stand-in with the app's window" "$(cat "$work/standin.log" 2>/dev/null)"
  fi
  touch "$work/stop"; wait "$pid" || true
  "$WINESERVER" -w
else
  skip "itv:// link started through the shell" "the real app needs WebView2, which the Wine prefix lacks (stand-in exe only)"
  skip "a running app is not overwritten" "needs the stand-in exe, which can stay running under Wine"
fi

step "upgrade: install again over the installed app, WebView2 now registered"
"$WINE" reg add "$WEBVIEW2" /v pv /d 120.0.2210.91 /f >/dev/null 2>&1
run_wine "$work/wine.trace" "$setup" /S
expect "second install exit code" "$rc" 0
check "exe still identical" cmp "$exe" "$instdir/itv-desk-app.exe"
check "WebView2 found per user and logged" grep -qF "Microsoft Edge WebView2 120.0.2210.91 found" <(log)

step "silent uninstall"
# What the app writes and the uninstaller must remove (autostart), or keep (data, others).
"$WINE" reg add "$RUN" /v "IT Vision Desk" /d "\"$instdir_w\\itv-desk-app.exe\" --hidden" /f >/dev/null 2>&1
"$WINE" reg add "$APPROVED" /v "IT Vision Desk" /t REG_BINARY /d 020000000000000000000000 /f >/dev/null 2>&1
"$WINE" reg add "$RUN" /v "Other App" /d 'C:\other.exe' /f >/dev/null 2>&1
data="$(unix "$localappdata_w\\sn.itvision.desk")"
mkdir -p "$data" && echo cache >"$data/cache.sqlite3"
check "autostart value present before the uninstall" regval "$RUN" "IT Vision Desk"
t0=$(date +%s)
run_wine "$work/wine.trace" "$instdir/Uninstall.exe" /S
# The uninstaller re-runs itself from a temp copy and returns at once: wait for Wine to idle.
"$WINESERVER" -w
uninstall_time=$(( $(date +%s) - t0 ))
expect "uninstaller exit code" "$rc" 0
check "install dir removed" test ! -e "$instdir"
check "Start-menu shortcut removed" test ! -e "$lnk"
check "itv: protocol key removed" nokey "$PROTO"
check "AUMID key removed" nokey "$AUMID_KEY"
check "uninstall entry removed" nokey "$UNINST"
check "autostart Run value removed" novalue "$RUN" "IT Vision Desk"
check "autostart StartupApproved value removed" novalue "$APPROVED" "IT Vision Desk"
check "other Run values kept" regval "$RUN" "Other App"
check "user data kept (%LOCALAPPDATA%\\sn.itvision.desk)" test -f "$data/cache.sqlite3"

step "summary"
printf '  %-34s %s\n' "installer" "$(du -h "$setup" | cut -f1) ($(stat -c %s "$setup") bytes)"
printf '  %-34s %s\n' "$( [ "$standin" = yes ] && echo 'itv-desk-app.exe (STAND-IN)' || echo itv-desk-app.exe)" "$(du -h "$exe" | cut -f1)"
echo "  makensis $makensis_time s, first install $install_time s, uninstall $uninstall_time s (with the wait for Wine)"
[ "$standin" = no ] || echo "  !!! tested with a STAND-IN EXE, not the app: pass the real one (or build it) for the real installer !!!"
echo "  $passed passed, $failed failed, $skipped skipped"
# At least every check of the run without the stand-in's extras.
[ "$failed" -eq 0 ] && [ "$passed" -ge 40 ]
