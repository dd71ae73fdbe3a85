#!/usr/bin/env bash
# Installs what the project needs, on Debian 12 or Ubuntu 22.04+. Shared by scripts/run.sh
# and .ci/run, so that running the system and testing it never need different machines.
#
#   bash scripts/setup.sh run   build and run the system: the Tauri build packages, Rust and
#                               Node checked, the UI's npm packages
#   bash scripts/setup.sh ci    everything the tests need too: Xvfb, WebDriver, D-Bus,
#                               gnome-keyring, Chromium, PostgreSQL, the Windows cross
#                               toolchain and Wine, tauri-driver, the portal tests' npm packages
#
# Idempotent and quick when everything is there: one dpkg-query, and `apt-get update` +
# `apt-get install` only for what is missing; `npm ci` only where node_modules is missing or
# older than package-lock.json. Uses sudo when not root. Any other system: says what to
# install and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

level="${1:-run}"
case "$level" in
  run | ci) ;;
  *) echo "usage: bash scripts/setup.sh [run|ci]" >&2; exit 2 ;;
esac

# Building and running the system (Tauri 2 on Linux: WebKitGTK 4.1 and friends).
RUN_PACKAGES=(
  build-essential pkg-config curl wget file libssl-dev
  libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
)
# The tests: the desktop app under Xvfb + WebDriver, its private D-Bus and keyring, the
# portal in Chromium, quote PDFs (pdftotext), the AppImage (mksquashfs), the PostgreSQL
# store, and the Windows build (mingw-w64 cross toolchain, Wine, NSIS).
# `a|b`: a, or b on releases where a is not a package of its own (dbus-daemon was split
# out of dbus in Debian 12 and Ubuntu 24.04).
CI_PACKAGES=(
  xvfb xauth x11-utils webkit2gtk-driver imagemagick fonts-noto-color-emoji fonts-dejavu-core
  dbus 'dbus-daemon|dbus' gnome-keyring libsecret-tools
  chromium poppler-utils python3-venv squashfs-tools
  postgresql
  gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 binutils-mingw-w64-x86-64 wine64 nsis
)
WINDOWS_TARGET=x86_64-pc-windows-gnu
RUST_MIN=1.85   # the workspace's rust-version
NODE_MIN=20.19  # Vite 7's minimum

step() { printf '::: %s\n' "$*"; }
fail() { printf 'setup: %s\n' "$*" >&2; exit 1; }
started=$SECONDS

packages=("${RUN_PACKAGES[@]}")
[ "$level" = ci ] && packages+=("${CI_PACKAGES[@]}")

# --- the system -------------------------------------------------------------------------
os_id="" os_like="" os_version="" os_name="this system"
if [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  . /etc/os-release
  os_id="${ID:-}" os_like="${ID_LIKE:-}" os_version="${VERSION_ID:-}" os_name="${PRETTY_NAME:-$os_id}"
fi
case " $os_id $os_like " in
  *" ubuntu "*) family=ubuntu ;;
  *" debian "*) family=debian ;;
  *) family="" ;;
esac
if [ -z "$family" ] || ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  cat >&2 <<EOF
setup: $os_name is not Debian or Ubuntu: this script cannot install anything here.
Install by hand the equivalents of these Debian packages:
  ${packages[*]%%|*}
plus Rust >= $RUST_MIN (https://rustup.rs) and Node.js >= $NODE_MIN with npm (https://nodejs.org).
Tauri's own list per distribution: https://v2.tauri.app/start/prerequisites/
EOF
  [ "$level" = run ] ||
    echo "For the tests also: rustup target add $WINDOWS_TARGET; cargo install tauri-driver --locked" >&2
  exit 1
fi
case "$os_id:$os_version" in
  debian:1[2-9]* | debian: | ubuntu:2[2-9].* | ubuntu:[3-9]*) ;;
  debian:* | ubuntu:*) fail "$os_name is too old: Debian 12 or Ubuntu 22.04 at least (for libwebkit2gtk-4.1-dev)" ;;
  *) echo "setup: $os_name is not Debian or Ubuntu itself; trying its $family packages" ;;
esac

chromium_note=""
if [ "$family" = ubuntu ]; then
  # Ubuntu's `chromium` is a stub that installs the snap: not a package the tests can use.
  for i in "${!packages[@]}"; do [ "${packages[i]}" = chromium ] && unset 'packages[i]'; done
  packages=("${packages[@]}")
  if [ "$level" = ci ] && ! [ -x "${CHROMIUM_PATH:-/nonexistent}" ]; then
    chromium_note="Note: Ubuntu's chromium package is only a stub for the snap, so it is not
installed here. The portal tests need a real Chromium: \`snap install chromium\` (where
snapd runs) then CHROMIUM_PATH=/snap/bin/chromium, or Chrome/Chromium from another .deb and
CHROMIUM_PATH set to its binary."
  fi
fi

# --- Debian packages ----------------------------------------------------------------------
step "Debian packages ($level)"
names=()
for entry in "${packages[@]}"; do IFS='|' read -ra alts <<<"$entry"; names+=("${alts[@]}"); done
installed=" $(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${names[@]}" 2>/dev/null \
  | awk '$2 ~ /^.i/ {print $1}' | tr '\n' ' ' || true) "
missing=()
for entry in "${packages[@]}"; do
  found=""
  IFS='|' read -ra alts <<<"$entry"
  for p in "${alts[@]}"; do
    [[ "$installed" == *" $p "* ]] && { found=1; break; }
  done
  [ -n "$found" ] || missing+=("$entry")
done
if [ "${#missing[@]}" = 0 ]; then
  echo "all ${#packages[@]} installed"
else
  echo "installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || fail "missing packages, and not root and no sudo: run this as root once"
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  to_install=()
  for entry in "${missing[@]}"; do
    pick="${entry%%|*}"
    if [[ "$entry" == *"|"* ]]; then
      IFS='|' read -ra alts <<<"$entry"
      for p in "${alts[@]}"; do
        # A real package has a candidate version; a name nothing provides prints "(none)".
        if apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [^(]'; then pick=$p; break; fi
      done
    fi
    to_install+=("$pick")
  done
  $SUDO env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${to_install[@]}" >/dev/null
  echo "installed: ${to_install[*]}"
fi
[ -z "$chromium_note" ] || printf '%s\n' "$chromium_note"

# --- Rust and Node ------------------------------------------------------------------------
step "Rust and Node"
# rustup's default place, for a shell that has not read ~/.cargo/env yet.
[ -d "$HOME/.cargo/bin" ] && case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) PATH="$HOME/.cargo/bin:$PATH" ;; esac
# true when version $1 >= $2 (both as x.y[.z])
at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

problems=0
problem() { printf 'setup: %s\n' "$*" >&2; problems=$((problems + 1)); }
get_node="install Node.js 20 or 22 with npm from https://nodejs.org or NodeSource (https://github.com/nodesource/distributions); Debian 12's own nodejs is 18, too old"
if command -v cargo >/dev/null; then
  rust_version="$(cargo --version | awk '{print $2}')"
  at_least "$rust_version" "$RUST_MIN" || problem "Rust $rust_version is older than $RUST_MIN: rustup update stable"
else
  problem "cargo is missing: install Rust with rustup (curl -sSf https://sh.rustup.rs | sh -s -- -y), then open a new shell"
fi
if command -v node >/dev/null && command -v npm >/dev/null; then
  node_version="$(node --version)" && node_version="${node_version#v}"
  at_least "$node_version" "$NODE_MIN" || problem "Node.js $node_version is older than $NODE_MIN: $get_node"
else
  problem "node or npm is missing: $get_node"
fi
[ "$problems" = 0 ] || fail "install the above, then rerun: bash scripts/setup.sh $level"
echo "cargo $rust_version, node $node_version, npm $(npm --version)"

if [ "$level" = ci ]; then
  command -v rustup >/dev/null ||
    fail "the Windows cross build needs rustup (cargo is not from rustup): https://rustup.rs"
  if rustup target list --installed | grep -qx "$WINDOWS_TARGET"; then
    echo "Rust target $WINDOWS_TARGET: installed"
  else
    rustup target add "$WINDOWS_TARGET"
  fi

  step "tauri-driver"
  if command -v tauri-driver >/dev/null; then
    echo "installed: $(command -v tauri-driver)"
  else
    cargo install tauri-driver --locked --quiet
  fi
fi

# --- npm packages -------------------------------------------------------------------------
step "npm packages"
npm_dirs=(ui)
[ "$level" = ci ] && npm_dirs+=(tests/portal-e2e)
for dir in "${npm_dirs[@]}"; do
  # npm writes node_modules/.package-lock.json on every install: older than the lock file
  # means the lock changed since.
  stamp="$dir/node_modules/.package-lock.json"
  if [ -f "$stamp" ] && ! [ "$dir/package-lock.json" -nt "$stamp" ]; then
    echo "$dir: up to date"
  else
    echo "$dir: npm ci"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

step "setup ($level) done in $((SECONDS - started)) s"
