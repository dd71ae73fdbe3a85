#!/usr/bin/env bash
# All the project's tests: lints, Rust unit/integration/system tests (real server,
# real SQLite, then the server's again on a throwaway PostgreSQL cluster, private D-Bus,
# gnome-keyring), the desktop UI's unit tests, the
# portal in headless Chromium and the desktop app as a real window under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n::: %s\n' "$*"; }

step "desktop UI build (src-tauri embeds ui/dist)"
(cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
step "format"
cargo fmt --all -- --check
step "clippy"
cargo clippy --workspace --all-targets -- -D warnings
step "Rust tests"
cargo test --workspace
step "server tests again on PostgreSQL, and the multi-instance tests"
bash scripts/test-postgres.sh
step "desktop UI unit tests and IPC type drift"
(cd ui && npm test && npx tsc --noEmit)
step "client portal end-to-end (headless Chromium)"
bash tests/portal-e2e/run.sh
step "desktop app end-to-end (Xvfb + WebDriver)"
bash tests/desktop-e2e/run.sh
step "all tests passed"
