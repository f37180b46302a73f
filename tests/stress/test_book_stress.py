"""Order book under contention from both cores.

Each native thread adds and removes quantities it owns on levels shared with
the other threads (bids on the lower half of the levels, asks on the upper
half: the input never crosses). Checked per operation (a removal of owned
quantity never underflows; a timeout changes nothing and is counted) and, at
every slice end (quiescence): the quantity of every level equals the sum of
what the threads own there (conserved quantity), the best bid and ask equal
a recomputation from the levels, and the spread is >= 0. Short slices make
many quiescent points.
"""

from __future__ import annotations

import pytest

from velox_testing.stress import StressBook

pytestmark = pytest.mark.stress

SLICE_SECONDS = 0.05


@pytest.mark.parametrize(("threads", "levels"), [(2, 4), (2, 64), (4, 16)], ids=lambda v: str(v))
def test_book_conserves_and_best_exact(threads: int, levels: int, stress_tally, stress_seed: int) -> None:
    tally = stress_tally(threads=threads, levels=levels, max_qty=5)
    driver = StressBook(threads=threads, levels=levels, max_qty=5, seed=stress_seed)
    while tally.time_left() > 0:
        tally.add(driver.run(seconds=min(SLICE_SECONDS, max(tally.time_left(), 0.01))))
        tally.extra["quiescent_points"] = tally.slices
        if tally.violations:
            break
    assert tally.ops > 0, "the driver did no work"
    assert tally.violations == 0, tally.failure_message()
