"""The pipeline's transaction generator (vx_ingress.c): per-producer
sequences, price ranges, the random-walk mode that never crosses the book, and
exponential arrival gaps."""

from __future__ import annotations

import itertools
import math

import velox
from velox._native import _core


def _txns(data: bytes) -> list:
    return [velox.Transaction.from_bytes(data[i:i + 32]) for i in range(0, len(data), 32)]


def test_ingress_uniform_prices_and_sequences():
    txns = _txns(_core._ingress_sample(7, 0, 5, 20_000))
    next_id = [0] * 5
    for t in txns:
        assert 900_000 <= t.price < 1_100_000
        assert 1 <= t.qty <= 100
        assert t.id == next_id[t.producer]
        next_id[t.producer] += 1
    assert min(next_id) > 3000  # every producer is used
    sides = sum(t.side for t in txns)
    assert 0.45 < sides / len(txns) < 0.55


def test_ingress_walk_never_crosses_within_an_order_lifetime():
    """Replays the book stage's window: after every transaction the live
    orders are the last ORDER_LIFETIME ones; every live bid must sit on a
    lower book level than every live ask."""
    life, shift, base = _core.ORDER_LIFETIME, _core.BOOK_TICK_SHIFT, _core.BOOK_BASE_PRICE
    txns = _txns(_core._ingress_sample(11, 1, 1, 30_000))
    level = lambda t: (t.price - base) >> shift
    for end in range(life, len(txns), 37):
        live = txns[end - life:end]
        bids = [level(t) for t in live if t.side == velox.BID]
        asks = [level(t) for t in live if t.side == velox.ASK]
        assert max(bids) < min(asks), f"crossed in window ending at {end}"
        assert 0 <= min(bids) and max(asks) < _core.BOOK_LEVELS


def test_ingress_exponential_gaps():
    rate = 1e-3  # one arrival per 1000 ticks
    arr = _core._ingress_arrivals(3, rate, 50_001)
    gaps = [b - a for a, b in itertools.pairwise(arr)]
    mean = sum(gaps) / len(gaps)
    assert abs(mean - 1000) < 30  # 50k samples: standard error ~4.5
    # exponential: P(gap > mean) = 1/e
    frac = sum(g > 1000 for g in gaps) / len(gaps)
    assert abs(frac - math.exp(-1)) < 0.02
    assert all(g > 0 for g in gaps)


