"""BundleBuilder scenarios: size flushes, timeouts on an injected clock
(exactly at the deadline, not a tick before), a clock that goes backwards,
explicit flush, numbering, and the default TSC clock."""

from __future__ import annotations

import time

import pytest

import velox

T = velox.Transaction


class Clock:
    """A fake clock the test moves by hand."""

    def __init__(self, now: int = 0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def test_size_flush() -> None:
    b = velox.BundleBuilder(3, 1000, clock=Clock(5))
    assert b.push(T(id=0)) is None and b.push(T(id=1)) is None
    out = b.push(T(id=2))
    assert out.reason == "size" and [t.id for t in out.transactions] == [0, 1, 2]
    assert (out.seq, out.first_ts, out.flush_ts, len(out)) == (0, 5, 5, 3)
    assert b.pending == 0 and len(b) == 0


def test_defaults() -> None:
    b = velox.BundleBuilder()
    assert (b.max_txns, b.timeout_ns) == (16, 100_000)


def test_timeout_exactly_at_deadline() -> None:
    clock = Clock(100)
    b = velox.BundleBuilder(16, 50, clock=clock)
    b.push(T(id=0))
    clock.now = 120
    b.push(T(id=1))
    clock.now = 149
    assert b.poll() is None, "one tick before the oldest's deadline"
    clock.now = 150
    out = b.poll()
    assert out.reason == "timeout" and [t.id for t in out] == [0, 1]
    assert (out.first_ts, out.flush_ts) == (100, 150)
    assert b.poll() is None, "nothing waits any more"


def test_backward_clock_has_not_timed_out() -> None:
    clock = Clock(1_000)
    b = velox.BundleBuilder(16, 10, clock=clock)
    b.push(T(id=0))
    clock.now = 5
    assert b.poll() is None
    clock.now = 1_010
    assert b.poll().reason == "timeout"


def test_flush_and_numbering() -> None:
    b = velox.BundleBuilder(2, 10, clock=Clock())
    assert b.flush() is None, "nothing waits"
    b.push(T(id=0))
    first = b.flush()
    second = b.push(T(id=1)) or b.push(T(id=2))
    b.push(T(id=3))
    third = b.flush()
    assert [x.reason for x in (first, second, third)] == ["flush", "size", "flush"]
    assert [x.seq for x in (first, second, third)] == [0, 1, 2]
    assert [t.id for x in (first, second, third) for t in x] == [0, 1, 2, 3]


def test_clock_at_limits() -> None:
    top = (1 << 64) - 2
    clock = Clock(top - 5)
    b = velox.BundleBuilder(16, 5, clock=clock)
    b.push(T())
    clock.now = top - 1
    assert b.poll() is None
    clock.now = top
    assert b.poll().flush_ts == top


def test_huge_timeout_never_fires() -> None:
    clock = Clock(0)
    b = velox.BundleBuilder(16, (1 << 64) - 1, clock=clock)
    b.push(T())
    clock.now = (1 << 64) - 2
    assert b.poll() is None


def test_tsc_clock_times_out_after_a_sleep() -> None:
    # 100 us timeout; after sleeping 20 ms the oldest has certainly waited long enough.
    b = velox.BundleBuilder(16, 100_000)
    b.push(T(id=7))
    time.sleep(0.02)
    out = b.poll()
    assert out is not None and out.reason == "timeout" and out.transactions == (T(id=7),)
    assert out.flush_ts > out.first_ts


@pytest.mark.parametrize("max_txns", [1, 16])
def test_limits_of_max_txns(max_txns: int) -> None:
    b = velox.BundleBuilder(max_txns, 10, clock=Clock())
    outs = [b.push(T(id=i)) for i in range(max_txns)]
    assert outs[:-1] == [None] * (max_txns - 1) and len(outs[-1]) == max_txns
