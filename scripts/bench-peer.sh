#!/usr/bin/env bash
# Our feed against a Socket.io peer shaped like the seed's stack, in one run (issue 13):
# installs the peer's npm packages (crates/server/benches/peer), then runs the bench.
# Slow (a release build and 1,000 subscribers on each server): not part of the test command.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --prefix crates/server/benches/peer --no-audit --no-fund
cargo bench -p itv-server --bench peer_fanout -- "$@"
