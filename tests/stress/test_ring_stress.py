"""SPSC ring under native threads: FIFO, no loss, no duplication, intact
payloads, across capacities and through the 2^64 wrap of the indices.

One producer and one consumer C thread (GIL released) per slice; the ring's
counters start three laps below 2^64, so every run crosses the wrap in its
first slice. Shards (capacity x batch size) spread over pytest-xdist workers.
"""

from __future__ import annotations

import pytest

from velox_testing.stress import StressRing

pytestmark = pytest.mark.stress

CAPACITIES = [1, 4, 64, 1024, 65536]
BATCHES = [1, 32]
SLICE_SECONDS = 0.25


@pytest.mark.parametrize("max_batch", BATCHES, ids=lambda b: f"batch{b}")
@pytest.mark.parametrize("capacity", CAPACITIES, ids=lambda c: f"cap{c}")
def test_spsc_fifo_no_loss(capacity: int, max_batch: int, stress_tally, stress_seed: int) -> None:
    start = 2**64 - 3 * capacity - 5
    tally = stress_tally(capacity=capacity, max_batch=max_batch, start_index=start)
    driver = StressRing(capacity, start_index=start, max_batch=max_batch, seed=stress_seed)
    while tally.time_left() > 0:
        tally.add(driver.run(seconds=min(SLICE_SECONDS, max(tally.time_left(), 0.01))))
        if tally.violations:
            break
    assert tally.ops > 0, "the driver did no work"
    assert tally.violations == 0, tally.failure_message()
