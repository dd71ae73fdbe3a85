#!/usr/bin/env bash
# The server's tests again, on PostgreSQL: a throwaway cluster (scripts/pg-cluster.sh),
# every test server on a fresh database of its own there, and the multi-instance tests,
# which need one. Runs the test binaries `cargo test --workspace` built, so nothing is
# compiled twice. Part of scripts/test.sh; alone: bash scripts/test-postgres.sh
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash scripts/pg-cluster.sh start)"
trap 'bash scripts/pg-cluster.sh stop "$ITV_PG_DIR"' EXIT
export ITV_TEST_DATABASE_URL
# A test that needs PostgreSQL fails here rather than skipping.
export ITV_REQUIRE_POSTGRES=1
echo "cluster: $ITV_TEST_DATABASE_URL"

mapfile -t binaries < <(
  cargo test --workspace --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
# The power-cut test runs SQLite over a fault-injecting VFS: nothing of it is PostgreSQL.
SQLITE_ONLY = {"power_cut"}
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") \
            and m["target"]["kind"] == ["test"] and "/crates/server/" in m["manifest_path"] \
            and m["target"]["name"] not in SQLITE_ONLY:
        print(m["executable"])
'
)
[ "${#binaries[@]}" -gt 0 ] || { echo "test-postgres: no server test binary found" >&2; exit 1; }

failed=()
for bin in "${binaries[@]}"; do
  name=$(basename "$bin")
  printf '\n--- %s on PostgreSQL\n' "${name%-*}"
  if ! "$bin" -q; then failed+=("${name%-*}"); fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "test-postgres: failed on PostgreSQL: ${failed[*]}" >&2
  exit 1
fi
echo "server tests on PostgreSQL: ${#binaries[@]} binaries passed"
