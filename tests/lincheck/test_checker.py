"""Unit tests of the Wing-Gong checker on a tiny register model, and of the
order-book adapter (partitioning, native record decoding, reports)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from velox import lincheck
from velox.lincheck import Operation, Verdict, _book
from velox.models import book as book_model
from velox.models._step import Raises


def _register() -> lincheck.Model:
    """A read/write register: ("w", v) -> None, ("r",) -> value."""

    def step(state, inp, out):
        if inp[0] == "w":
            return True, inp[1], ""
        return (out == state), state, f"read {out}, register holds {state}"

    return lincheck.Model(init=lambda: 0, step=step)


def op(client, call, ret, inp, out=None):
    return Operation(client=client, call=call, ret=ret, input=inp, output=out)


def test_empty_history_is_linearizable() -> None:
    assert lincheck.check_operations(_register(), []).verdict is Verdict.OK


def test_sequential_history() -> None:
    h = [op(0, 0, 1, ("w", 1)), op(0, 2, 3, ("r",), 1), op(0, 4, 5, ("w", 2)), op(0, 6, 7, ("r",), 2)]
    assert lincheck.check_operations(_register(), h).ok


def test_stale_read_after_write_is_illegal() -> None:
    h = [op(0, 0, 1, ("w", 1)), op(1, 2, 3, ("r",), 0)]
    res = lincheck.check_operations(_register(), h)
    assert res.verdict is Verdict.ILLEGAL
    part = res.offending()
    assert part.longest == (0,) and part.stuck == (1,)
    assert "read 0, register holds 1" in part.reason


def test_concurrent_read_may_see_either() -> None:
    for seen in (0, 1):
        h = [op(0, 0, 10, ("w", 1)), op(1, 2, 3, ("r",), seen)]
        assert lincheck.check_operations(_register(), h).ok


def test_new_old_inversion_is_illegal() -> None:
    """Two sequential reads by one thread, concurrent with a write: new then
    old is not linearizable (the classic register anomaly)."""
    h = [op(0, 0, 100, ("w", 1)), op(1, 10, 20, ("r",), 1), op(1, 30, 40, ("r",), 0)]
    assert lincheck.check_operations(_register(), h).verdict is Verdict.ILLEGAL


def test_search_budget_gives_unknown_never_ok() -> None:
    # many concurrent writes and a read no write explains: exhaustive search
    h = [op(i, 0, 100, ("w", i + 1)) for i in range(12)] + [op(99, 0, 100, ("r",), 999)]
    res = lincheck.check_operations(_register(), h, max_steps=50)
    assert res.verdict is Verdict.UNKNOWN
    assert "max_steps" in res.offending().reason


def test_return_before_call_is_rejected() -> None:
    with pytest.raises(ValueError, match="returns before it is called"):
        op(0, 5, 4, ("r",), 0)


@settings(max_examples=60)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5)), min_size=1, max_size=8))
def test_any_sequential_run_of_the_model_is_linearizable(writes) -> None:
    """Property: a history produced by running the model one op at a time
    (non-overlapping intervals) is always linearizable."""
    h, t, value = [], 0, 0
    for client, v in writes:
        h.append(op(client, t, t + 1, ("w", v)))
        value = v
        h.append(op(client, t + 2, t + 3, ("r",), value))
        t += 4
    assert lincheck.check_operations(_register(), h).ok


@settings(max_examples=60)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=6), st.integers(0, 10))
def test_corrupting_one_read_of_a_sequential_run_is_caught(writes, which) -> None:
    """Property: change the value one read returns in a sequential run and
    the checker must say ILLEGAL (every read is pinned by its write)."""
    h, t = [], 0
    for v in writes:
        h.append(op(0, t, t + 1, ("w", v)))
        h.append(op(0, t + 2, t + 3, ("r",), v))
        t += 4
    reads = [i for i, o in enumerate(h) if o.input[0] == "r"]
    i = reads[which % len(reads)]
    h[i] = op(0, h[i].call, h[i].ret, ("r",), h[i].output + 100)
    assert lincheck.check_operations(_register(), h).verdict is Verdict.ILLEGAL


# -- order book adapter ---------------------------------------------------------

def test_partition_by_level_splits_sides_and_prices() -> None:
    ops = [op(0, 0, 1, book_model.Add(side=0, price=10, qty=1)),
           op(0, 2, 3, book_model.Add(side=1, price=10, qty=1)),
           op(1, 0, 1, book_model.Depth(side=0, price=11), 0),
           op(1, 2, 3, book_model.Remove(side=0, price=10, qty=1))]
    parts = lincheck.partition_by_level(ops)
    assert sorted(len(p) for p in parts) == [1, 1, 2]


def test_decode_native_records() -> None:
    recs = [
        (100, 200, 1_000_001, 3, 0, 0, _book.KIND_ADD, 0, 0),
        (150, 250, 1_000_001, 5, 0, -3, _book.KIND_REMOVE, 0, 1),
        (300, 310, 1_000_001, 0, 3, 0, _book.KIND_DEPTH, 0, 0),
        (320, 330, 1_000_000, 1, 0, -5, _book.KIND_ADD, 1, 1),
    ]
    raw = b"".join(_book.LC_OP.pack(*r) for r in recs)
    ops = _book.decode_window(raw, threads=2, per_window=2, window=0)
    assert ops[0].input == book_model.Add(side=0, price=1_000_001, qty=3) and ops[0].output is None
    assert ops[1].output == Raises(error="ValueError")
    assert ops[2].output == 3
    assert ops[3].output == Raises(error="Timeout")
    snap = struct.pack("<6q", 0, 0, 0, 0, -1, -1)
    t = lincheck.check_windows(raw, snap, threads=2, levels=2, per_window=2, base_price=1_000_000)
    assert t.windows == 1 and t.violations == 0 and t.timeouts == 1 and t.best_checks == 2


def test_best_price_at_quiescence_is_checked() -> None:
    recs = [(100, 200, 1_000_001, 1, 0, 0, _book.KIND_ADD, 0, 0)]
    raw = b"".join(_book.LC_OP.pack(*r) for r in recs)
    # bid levels 0 and 1 rest 2 and 5: the best bid is level 1 (price 1000001), not 1000000
    good = struct.pack("<6q", 2, 5, 0, 0, 1_000_001, -1)
    bad = struct.pack("<6q", 2, 5, 0, 0, 1_000_000, -1)
    kw = dict(threads=1, levels=2, per_window=1, base_price=1_000_000)
    assert lincheck.check_windows(raw, good, **kw).violations == 0
    t = lincheck.check_windows(raw, bad, **kw)
    assert t.violations == 1 and "best bid at quiescence is 1000000" in t.first_report


def test_decoded_violation_is_reported_with_the_window() -> None:
    recs = [(100, 200, 1_000_001, 3, 0, 0, _book.KIND_ADD, 0, 0),
            (300, 310, 1_000_001, 0, 7, 0, _book.KIND_DEPTH, 0, 1)]
    raw = b"".join(_book.LC_OP.pack(*r) for r in recs)
    t = lincheck.check_windows(raw, struct.pack("<6q", 0, 0, 0, 0, -1, -1), threads=2, levels=2, per_window=1,
                               base_price=1_000_000)
    assert t.violations == 1
    assert "window 0: not linearizable" in t.first_report
    assert "depth(0, 1000001) -> 7" in t.first_report
    assert "expects 3" in t.first_report


def test_read_dump_rejects_other_files(tmp_path) -> None:
    p = tmp_path / "x.bin"
    p.write_bytes(b"nope")
    with pytest.raises(ValueError, match="not a velox history dump"):
        lincheck.read_dump(str(p))


def test_html_timeline_marks_the_stuck_operation() -> None:
    h = [op(0, 0, 1, ("w", 1)), op(1, 2, 3, ("r",), 0)]
    res = lincheck.check_operations(_register(), h)
    page = lincheck.render_html(_register(), res.offending(), 0, "stale read")
    assert page.startswith("<!doctype html>") and "<svg" in page
    assert page.count("#fb6a4a") == 1 and page.count("#9ecae1") == 1
    assert "thread 0" in page and "thread 1" in page and "stale read" in page
