"""The native stress drivers reject bad arguments with clear errors (default
gate, fast): never a crash, a hang or a silent clamp. One tiny slice each
shows the counts come back in the documented shape."""

from __future__ import annotations

import pytest

from velox_testing.stress import BookHistoryRecorder, StressBook, StressMpmc, StressRing

KEYS = {"ops", "checks", "violations", "timeouts", "waits", "first_violation"}


@pytest.mark.parametrize(("make", "error", "match"), [
    (lambda: StressRing(3), ValueError, "power of two"),
    (lambda: StressRing(0), ValueError, "capacity"),
    (lambda: StressRing(4, max_batch=0), ValueError, "max_batch"),
    (lambda: StressRing(4, max_batch=65), ValueError, "max_batch"),
    (lambda: StressRing(4, start_index=-1), ValueError, "start_index"),
    (lambda: StressRing("4"), TypeError, "capacity"),
    (lambda: StressBook(threads=0), ValueError, "threads"),
    (lambda: StressBook(levels=1), ValueError, "levels"),
    (lambda: StressBook(max_qty=0), ValueError, "max_qty"),
    (lambda: StressMpmc(1), ValueError, "capacity"),
    (lambda: StressMpmc(6), ValueError, "power of two"),
    (lambda: StressMpmc(4, producers=0), ValueError, "producers"),
    (lambda: BookHistoryRecorder(ops_per_window=0), ValueError, "ops_per_window"),
])
def test_bad_construction(make, error, match) -> None:
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("seconds", [0, -1, 3601, "1", True])
def test_bad_slice_length(seconds) -> None:
    with pytest.raises(ValueError, match="seconds"):
        StressRing(4).run(seconds=seconds)


def test_bad_op_budget() -> None:
    with pytest.raises(ValueError, match="max_ops"):
        StressBook().run(max_ops=0)


@pytest.mark.parametrize("driver", [
    lambda: StressRing(8, start_index=2**64 - 20, max_batch=4, seed=1),
    lambda: StressBook(threads=2, levels=4, seed=1),
    lambda: StressMpmc(8, producers=2, consumers=2, start_index=2**64 - 20, seed=1),
])
def test_one_small_slice(driver) -> None:
    r = driver().run(max_ops=2000, seconds=5)
    assert set(r) == KEYS
    assert r["ops"] > 0 and r["checks"] > 0
    assert r["violations"] == 0, r["first_violation"]
