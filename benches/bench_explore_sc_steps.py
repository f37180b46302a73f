"""velox.explore: the cost of seq_cst steps as one execution grows (the SC axiom checked per step).

Every seq_cst access and fence is a node of RC11's psc order, which must stay acyclic; the explorer
checks it as each event is added. This measures one execution of a body that performs N seq_cst
operations (one thread of N steps beside a second thread of a few, so that the graph has the
cross-thread edges a real test has), for growing N. With a per-step check that costs time linear
in the graph, the total grows about quadratically; a runaway seq_cst loop then reaches the step
bound (``VELOX_MAX_STEPS``, 2000 operations) in seconds.

    python benches/bench_explore_sc_steps.py                 # N = 100 200 400 800, both bodies
    python benches/bench_explore_sc_steps.py 2000 --body mixed

Bodies: ``loads-stores`` (a seq_cst store and a seq_cst load of one location, repeated) and
``mixed`` (stores, loads, fetch_add and seq_cst fences over two locations). Each line: N, seconds
for the one execution, seconds per step. Timings on a shared machine are noisy: quote them with
the load average.
"""

from __future__ import annotations

import argparse
import os
import time

from velox import explore
from velox.explore import Atomic, fence, spawn


def loads_stores(n: int):
    def test():
        x = Atomic(0, name="x")

        def other():
            x.store(-1, "seq_cst")

        h = spawn(other)
        h.join()
        for i in range(n // 2):
            x.store(i, "seq_cst")
            x.load("seq_cst")

    return test


def mixed(n: int):
    def test():
        x = Atomic(0, name="x")
        y = Atomic(0, name="y")

        def other():
            y.store(1, "seq_cst")
            fence("seq_cst")
            x.load("seq_cst")

        h = spawn(other)
        h.join()
        for i in range(n // 4):
            x.store(i, "seq_cst")
            y.load("seq_cst")
            x.fetch_add(1, "seq_cst")
            fence("seq_cst")

    return test


BODIES = {"loads-stores": loads_stores, "mixed": mixed}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("steps", nargs="*", type=int, default=[100, 200, 400, 800], help="seq_cst steps per execution")
    ap.add_argument("--body", choices=list(BODIES), action="append", help="bodies to run (default: all)")
    args = ap.parse_args(argv)
    os.environ.setdefault("VELOX_MAX_STEPS", str(max(args.steps) + 100))
    os.environ.setdefault("VELOX_EXPLORE_WATCHDOG", "3600")  # time the slow cases instead of calling them hangs
    print(f"load average: {os.getloadavg()}", flush=True)
    for body in args.body or list(BODIES):
        for n in args.steps:
            test = BODIES[body](n)
            t0 = time.perf_counter()
            try:
                explored = explore.check(test).explored
            except explore.ExplorationFailure as exc:
                explored = f"failed ({exc.kind})"
            wall = time.perf_counter() - t0
            print(f"{body:14s} {n:6d} seq_cst steps  {explored} executions  {wall:9.3f} s  "
                  f"{wall / max(n, 1) * 1e3:8.3f} ms/step", flush=True)
    print(f"load average: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
