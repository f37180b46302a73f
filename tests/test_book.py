"""OrderBook scenarios: bucketing by tick_shift, the default book centred on
$100.00, best bid/ask/spread as levels fill and empty, errors that change
nothing, and concurrent adders/removers that conserve quantity."""

from __future__ import annotations

import threading

import pytest

import velox
from velox.models import book as model

BID, ASK = velox.BID, velox.ASK
INT64_MAX = (1 << 63) - 1


def test_default_geometry_centres_on_100() -> None:
    b = velox.OrderBook()
    assert (b.levels, b.tick_shift, b.max_retries) == (1024, 4, 100)
    assert b.base_price == 1_000_000 - 1024 * 16 // 2 == model.init().base_price
    assert b.min_price == 991_808 and b.max_price == 1_008_192
    assert b.level_of(1_000_000) == 512 and b.level_price(512) == 1_000_000


def test_bucketing_aggregates_a_level() -> None:
    b = velox.OrderBook()
    for p in range(1_000_000, 1_000_016):  # one level: 16 ticks
        b.add(BID, p, 1)
    assert b.depth(BID, 1_000_000) == 16 == b.depth(BID, 1_000_015)
    assert b.depth(BID, 1_000_016) == 0
    assert b.best_bid() == 1_000_000, "a best price is its level's lowest price"


def test_small_geometry_edges() -> None:
    b = velox.OrderBook(levels=4, tick_shift=0, base_price=0)
    assert b.min_price == 0 and b.max_price == 4
    b.add(ASK, 0, 1)
    b.add(ASK, 3, 1)
    assert b.best_ask() == 0
    with pytest.raises(ValueError):
        b.add(ASK, 4, 1)


def test_best_and_spread_follow_levels() -> None:
    b = velox.OrderBook()
    assert b.best_bid() is None and b.best_ask() is None and b.spread() is None
    b.add(BID, 999_900, 5)
    b.add(BID, 999_500, 5)
    assert b.best_bid() == 999_888 and b.spread() is None  # 999_900 rests in the level starting at 999_888
    b.add(ASK, 1_000_100, 3)
    b.add(ASK, 1_000_500, 3)
    assert b.best_ask() == 1_000_096
    assert b.spread() == 1_000_096 - 999_888
    b.remove(BID, 999_900, 5)   # the best bid level empties: the best moves down
    assert b.best_bid() == 999_488
    b.remove(ASK, 1_000_100, 3)
    assert b.best_ask() == 1_000_496
    b.remove(BID, 999_500, 5)
    assert b.best_bid() is None and b.spread() is None


def test_crossed_book_has_negative_spread() -> None:
    b = velox.OrderBook()
    b.add(BID, 1_000_160, 1)
    b.add(ASK, 1_000_000, 1)
    assert b.spread() == 1_000_000 - 1_000_160


def test_remove_below_zero_changes_nothing() -> None:
    b = velox.OrderBook()
    b.add(ASK, 1_000_000, 3)
    with pytest.raises(ValueError, match="only 3 resting"):
        b.remove(ASK, 1_000_000, 4)
    assert b.depth(ASK, 1_000_000) == 3 and b.best_ask() == 1_000_000


def test_out_of_range_is_never_clamped() -> None:
    b = velox.OrderBook()
    for p in (b.min_price - 1, b.max_price, -1, 0):
        with pytest.raises(ValueError, match="outside the book"):
            b.add(BID, p, 1)
    assert b.best_bid() is None
    assert all(b.depth(BID, b.level_price(lv)) == 0 for lv in (0, 1023))


def test_quantity_up_to_int64_max() -> None:
    b = velox.OrderBook()
    b.add(BID, 1_000_000, INT64_MAX)
    with pytest.raises(ValueError, match="overflow"):
        b.add(BID, 1_000_000, 1)
    assert b.depth(BID, 1_000_000) == INT64_MAX
    b.remove(BID, 1_000_000, INT64_MAX)
    assert b.best_bid() is None


@pytest.mark.parametrize("single_writer", [False, True])
def test_threads_conserve_quantity(single_writer: bool) -> None:
    """Two threads add and remove on shared levels (the GIL is released around
    the compare-exchange loop; a single-writer book's calls hold it, which
    makes the threads one writer at a time); at quiescence every level holds
    what the successful calls add up to, and the best prices are exact."""
    b = velox.OrderBook(max_retries=1_000_000, single_writer=single_writer)
    prices = [1_000_000 + 16 * k for k in range(4)]
    net = [[0] * 4 for _ in range(2)]

    def work(tid: int) -> None:
        for i in range(20_000):
            k = (i * 7 + tid) % 4
            b.add(BID, prices[k], 2)
            net[tid][k] += 2
            if i % 3 == 0:
                b.remove(BID, prices[k], 1)
                net[tid][k] -= 1

    threads = [threading.Thread(target=work, args=(t,)) for t in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    for k, p in enumerate(prices):
        assert b.depth(BID, p) == net[0][k] + net[1][k]
    assert b.best_bid() == prices[-1]


@pytest.mark.parametrize("single_writer", [False, True])
def test_repr_is_constructor_call(single_writer: bool) -> None:
    b = velox.OrderBook(levels=8, tick_shift=2, base_price=100, max_retries=5, single_writer=single_writer)
    again = eval(repr(b), {"OrderBook": velox.OrderBook})
    assert (again.levels, again.tick_shift, again.base_price, again.max_retries, again.single_writer) == (
        8, 2, 100, 5, single_writer)


@pytest.mark.parametrize("bad", [1, 0, "yes", None])
def test_single_writer_must_be_a_bool(bad) -> None:
    with pytest.raises(TypeError, match="single_writer must be True or False"):
        velox.OrderBook(single_writer=bad)


def test_single_writer_book_reuses_emptied_levels() -> None:
    """The writer's query clears the bits of emptied levels: the best price follows the book down
    and back up, and never names an empty level."""
    b = velox.OrderBook(levels=256, tick_shift=0, base_price=1000, single_writer=True)
    for p in range(1000, 1256):
        b.add(BID, p, 1)
    for p in range(1255, 1000, -1):
        assert b.best_bid() == p
        b.remove(BID, p, 1)
    assert b.best_bid() == 1000
    b.add(BID, 1200, 3)
    assert b.best_bid() == 1200 and b.depth(BID, 1200) == 3
