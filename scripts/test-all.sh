#!/usr/bin/env bash
# The whole suite on both cores: the test files dealt by weight into two halves, each run by
# scripts/test.sh with its own PostgreSQL and Redis, side by side (one pytest uses one core;
# the suite would take about 18 minutes in one). The halves' reports follow one another; the
# exit code is the worse of the two. Extra arguments go to both pytest runs.
set -uo pipefail
cd "$(dirname "$0")/.."

KECHI_TEST_INSTALL_ONLY=1 bash scripts/test.sh || exit $?

# Dealt by weight, heaviest first, each to the lighter half: a file's seconds from
# scripts/test-weights.txt plus 0.25 s a test (dealing alternately put the four slow runs of
# test_malformed_input and the report XSS journey in one half, 15 min against 11).
split=$("${VENV:-.venv}/bin/python" - <<'PY'
import glob, re
weights = {}
for line in open("scripts/test-weights.txt", encoding="utf-8"):
    if line.strip() and not line.startswith("#"):
        seconds, path = line.split()
        weights[path] = float(seconds)
files = sorted(glob.glob("tests/browser/test_*.py") + glob.glob("tests/test_*.py"))
def weight(path):
    tests = len(re.findall(r"^def test_|^    def test_", open(path, encoding="utf-8").read(), re.M))
    return weights.get(path, 0.0) + 0.25 * tests
halves, totals = ([], []), [0.0, 0.0]
for path in sorted(files, key=lambda p: (-weight(p), p)):
    lighter = 0 if totals[0] <= totals[1] else 1
    halves[lighter].append(path)
    totals[lighter] += weight(path)
for half in halves:
    print(" ".join(sorted(half)))
PY
) || exit $?
read -r -a half_a <<<"$(sed -n 1p <<<"$split")"
read -r -a half_b <<<"$(sed -n 2p <<<"$split")"

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
