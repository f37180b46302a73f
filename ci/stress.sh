#!/usr/bin/env bash
# The overnight stress suite: every shard of tests/stress under pytest-xdist.
#
#   ci/stress.sh [SECONDS_PER_TEST] [JOBS]     (defaults: 60 s, auto)
#
# Each test runs SECONDS_PER_TEST (VELOX_STRESS_SECONDS); shards spread over
# JOBS xdist workers. Live progress lines (ops/s, checks passed, violations)
# are appended to $VELOX_STRESS_LOG (default: a file under /tmp, printed
# first) and followed here, since xdist hides worker output; pytest prints the
# per-test totals table ("velox stress summary") at the end. Pin a seed with
# VELOX_STRESS_SEED; every failure prints the seed and the command that
# reproduces it. Exit status: pytest's (5, "no tests ran", is a failure).
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

seconds="${1:-60}"
jobs="${2:-auto}"
case "$seconds" in
    ''|*[!0-9.]*) echo "usage: ci/stress.sh [SECONDS_PER_TEST] [JOBS] (got seconds '$seconds')" >&2; exit 2 ;;
esac

export VELOX_STRESS_SECONDS="$seconds"
export VELOX_STRESS_LOG="${VELOX_STRESS_LOG:-${TMPDIR:-/tmp}/velox-stress-$(date +%Y%m%dT%H%M%S).log}"
: > "$VELOX_STRESS_LOG"
echo "velox stress: $seconds s per test, $jobs workers, progress log $VELOX_STRESS_LOG"

tail -n +1 -f "$VELOX_STRESS_LOG" &
tail_pid=$!
trap 'kill "$tail_pid" 2>/dev/null || true' EXIT

set +e
python -m pytest -m stress tests/stress -n "$jobs" -p no:cacheprovider -q -ra
rc=$?
set -e
exit $rc
