#!/usr/bin/env bash
# Draws the app icon (an eye/lens on navy, red alert dot) with ImageMagick and writes every size
# tauri.conf.json lists, plus the tray icon. Source of truth for icons/: rerun after a change.
set -euo pipefail
cd "$(dirname "$0")"
convert -size 512x512 xc:none \
  -fill '#10233f' -draw 'roundrectangle 16,16 496,496 96,96' \
  -fill white -draw 'ellipse 256,256 196,112 0,360' \
  -fill '#0b5cad' -draw 'circle 256,256 256,172' \
  -fill '#10233f' -draw 'circle 256,256 256,218' \
  -fill white -draw 'circle 284,226 284,210' \
  -fill '#d92d20' -draw 'circle 420,92 420,58' \
  PNG32:icon.png
convert icon.png -resize 32x32 PNG32:32x32.png
convert icon.png -resize 128x128 PNG32:128x128.png
convert icon.png -resize 256x256 PNG32:128x128@2x.png
convert icon.png -resize 64x64 PNG32:tray.png
# macOS menu bar: a template image (black on transparent; the system tints it for light and
# dark menu bars): the eye's outline with its pupil, without the navy square or the red dot.
convert -size 64x64 xc:none \
  -fill black -draw 'ellipse 32,32 29,17 0,360' \
  -fill none -stroke none \
  \( -size 64x64 xc:none -fill white -draw 'circle 32,32 32,21' \) -compose DstOut -composite \
  -compose Over -fill black -draw 'circle 32,32 32,26' \
  PNG32:tray-template.png
# Windows (.ico: the .exe's resource file, the installer) and macOS (.icns: the .app bundle),
# by Tauri's own generator from the npm package the UI already depends on.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npx --prefix ../ui tauri icon icon.png -o "$out" >/dev/null
cp "$out/icon.ico" "$out/icon.icns" .
