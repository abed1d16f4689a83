#!/usr/bin/env bash
# The whole suite on both cores: the test files dealt alternately into two halves, each run by
# scripts/test.sh with its own PostgreSQL and Redis, side by side (one pytest uses one core;
# the suite would take about 18 minutes in one). The halves' reports follow one another; the
# exit code is the worse of the two. Extra arguments go to both pytest runs.
set -uo pipefail
cd "$(dirname "$0")/.."

KECHI_TEST_INSTALL_ONLY=1 bash scripts/test.sh || exit $?

mapfile -t files < <(ls tests/browser/test_*.py tests/test_*.py)
half_a=()
half_b=()
for i in "${!files[@]}"; do
  if (( i % 2 == 0 )); then half_a+=("${files[$i]}"); else half_b+=("${files[$i]}"); fi
done

logs=$(mktemp -d /tmp/kechi-test-logs.XXXXXX)
trap 'rm -rf "$logs"' EXIT
bash scripts/test.sh "${half_a[@]}" "$@" >"$logs/a.log" 2>&1 &
pid_a=$!
bash scripts/test.sh "${half_b[@]}" "$@" >"$logs/b.log" 2>&1 &
pid_b=$!
wait "$pid_a"; status_a=$?
wait "$pid_b"; status_b=$?

echo "=== first half (${#half_a[@]} files) ==="
cat "$logs/a.log"
echo
echo "=== second half (${#half_b[@]} files) ==="
cat "$logs/b.log"
exit $(( status_a > status_b ? status_a : status_b ))
