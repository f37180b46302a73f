#!/usr/bin/env bash
# ThreadSanitizer run of velox's native stress drivers.
#
# Builds the standalone stress driver (tests/support/native/stress_main.c and
# the "stress" source set of velox/_native/_build.py) with the "tsan" flag
# profile (gcc -fsanitize=thread -O1 -g), and runs every driver
# (SPSC ring across capacities through the 2^64 wrap, order book from two
# threads, MPMC 2x2, the history recorder) for the given time. TSan sees
# ordering races that x86's strong memory model hides from plain stress runs.
#
#   ci/tsan.sh [SECONDS] [SEED]      (defaults: 5 s, seed 1)
#
# Exit status: 0 clean; 1 an invariant failed; 66 TSan reported a race; 2 bad
# arguments or build failure. Suppressions: ci/tsan.supp (each with a reason).
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

seconds="${1:-5}"
seed="${2:-1}"
case "$seconds$seed" in
    *[!0-9.]*) echo "usage: ci/tsan.sh [SECONDS] [SEED] (numbers; got '$seconds' '$seed')" >&2; exit 2 ;;
esac

echo "+ python velox/_native/_build.py exe stress tsan"
exe=$(python3 velox/_native/_build.py exe stress tsan) || exit 2

export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/ci/tsan.supp ${TSAN_OPTIONS:-}"
echo "+ stress_main --driver all --seconds $seconds --seed $seed (TSan)"
"$exe" --driver all --seconds "$seconds" --seed "$seed"
