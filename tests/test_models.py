"""The reference models as the checkers use them: pure steps (the input state
is untouched), hashable states, Inconsistent when an observed result differs,
the book's Timeout accepted as a no-op, and init's parameter errors."""

from __future__ import annotations

import pytest

from velox.models import book, bundle, ring, txn
from velox.models._step import Inconsistent, Raises, StepResult

REC = bytes(range(32))


def test_ring_steps_are_pure_and_hashable() -> None:
    s0 = ring.init(2)
    r = ring.step(s0, ring.Push(record=REC))
    assert isinstance(r, StepResult) and r.result is True
    assert s0 == ring.init(2), "step must not change its input"
    assert hash(r.state) != hash(s0) and {r.state, s0}
    assert ring.step(r.state, ring.Pop()).state == s0


def test_ring_inconsistent_observation() -> None:
    s = ring.step(ring.init(1), ring.Push(record=REC)).state
    bad = ring.step(s, ring.Push(record=REC), True)
    assert isinstance(bad, Inconsistent) and "expects False" in bad.msg
    assert isinstance(ring.step(s, ring.Pop(), None), Inconsistent)
    assert ring.step(s, ring.Pop(), REC).state == ring.init(1)


@pytest.mark.parametrize("capacity,exc", [(3, ValueError), (0, ValueError), (1 << 27, ValueError), (2.0, TypeError)])
def test_ring_init_errors(capacity: object, exc: type) -> None:
    with pytest.raises(exc):
        ring.init(capacity)


def test_ring_batches() -> None:
    s = ring.init(4)
    r = ring.step(s, ring.PushMany(buffer=REC * 6))
    assert r.result == 4
    assert ring.step(r.state, ring.PopMany(n=3)).result == REC * 3
    assert ring.step(r.state, ring.PopInto(size=70)).result == (2, REC * 2)
    assert ring.step(s, ring.PushMany(buffer=REC[:5])).result == Raises(error="ValueError")


def test_book_levels_and_best() -> None:
    s = book.init(levels=8, tick_shift=2, base_price=100)
    assert (s.base_price, s.max_price) == (100, 132)
    for op in (book.Add(side=book.BID, price=107, qty=2), book.Add(side=book.BID, price=113, qty=1),
               book.Add(side=book.ASK, price=129, qty=5)):
        s = book.step(s, op).state
    assert book.best_bid(s) == 112 and book.best_ask(s) == 128
    assert book.step(s, book.Spread()).result == 16
    s2 = book.step(s, book.Remove(side=book.BID, price=112, qty=1)).state
    assert book.best_bid(s2) == 104, "emptying the best level moves the best down"
    assert book.step(s, book.Depth(side=book.BID, price=104)).result == 2


def test_book_errors_change_nothing() -> None:
    s = book.step(book.init(), book.Add(side=book.ASK, price=1_000_000, qty=3)).state
    for op in (book.Remove(side=book.ASK, price=1_000_000, qty=4), book.Add(side=book.ASK, price=0, qty=1),
               book.Add(side=2, price=1_000_000, qty=1), book.Add(side=book.ASK, price=1_000_000, qty=0),
               book.Add(side=book.ASK, price=1e6, qty=1)):
        r = book.step(s, op)
        assert isinstance(r.result, Raises) and r.state == s, op


def test_book_timeout_is_a_no_op() -> None:
    s = book.init()
    r = book.step(s, book.Add(side=book.BID, price=1_000_000, qty=1), Raises(error="Timeout"))
    assert isinstance(r, StepResult) and r.state == s
    assert isinstance(book.step(s, book.BestBid(), Raises(error="Timeout")), Inconsistent)


def test_book_default_base_never_negative() -> None:
    assert book.init(levels=1 << 20, tick_shift=4).base_price == 0


def test_bundle_timeout_rule() -> None:
    s = bundle.init(4, 10)
    s = bundle.step(s, bundle.Push(txn="a", now=100)).state
    assert bundle.step(s, bundle.Poll(now=109)).result is None
    assert bundle.step(s, bundle.Poll(now=50)).result is None, "a clock that went backwards has not timed out"
    out = bundle.step(s, bundle.Poll(now=110)).result
    assert out == bundle.BundleOut(seq=0, reason="timeout", transactions=("a",), first_ts=100, flush_ts=110)


def test_bundle_size_and_flush_numbering() -> None:
    s = bundle.init(2, 10)
    results = []
    for op in (bundle.Push(txn=1, now=0), bundle.Push(txn=2, now=1), bundle.Push(txn=3, now=2),
               bundle.Flush(now=3), bundle.Flush(now=4)):
        r = bundle.step(s, op)
        s = r.state
        results.append(r.result)
    assert [(b.seq, b.reason, b.transactions) for b in results if b] == [(0, "size", (1, 2)), (1, "flush", (3,))]
    assert results[-1] is None
    assert s == bundle.init(2, 10).__class__(max_txns=2, timeout=10, next_seq=2)


def test_bundle_bad_clock() -> None:
    s = bundle.init()
    assert bundle.step(s, bundle.Poll(now=-1)).result == Raises(error="ValueError")
    assert bundle.step(s, bundle.Push(txn=1, now=1.5)).result == Raises(error="TypeError")
    assert bundle.step(s, bundle.Push(txn=1, now=(1 << 64) - 1)).state == s


def test_txn_model_steps() -> None:
    s = txn.init()
    rec = txn.Record(id=1, price=1002500, side=txn.ASK)
    assert txn.step(s, txn.Encode(record=rec)).result == txn.LAYOUT.pack(1, 0, 1002500, 0, 1, 0, 0)
    assert txn.step(s, txn.Decode(data=bytes(31))).result == Raises(error="ValueError")
    assert txn.step(s, txn.ToTicks(value="100.25")).result == 1002500
    assert isinstance(txn.step(s, txn.FromTicks(ticks=1), 2), Inconsistent)
