#!/usr/bin/env bash
# Runs the whole suite against real services: installs Debian's postgresql, redis-server,
# chromium and CJK fonts if missing, starts PostgreSQL and Redis on loopback in a temporary
# folder, runs pytest, and stops them again. Extra arguments go to pytest.
#
# KECHI_FAKETIME="<spec>" runs pytest under libfaketime (Debian's faketime) to prove no test
# depends on the wall clock: "+400d" (a year and a month from now) or "@2027-03-01 16:00:30" (an
# absolute start, read as UTC: just after midnight in Asia/Shanghai). Only the pytest process
# sees the fake time: redis-server --daemonize hangs under it, so the services start first, and
# tests/conftest.py starts rq workers and Chromium on real time (they get the pinned clock).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
FAKETIME_SPEC=${KECHI_FAKETIME:-}

need=()
[ -z "$FAKETIME_SPEC" ] || command -v faketime >/dev/null 2>&1 || need+=(faketime)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "Installing: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# scripts/test-all.sh installs first, then runs two of these side by side (dpkg has one lock).
[ -z "${KECHI_TEST_INSTALL_ONLY:-}" ] || exit 0

TMP=$(mktemp -d /tmp/kechi-test.XXXXXX)
chmod 755 "$TMP"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
free_port() { "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PGPORT=$(free_port)
REDISPORT=$(free_port)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cleanup() {
  as_pg "$PG_BIN/pg_ctl" -D "$TMP/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$TMP/redis.pid" ] && kill "$(cat "$TMP/redis.pid")" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$TMP/pg" "$TMP/pgsock"
[ "$(id -u)" = 0 ] && chown postgres "$TMP/pg" "$TMP/pgsock"
as_pg "$PG_BIN/initdb" -D "$TMP/pg" -U kechi --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$TMP/pg" -l "$TMP/pg/server.log" -w \
  -o "-p $PGPORT -k $TMP/pgsock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U kechi kechi_test

redis-server --port "$REDISPORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
  --dir "$TMP" --pidfile "$TMP/redis.pid" --logfile "$TMP/redis.log"

export KECHI_TEST_PG_URL="postgresql+psycopg://kechi@127.0.0.1:$PGPORT/kechi_test"
export KECHI_TEST_REDIS_URL="redis://127.0.0.1:$REDISPORT/0"
export KECHI_TEST_REQUIRE_SERVICES=1
export KECHI_INSTANCE_DIR="$TMP/instance"

if [ -n "$FAKETIME_SPEC" ]; then
  echo "pytest under faketime -f \"$FAKETIME_SPEC\" (TZ=UTC)"
  TZ=UTC faketime -f "$FAKETIME_SPEC" "$VENV/bin/python" -m pytest "$@"
else
  "$VENV/bin/python" -m pytest "$@"
fi
