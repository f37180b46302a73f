"""velox.explore: executions explored and time to a verdict, DPOR on vs off, same run.

For SB, MP and IRIW (relaxed / acquire and seq_cst variants) and the shipping SPSC
ring's C code in the model build (capacity 2 and 4, 3 items, as in
tests/explore_c/test_ring_explored.py), each
group times ``check(test)`` with reduction (the default) against the baseline
without it (every schedule, every reads-from, every mo position), the reference of
the group. A baseline that cannot finish in reasonable time is capped at
``BASELINE_CAP`` executions; its label then says INCOMPLETE and its time is a
lower bound. Labels carry the executions explored and the executions per second.

Run: ``python -m pytest benches/bench_explore.py --benchmark-only``.
For comparison, loom explores a capacity-2 ring of the same shape in 14,162 executions.
"""

from __future__ import annotations

import pytest

from velox import cmodel
from velox.explore import check
from velox_testing import explore_c as harness_c
from velox_testing import shapes

BASELINE_CAP = 2000

CASES = {
    "SB+rlx": lambda: shapes.sb("relaxed"),
    "SB+sc": lambda: shapes.sb("seq_cst"),
    "MP+rel+acq": lambda: shapes.mp("release", "acquire"),
    "IRIW+acq": lambda: shapes.iriw("acquire"),
    "IRIW+sc": lambda: shapes.iriw("seq_cst"),
    "ring-cap2": lambda: harness_c.ring_test(cmodel.core(), 2),
    "ring-cap4": lambda: harness_c.ring_test(cmodel.core(), 4),
}


@pytest.mark.parametrize("dpor", [True, False], ids=["dpor", "baseline"])
@pytest.mark.parametrize("case", list(CASES))
def test_explore(per_item, benchmark, case, dpor):
    benchmark.group = f"explore-{case}"
    test = CASES[case]()
    cap = None if dpor else BASELINE_CAP
    stats = check(test, dpor=dpor, max_executions=cap)  # also the warm-up run
    what = "complete" if stats.complete else f"INCOMPLETE at {cap}"
    label = (f"{'dpor' if dpor else 'no reduction'}: {stats.explored} exec ({stats.distinct} graphs, {what}), "
             f"{stats.executions_per_second:,.0f} exec/s")
    benchmark.extra_info.update(executions=stats.executions, blocked=stats.blocked, distinct=stats.distinct,
                                complete=stats.complete)
    print(f"\n{case}: {label}")
    per_item(lambda: check(test, dpor=dpor, max_executions=cap), items=1, label=label, reference=not dpor,
             setup=lambda: None, rounds=3 if not dpor else 10)
