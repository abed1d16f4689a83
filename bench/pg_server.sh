#!/usr/bin/env bash
# A throwaway PostgreSQL for the benchmarks, started the way scripts/test.sh starts the test one
# (Debian's postgresql, initdb into a folder, loopback only), with production-like memory settings.
#
#   bash bench/pg_server.sh start [DIR]   # prints the DATABASE_URL to use
#   bash bench/pg_server.sh stop  [DIR]   # stops it and deletes DIR
#
# DIR defaults to /tmp/kechi-bench-pg. The server's settings are listed in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
DIR=${2:-/tmp/kechi-bench-pg}
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
  start)
    if [ -f "$DIR/port" ]; then
      echo "postgresql+psycopg://kechi@127.0.0.1:$(cat "$DIR/port")/kechi_bench"; exit 0
    fi
    mkdir -p "$DIR/data" "$DIR/sock"
    chmod 755 "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR/data" "$DIR/sock"
    PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_pg "$PG_BIN/initdb" -D "$DIR/data" -U kechi --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # fsync/full_page_writes off as in scripts/test.sh: they only speed up the load, not reads.
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/data/server.log" -w \
      -o "-p $PORT -k $DIR/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
          -c full_page_writes=off -c shared_buffers=2GB -c effective_cache_size=8GB \
          -c maintenance_work_mem=1GB -c max_wal_size=8GB -c checkpoint_timeout=30min" \
      start >/dev/null
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U kechi kechi_bench
    echo "$PORT" > "$DIR/port"
    echo "postgresql+psycopg://kechi@127.0.0.1:$PORT/kechi_bench"
    ;;
  stop)
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: $0 start|stop [DIR]" >&2; exit 2
    ;;
esac
