"""A short native recording of the order book, checked in the default gate:
2 C threads (GIL released), short windows on shared levels, every window
linearizable against velox.models.book. The long version is
tests/stress/test_book_lincheck_stress.py (-m stress); the proof that this
gate fails on a non-atomic update is in tests/stress/test_stress_catches_mutants.py."""

from __future__ import annotations

import random

from velox import lincheck
from velox_testing.stress import BookHistoryRecorder


def test_book_windows_linearizable() -> None:
    seed = random.SystemRandom().randrange(1, 2**63)
    print(f"seed {seed}")
    rec = BookHistoryRecorder(threads=2, levels=2, ops_per_window=16, max_qty=3, seed=seed)
    t = lincheck.record_and_check(rec, 300)
    assert t.windows == 300 and t.operations == 300 * 32
    assert t.violations == 0 and t.unknown == 0, f"seed {seed}\n{t.first_report}"


def test_recorder_rejects_bad_arguments() -> None:
    import pytest

    with pytest.raises(ValueError):
        BookHistoryRecorder(threads=0)
    with pytest.raises(ValueError):
        BookHistoryRecorder(levels=0)
    rec = BookHistoryRecorder()
    with pytest.raises(ValueError):
        rec.record(0)
    with pytest.raises(TypeError):
        rec.record(1.5)
