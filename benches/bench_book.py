"""OrderBook from Python: add+remove of one order and best_bid, against a
plain dict of levels doing the same bookkeeping in pure Python (the peer),
in the same run. Each call performs ITEMS operations (see conftest.py)."""

from __future__ import annotations

import pytest

import velox

ITEMS = 1_000
BASE = 1_000_000  # $100.00: the book spans [BASE, BASE + 1024 * 16)
TICK_SHIFT = 4


def _book() -> velox.OrderBook:
    book = velox.OrderBook(levels=1024, tick_shift=TICK_SHIFT, base_price=BASE)
    book.add(velox.BID, BASE + 500 * 16, 100)  # a resting best bid
    book.add(velox.ASK, BASE + 510 * 16, 100)  # a resting best ask
    return book


@pytest.mark.benchmark(group="book-add-remove")
def test_add_remove_below_best(per_item):
    book = _book()
    add, remove, bid, price = book.add, book.remove, velox.BID, BASE + 400 * 16

    def loop() -> None:
        for _ in range(ITEMS):
            add(bid, price, 10)
            remove(bid, price, 10)

    per_item(loop, items=ITEMS, label="OrderBook add+remove (below the best bid)")
    assert book.depth(velox.BID, price) == 0 and book.best_bid() == BASE + 500 * 16


@pytest.mark.benchmark(group="book-add-remove")
def test_add_remove_new_best(per_item):
    book = _book()
    add, remove, bid, price = book.add, book.remove, velox.BID, BASE + 505 * 16

    def loop() -> None:
        for _ in range(ITEMS):
            add(bid, price, 10)  # the best bid moves up ...
            remove(bid, price, 10)  # ... and back down

    per_item(loop, items=ITEMS, label="OrderBook add+remove (moving the best bid)")
    assert book.best_bid() == BASE + 500 * 16


@pytest.mark.benchmark(group="book-add-remove")
def test_dict_peer_add_remove(per_item):
    levels: dict[int, int] = {500: 100}
    price = BASE + 400 * 16

    def loop() -> None:
        for _ in range(ITEMS):
            lvl = (price - BASE) >> TICK_SHIFT
            levels[lvl] = levels.get(lvl, 0) + 10
            lvl = (price - BASE) >> TICK_SHIFT
            left = levels[lvl] - 10
            if left:
                levels[lvl] = left
            else:
                del levels[lvl]

    per_item(loop, items=ITEMS, label="dict of levels add+remove (peer, pure Python)", reference=True)
    assert levels == {500: 100}


@pytest.mark.benchmark(group="book-best-bid")
def test_best_bid(per_item):
    book = _book()
    best = book.best_bid

    def loop() -> None:
        for _ in range(ITEMS):
            best()

    per_item(loop, items=ITEMS, label="OrderBook.best_bid")
    assert best() == BASE + 500 * 16


@pytest.mark.benchmark(group="book-best-bid")
def test_dict_peer_best_bid(per_item):
    levels = {lvl: 10 for lvl in range(0, 501, 7)}

    def loop() -> None:
        for _ in range(ITEMS):
            max(levels)

    per_item(loop, items=ITEMS, label="max() over a dict of 72 levels (peer)", reference=True)
