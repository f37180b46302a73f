"""Linearizability of the order book's add/remove/depth on native threads.

The recorder runs short windows (ops_per_window operations per thread,
between barriers, each call and return stamped with the fenced TSC) on a few
shared levels; each window is checked by velox.lincheck (Wing-Gong with
memoization, partitioned by level) against velox.models.book from the
quiescent snapshot taken before it. See docs/lincheck.md for what this does
and does not cover (best prices are checked at quiescence by the book
driver, since the native best-price hint may lag by design)."""

from __future__ import annotations

import pytest

from velox import lincheck
from velox_testing.stress import BookHistoryRecorder

pytestmark = pytest.mark.stress

WINDOWS_PER_BATCH = 200


@pytest.mark.parametrize(("threads", "levels", "per_window"), [(2, 1, 16), (2, 2, 24), (3, 4, 16)],
                         ids=lambda v: str(v))
def test_book_linearizable(threads: int, levels: int, per_window: int, stress_tally, stress_seed: int,
                           tmp_path) -> None:
    tally = stress_tally(threads=threads, levels=levels, ops_per_window=per_window)
    rec = BookHistoryRecorder(threads=threads, levels=levels, ops_per_window=per_window, max_qty=3,
                              seed=stress_seed)
    totals = lincheck.WindowTotals()
    while tally.time_left() > 0:
        before = (totals.operations, totals.violations + totals.unknown, totals.timeouts)
        lincheck.record_and_check(rec, WINDOWS_PER_BATCH, totals)
        bad = totals.violations + totals.unknown - before[1]
        # every recorded operation is checked (it must fit a linearization)
        tally.add({"ops": totals.operations - before[0], "checks": totals.operations - before[0], "violations": bad,
                   "timeouts": totals.timeouts - before[2], "first_violation": totals.first_report})
        tally.extra["windows"] = totals.windows
        if bad:
            break
    assert totals.windows > 0
    timeline = ""
    if totals.first_html:
        path = tmp_path / "lincheck-window.html"
        path.write_text(totals.first_html)
        timeline = f"\ntimeline of the first offending window: {path}"
    assert totals.violations == 0 and totals.unknown == 0, (
        tally.failure_message() + timeline + "\n\n" + "\n\n".join(totals.reports))
