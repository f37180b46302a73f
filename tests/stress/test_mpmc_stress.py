"""MPMC ring under native producers and consumers: per-producer FIFO (each
consumer sees each producer's records in increasing order), intact payloads,
and at every slice end no loss and no duplication (per producer, the count
and a 64-bit hash-sum of the records consumed equal those produced).
Counters start below 2^64 so the positions wrap in the first slice."""

from __future__ import annotations

import pytest

from velox_testing.stress import StressMpmc

pytestmark = pytest.mark.stress

SLICE_SECONDS = 0.25


@pytest.mark.parametrize(("capacity", "producers", "consumers"),
                         [(2, 2, 2), (64, 2, 2), (1024, 3, 1), (16, 1, 3)], ids=lambda v: str(v))
def test_mpmc_fifo_no_loss(capacity: int, producers: int, consumers: int, stress_tally, stress_seed: int) -> None:
    start = 2**64 - 3 * capacity - 5
    tally = stress_tally(capacity=capacity, producers=producers, consumers=consumers, start_index=start)
    driver = StressMpmc(capacity, producers=producers, consumers=consumers, start_index=start, seed=stress_seed)
    while tally.time_left() > 0:
        tally.add(driver.run(seconds=min(SLICE_SECONDS, max(tally.time_left(), 0.01))))
        if tally.violations:
            break
    assert tally.ops > 0, "the driver did no work"
    assert tally.violations == 0, tally.failure_message()
