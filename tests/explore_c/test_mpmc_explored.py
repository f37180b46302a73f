"""The shipping MPMC ring (vx_mpmc.c, Vyukov's bounded queue, model build)
under the explorer: no loss, no duplication, per-producer order."""

from __future__ import annotations

import pytest

from velox import explore
from velox_testing.explore_c import mpmc_test


@pytest.mark.parametrize("producers,consumers", [([2], 1), ([1, 1], 1)], ids=["1p2-1c", "2p1-1c"])
def test_mpmc_capacity2(core, producers, consumers):
    stats = explore.check(mpmc_test(core, 2, producers, consumers))
    assert stats.complete, stats
    print(stats)


@pytest.mark.exhaustive
def test_mpmc_two_consumers_exhaustive(core):
    # ~300,000 executions, ~9 minutes on this machine: too long for the gate, and a complete
    # exploration cannot honour a stress budget, so it has its own marker (-m exhaustive).
    stats = explore.check(mpmc_test(core, 2, [2], 2))
    assert stats.complete, stats
