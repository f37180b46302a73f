"""The shipping SPSC ring (vx_ring.c, model build) under the explorer:
exhaustive RC11 verdicts for a producer pushing 3 and a consumer popping 3."""

from __future__ import annotations

import pytest

from velox import explore
from velox_testing.explore_c import ring_test


@pytest.mark.parametrize("capacity", [1, 2, 4])
def test_spsc_push3_pop3(core, capacity):
    stats = explore.check(ring_test(core, capacity))
    assert stats.complete, stats


@pytest.mark.parametrize("capacity", [2, 4])
def test_spsc_batch(core, capacity):
    stats = explore.check(ring_test(core, capacity, batch=True))
    assert stats.complete, stats


def test_wraparound_at_2_64(core):
    # Indices start two below 2**64: the third push wraps tail, the third pop head.
    stats = explore.check(ring_test(core, 2, start=(1 << 64) - 2))
    assert stats.complete, stats
