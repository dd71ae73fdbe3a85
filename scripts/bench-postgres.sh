#!/usr/bin/env bash
# The PostgreSQL bench (crates/server/benches/instances.rs): two instances on one
# database against one SQLite instance, on a throwaway cluster that it starts and
# removes. Not part of the test command. Arguments go to the bench (`--quick`).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/pg-cluster.sh start)"
trap 'bash scripts/pg-cluster.sh stop "$ITV_PG_DIR"' EXIT
export ITV_TEST_DATABASE_URL
cargo bench -p itv-server --bench instances -- "$@"
