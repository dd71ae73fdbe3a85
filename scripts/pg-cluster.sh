#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benches, from Debian's `postgresql`
# package: `initdb` in a fresh temporary directory, run as the `postgres` user when
# started as root (PostgreSQL refuses to run as root), listening on 127.0.0.1 only.
#
#   eval "$(bash scripts/pg-cluster.sh start)"   # exports ITV_TEST_DATABASE_URL, ITV_PG_DIR
#   bash scripts/pg-cluster.sh stop "$ITV_PG_DIR"
#
# The cluster trusts local connections: it holds nothing but test data and dies with
# its directory.
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "pg-cluster: no PostgreSQL server (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    dir=$(mktemp -d /tmp/itv-pg.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    port=${ITV_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
    as_owner "$bin/initdb" -D "$dir/data" -U itv --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # Enough connections for the test binaries running side by side (each test server
    # has a pool and a listener); fsync stays on, as in production.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=400 -c shared_buffers=128MB" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "export ITV_PG_DIR=$dir"
    echo "export ITV_TEST_DATABASE_URL=postgres://itv@127.0.0.1:$port/postgres"
    ;;
  stop)
    dir=${2:?the directory printed by start}
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
