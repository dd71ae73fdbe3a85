#!/usr/bin/env bash
# Builds the AppImage of the desktop app without the Tauri bundler's AppImage step, which
# downloads linuxdeploy and AppRun from GitHub (unreachable on our build machines).
#
#   1. `tauri build --bundles deb` (the Tauri CLI from npm): release binary and .deb;
#   2. an AppDir made of the .deb's files, its .desktop entry and icon, and an AppRun;
#   3. the AppImage type 2 runtime, taken from the `appimage` crate on crates.io
#      (checksum pinned below, the one the crates.io index lists);
#   4. mksquashfs (Debian squashfs-tools) of the AppDir, appended to the runtime.
#
# What this AppImage does not carry: GTK and WebKitGTK. linuxdeploy's gtk plugin would copy
# them in; here the target needs libwebkit2gtk-4.1-0 installed (as the .deb declares).
# Without FUSE, run it with --appimage-extract-and-run.
#
# Usage: bash scripts/appimage.sh [--skip-build]
# Output: target/release/bundle/appimage/IT_Vision_Desk-<version>-x86_64.AppImage
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

RUNTIME_CRATE=https://static.crates.io/crates/appimage/appimage-0.4.0.crate
RUNTIME_CRATE_SHA256=567a4da6b94a2ac20a27620933c80fc14cf475b5fe7d7b137d20eb237d6b1920

command -v mksquashfs >/dev/null || { echo "missing mksquashfs (apt-get install squashfs-tools)"; exit 2; }

if [ "${1:-}" != --skip-build ]; then
  (cd ui && { [ -d node_modules ] || npm ci; })
  ui/node_modules/.bin/tauri build --bundles deb
fi

version="$(sed -n 's/^ *"version": "\(.*\)",$/\1/p' src-tauri/tauri.conf.json | head -1)"
deb="$(ls -t target/release/bundle/deb/*_"$version"_amd64.deb | head -1)"
out_dir=target/release/bundle/appimage
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "AppDir from $deb"
appdir="$work/AppDir"
dpkg-deb -x "$deb" "$appdir"
desktop="$(ls "$appdir"/usr/share/applications/*.desktop | head -1)"
cp "$desktop" "$appdir/itv-desk-app.desktop"
cp icons/icon.png "$appdir/itv-desk-app.png"
ln -s itv-desk-app.png "$appdir/.DirIcon"
cat > "$appdir/AppRun" <<'EOF'
#!/bin/sh
# Starts the app from wherever the AppImage was mounted or extracted.
here="$(dirname "$(readlink -f "$0")")"
exec "$here/usr/bin/itv-desk-app" "$@"
EOF
chmod +x "$appdir/AppRun"

echo "AppImage runtime from $RUNTIME_CRATE"
curl -fsSL "$RUNTIME_CRATE" -o "$work/appimage.crate"
echo "$RUNTIME_CRATE_SHA256  $work/appimage.crate" | sha256sum -c --quiet
tar -xzf "$work/appimage.crate" -C "$work" appimage-0.4.0/assets/runtime-x86_64

# gzip: the compression every type 2 runtime reads.
mksquashfs "$appdir" "$work/app.squashfs" -root-owned -noappend -quiet -comp gzip
mkdir -p "$out_dir"
image="$out_dir/IT_Vision_Desk-$version-x86_64.AppImage"
cat "$work/appimage-0.4.0/assets/runtime-x86_64" "$work/app.squashfs" > "$image"
chmod 755 "$image"
echo "built $image ($(du -h "$image" | cut -f1))"
