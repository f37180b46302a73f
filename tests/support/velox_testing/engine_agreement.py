"""What the explorer finds on a fixed set of programs, as JSON: the compiled and the pure-Python runtime
must find exactly the same (tests/explore/test_compiled_runtime.py runs this module under both).

For each program: the verdict, executions, distinct graphs and blocked runs of ``check()``, the
outcome set under RC11 and SC, and for failing programs the failure's kind and replay token. The
programs cover every memory operation, both models, spin hints, retry loops with spurious failures
and with blocked iterations, a failure, and the shipping C ring and order book through the model build.

    python -m velox_testing.engine_agreement            # the runtime this process loads
    VELOX_EXPLORE_PURE=1 python -m velox_testing.engine_agreement
    python -m velox_testing.engine_agreement --mutant   # a deliberately broken runtime (see break_runtime)
"""

from __future__ import annotations

import argparse
import json
import sys

from velox import explore
from velox.explore import Atomic, Cell, fence, spawn, spin_hint

from . import shapes


def _poll(hint):
    """A reader that polls a flag at most three times, hinting between tries."""
    def test():
        f = Atomic(0, name="f")

        def reader():
            for i in range(3):
                if f.load("relaxed"):
                    return i
                hint()
            return -1

        r = spawn(reader)
        f.store(1, "relaxed")
        return r.join()

    return test


def _rmw_mix():
    """fetch_add, exchange, fences, a non-atomic cell published by release/acquire."""
    def test():
        a, flag = Atomic(0, name="a"), Atomic(0, name="flag")
        cell = Cell(0, name="cell")

        def w():
            cell.set(5)
            a.fetch_add(2, "relaxed")
            fence("release")
            flag.store(1, "relaxed")

        def r():
            seen = flag.load("relaxed")
            fence("acquire")
            old = a.exchange(7, "acq_rel")
            return seen, old, cell.get() if seen else None

        hw, hr = spawn(w), spawn(r)
        hw.join()
        return hr.join(), a.load("seq_cst")

    return test


def _await_flag():
    """An unbounded await loop: waiting, not a new family of graphs."""
    def test():
        f = Atomic(0, name="f")

        def waiter():
            while not f.load("acquire"):
                spin_hint()
            return 1

        h = spawn(waiter)
        f.store(1, "release")
        return h.join()

    return test


def programs() -> dict:
    from velox.explore import cmodel

    from . import explore_c

    core = cmodel.core()
    bid = explore_c.BID
    return {
        "sb-relaxed": shapes.sb("relaxed"),
        "sb-seq_cst": shapes.sb("seq_cst"),
        "mp-rel-acq": shapes.mp("release", "acquire"),
        "iriw-acquire": shapes.iriw("acquire"),
        "iriw-seq_cst": shapes.iriw("seq_cst"),
        "counter-weak-2x2": shapes.cas_counter(2, 2, True),
        "counter-strong-2x3": shapes.cas_counter(2, 3, False),
        "counter-load-at-head-3x1": shapes.load_at_head_counter(3, 1, False),
        "poll-spin_hint": _poll(spin_hint),
        "await-flag": _await_flag(),
        "rmw-fence-cell": _rmw_mix(),
        "c-ring-cap2": explore_c.ring_test(core, 2, 3),
        "c-book-same-level": explore_c.book_test(
            core, [[("add", bid, 101, 1)], [("add", bid, 101, 2)], [("remove", bid, 101, 1)]]),
    }


FAILING = {
    "mp-checked-relaxed": lambda: shapes.mp_checked("relaxed", "relaxed"),
}


def results() -> dict:
    out = {}
    for name, test in programs().items():
        stats = explore.check(test)
        row = {"complete": stats.complete, "executions": stats.executions, "distinct": stats.distinct,
               "blocked": stats.blocked, "incomplete_reason": stats.incomplete_reason}
        for model in ("rc11", "sc"):
            row[f"outcomes-{model}"] = sorted(repr(o) for o in explore.outcomes(test, model=model))
        out[name] = row
    for name, make in FAILING.items():
        try:
            explore.check(make())
            out[name] = {"failed": False}
        except explore.ExplorationFailure as exc:
            out[name] = {"failed": True, "kind": exc.kind, "token": exc.token, "executions": exc.executions}
    return out


def break_runtime() -> None:
    """A broken runtime: a new read never reads the oldest write it may read (``read_options`` drops the
    last option). Patched on the class, so it applies to the compiled runtime and to the pure one."""
    from velox.explore.rt.execution import Execution

    original = Execution.read_options

    def read_options(self, t, loc):
        options = original(self, t, loc)
        return options[:-1] if len(options) > 1 else options

    Execution.read_options = read_options


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mutant", action="store_true", help="run a deliberately broken runtime (see break_runtime)")
    args = ap.parse_args(argv)
    if args.mutant:
        break_runtime()
    from velox.explore.rt._compiled import compiled_modules, stale_modules

    found = results()
    json.dump({"compiled": list(compiled_modules()), "stale": list(stale_modules()), "results": found}, sys.stdout,
              indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
