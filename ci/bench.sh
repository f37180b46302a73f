#!/usr/bin/env bash
# ci/bench.sh: every velox benchmark, results in one folder.
#
#   ci/bench.sh [OUTDIR] [velox bench options...]
#
# 1. `velox bench`: the native two-thread ring benchmark (busy-spinning,
#    pinned threads; per item, batched, the Lamport peer, and the core-to-core
#    round trip measured beside every sample);
# 2. `pytest benches/ --benchmark-only`: the Python-level benches with their
#    peers (SimpleQueue, deque, perf_counter_ns, ...).
#
# The machine is shared, so each step runs in its own session (setsid: its
# own autogroup, so the scheduler weighs it apart from the shell that started
# it) with that autogroup's nice lowered to -10. Lowering it needs root (or
# CAP_SYS_NICE); without it the step runs at normal priority and says so.
# The load average before and after each step goes into machine.txt: quote it
# beside the figures.
#
# OUTDIR defaults to bench-results/<UTC timestamp>. Extra arguments go to
# `velox bench` (for instance --records 5000000 --repeats 3 for a quick run).
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-bench-results/$(date -u +%Y%m%dT%H%M%SZ)}"
[ $# -gt 0 ] && shift
mkdir -p "$out"

note() { echo "ci/bench.sh: $*" | tee -a "$out/machine.txt" >&2; }

# raised NAME CMD...: run CMD in a new session whose autogroup nice is -10
# when permitted, noting in machine.txt which it was.
export BENCH_NOTES="$out/machine.txt"
raised() {
    setsid --wait bash -c '
        if echo -10 > /proc/self/autogroup 2>/dev/null; then
            msg="running with autogroup nice -10 ($(cat /proc/self/autogroup))"
        else
            msg="note: could not lower the autogroup nice (needs root or CAP_SYS_NICE, and a kernel"
            msg="$msg with autogroups); running at normal priority"
        fi
        echo "ci/bench.sh: $1: $msg" | tee -a "$BENCH_NOTES" >&2
        shift
        exec "$@"' bench-session "$@"
}

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host: $(uname -srm)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') x $(nproc)"
    echo "python: $(python -c 'import sys; print(sys.version.split()[0])')"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} > "$out/machine.txt"

note "load before the native ring benchmark: $(cut -d' ' -f1-3 /proc/loadavg)"
set +e
raised "velox bench" python -m velox bench --json "$out/ring.json" "$@" > "$out/ring.txt"
ring_rc=$?
set -e
cat "$out/ring.txt"
note "load after the native ring benchmark: $(cut -d' ' -f1-3 /proc/loadavg)"

note "load before the pytest-benchmark suite: $(cut -d' ' -f1-3 /proc/loadavg)"
set +e
raised "pytest benches" python -m pytest benches/ --benchmark-only -p no:cacheprovider \
    --benchmark-json "$out/pytest-benchmark.json" --bench-summary "$out/per-item.json" \
    > "$out/pytest-benchmark.txt" 2>&1
py_rc=$?
set -e
sed -n '/per-item summary/,/group.s reference;/p' "$out/pytest-benchmark.txt"
note "load after the pytest-benchmark suite: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "results in $out/ (ring.txt, ring.json, pytest-benchmark.txt/.json, per-item.json, machine.txt)"
if [ $ring_rc -ne 0 ] || [ $py_rc -ne 0 ]; then
    echo "ci/bench.sh: FAILED (velox bench exit $ring_rc, pytest exit $py_rc; see $out/)" >&2
    exit 1
fi
