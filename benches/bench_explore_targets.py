"""velox.explore on the workloads that used to have no verdict: executions, distinct graphs, time.

Targets: a counter incremented by compare-exchange retry loops (weak and strong, 2 threads x 3
increments and 3 x 2), the shipping order book's C code with three threads (the two scenarios of
tests/explore_c/test_book_explored.py), and the shipping SPSC ring at capacity 2 (3 items).

It uses only the public API and the test bodies of velox_testing (tests/support, put on the path
with PYTHONPATH), so the same file measures an older checkout of velox beside this one (run it with
that checkout's interpreter and ``--cap``, since the older engine may not finish):

    PYTHONPATH=tests/support python benches/bench_explore_targets.py          # every target, no cap
    PYTHONPATH=tests/support python benches/bench_explore_targets.py --cap 40000 counter-weak-3x2
    PYTHONPATH=tests/support python benches/bench_explore_targets.py --json out.json
    PYTHONPATH=tests/support python benches/bench_explore_targets.py --workers 2   # check(..., workers=2)

Each line: executions (complete ones), distinct graphs, blocked/pruned runs, wall time, verdict.
Timings on a shared machine are noisy: quote them with the load average, beside a peer run.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from velox import explore
from velox.explore import Atomic, spawn


def counter(threads: int, incs: int, weak: bool):
    def test():
        c = Atomic(0, name="c")

        def worker():
            for _ in range(incs):
                cur = c.load("relaxed")
                while True:
                    if weak:
                        ok, cur = c.compare_exchange_weak(cur, cur + 1, "relaxed", "relaxed")
                    else:
                        ok, cur = c.compare_exchange_strong(cur, cur + 1, "relaxed", "relaxed")
                    if ok:
                        break

        hs = [spawn(worker) for _ in range(threads)]
        for h in hs:
            h.join()
        assert c.load("relaxed") == threads * incs

    return test


def _core():
    from velox.explore import cmodel

    return cmodel.core()


def book(name: str):
    from velox_testing import explore_c as harness_c

    bid = harness_c.BID
    scenarios = {
        "same": [[("add", bid, 101, 1)], [("add", bid, 101, 2)], [("remove", bid, 101, 1)]],
        "neighbouring": [[("add", bid, 101, 1)], [("add", bid, 102, 1)], [("add", bid, 100, 1)]],
    }
    return harness_c.book_test(_core(), scenarios[name])


def ring(capacity: int):
    from velox_testing import explore_c as harness_c

    return harness_c.ring_test(_core(), capacity, 3)


TARGETS = {
    "counter-weak-2x3": lambda: counter(2, 3, True),
    "counter-weak-3x2": lambda: counter(3, 2, True),
    "counter-strong-3x2": lambda: counter(3, 2, False),
    "book-3threads-same-level": lambda: book("same"),
    "book-3threads-neighbouring": lambda: book("neighbouring"),
    "ring-cap2": lambda: ring(2),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("targets", nargs="*", help=f"targets to run (default: all): {', '.join(TARGETS)}")
    ap.add_argument("--cap", type=int, default=None, help="stop each target after this many executions "
                    "(the verdict then says INCOMPLETE)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per target; the median time is reported")
    ap.add_argument("--workers", type=int, default=None,
                    help="check(..., workers=N): spread each exploration over N processes (default: one process; "
                         "an older velox without the option takes only the default)")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args(argv)
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        ap.error(f"unknown targets {unknown}; choose from {list(TARGETS)}")
    if args.cap is not None and args.cap < 1:
        ap.error("--cap must be >= 1")
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    if args.workers is not None and args.workers < 1:
        ap.error("--workers must be >= 1")
    extra = {} if args.workers is None else {"workers": args.workers}
    rows = []
    print(f"load average: {os.getloadavg()}", flush=True)
    for name in args.targets or list(TARGETS):
        times = []
        for _ in range(args.repeat):
            test = TARGETS[name]()
            t0 = time.perf_counter()
            stats = explore.check(test, max_executions=args.cap, **extra)
            times.append(time.perf_counter() - t0)
        times.sort()
        wall = times[len(times) // 2]
        verdict = "COMPLETE" if stats.complete else f"INCOMPLETE ({stats.incomplete_reason})"
        row = {"target": name, "executions": stats.executions, "distinct": stats.distinct,
               "blocked": stats.blocked, "seconds": round(wall, 3), "complete": stats.complete,
               "verdict": verdict, "exec_per_s": round(stats.explored / wall) if wall else None,
               "workers": getattr(stats, "workers", 1)}
        rows.append(row)
        spread = f" ({row['workers']} processes)" if row["workers"] > 1 else ""
        print(f"{name:28s} {stats.executions:>9,} exec {stats.distinct:>9,} distinct {stats.blocked:>8,} blocked "
              f"{wall:9.3f} s  {row['exec_per_s']:>6,}/s  {verdict}{spread}", flush=True)
    print(f"load average: {os.getloadavg()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"load": os.getloadavg(), "rows": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
