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
