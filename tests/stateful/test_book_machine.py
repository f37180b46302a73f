"""The order book against its model (velox.models.book), step by step.

Books of 1 to 1024 levels, tick shifts 0 to 6, the default base price (a book
centred on $100.00) or another; prices in range (drawn by level and offset
inside the level, so levels fill and empty often), one level either side of
the range, negative, past int64, and not ints; quantities from 1 up to int64's
maximum (so adds overflow) and bad ones; removes of exactly what rests (a level
empties, the best price must move) and beyond it (an error that must change
nothing). After every step the best bid, best ask and spread must equal the
model's exactly (the native book is sequential here, so no lag is allowed).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from _lockstep import LockstepMachine, outcome, scaled_settings
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from velox._native import _core
from velox.models import book as book_model

INT64_MAX = (1 << 63) - 1

sides = st.sampled_from([0, 1])
bad_sides = st.sampled_from([2, -1, True, None, "bid", 0.0])
# Levels are drawn small most of the time so that operations meet on the same
# levels; the machine maps them into the book (mod levels).
level_draws = st.one_of(st.integers(0, 7), st.integers(0, (1 << 20) - 1))
offsets = st.integers(0, 63)
qtys = st.one_of(st.integers(1, 1000), st.sampled_from([INT64_MAX, INT64_MAX - 1, 1 << 62]))
bad_qtys = st.sampled_from([0, -1, -(1 << 63), 1 << 63, 1.0, "1", None])
bad_price_kinds = st.sampled_from(["below", "above", "negative", "past_int64", "below_int64", "float", "str"])


def book_machine(core: ModuleType) -> type[LockstepMachine]:
    """A machine class driving ``core.OrderBook`` (from the given module)."""

    class BookMachine(LockstepMachine):
        model = book_model

        def __init__(self) -> None:
            super().__init__()
            self.book = None

        @initialize(levels=st.sampled_from([1, 2, 3, 16, 1024]), tick_shift=st.sampled_from([0, 1, 4, 6]),
                    base=st.one_of(st.none(), st.just(0), st.integers(0, 1 << 40)), single_writer=st.booleans())
        def create(self, levels: int, tick_shift: int, base: int | None, single_writer: bool) -> None:
            # single_writer: the same model holds the single-writer path (the pipeline's book stage) to it.
            self.book = core.OrderBook(levels=levels, tick_shift=tick_shift, base_price=base,
                                       single_writer=single_writer)
            self.state = book_model.init(levels=levels, tick_shift=tick_shift, base_price=base)

        def _price(self, level: int, offset: int) -> int:
            s = self.state
            return book_model.level_price(s, level % s.levels) + offset % (1 << s.tick_shift)

        def _bad_price(self, kind: str) -> Any:
            s = self.state
            return {"below": s.base_price - 1, "above": s.max_price, "negative": -1 - s.base_price,
                    "past_int64": 1 << 63, "below_int64": -(1 << 63) - 1, "float": float(s.base_price),
                    "str": str(s.base_price)}[kind]

        def _add(self, side: Any, price: Any, qty: Any) -> None:
            self.expect(book_model.Add(side=side, price=price, qty=qty),
                        outcome(lambda: self.book.add(side, price, qty)))

        def _remove(self, side: Any, price: Any, qty: Any) -> None:
            self.expect(book_model.Remove(side=side, price=price, qty=qty),
                        outcome(lambda: self.book.remove(side, price, qty)))

        def _depth(self, side: Any, price: Any) -> Any:
            return self.expect(book_model.Depth(side=side, price=price),
                               outcome(lambda: self.book.depth(side, price)))

        @rule(side=sides, level=level_draws, offset=offsets, qty=qtys)
        def add(self, side: int, level: int, offset: int, qty: int) -> None:
            self._add(side, self._price(level, offset), qty)

        @rule(side=sides, level=level_draws, offset=offsets, qty=qtys)
        def remove(self, side: int, level: int, offset: int, qty: int) -> None:
            self._remove(side, self._price(level, offset), qty)

        @rule(side=sides, level=level_draws, offset=offsets, extra=st.sampled_from([0, 0, 1]))
        def remove_all(self, side: int, level: int, offset: int, extra: int) -> None:
            """Remove exactly what rests (the level empties) or one more (an error)."""
            price = self._price(level, offset)
            have = self._depth(side, price)
            if have + extra >= 1:
                self._remove(side, price, have + extra)

        @precondition(lambda self: self.state is not None and (self.state.bids or self.state.asks))
        @rule(pick=st.integers(0, 1 << 16), part=st.sampled_from(["all", "all", "half", "one more"]))
        def remove_resting(self, pick: int, part: str) -> None:
            """Remove from a non-empty level: all of it (the level empties and
            the best price may move), half, or one more than rests (an error)."""
            entries = [(0, lv, q) for lv, q in self.state.bids] + [(1, lv, q) for lv, q in self.state.asks]
            side, level, have = entries[pick % len(entries)]
            qty = {"all": have, "half": max(1, have // 2), "one more": have + 1}[part]
            self._remove(side, book_model.level_price(self.state, level) + pick % (1 << self.state.tick_shift), qty)
            if part == "all":
                event("book: a level emptied")

        @rule(side=sides, level=level_draws, offset=offsets)
        def depth(self, side: int, level: int, offset: int) -> None:
            self._depth(side, self._price(level, offset))

        @rule(side=sides, kind=bad_price_kinds, qty=qtys, op=st.sampled_from(["add", "remove", "depth"]))
        def out_of_range_price(self, side: int, kind: str, qty: int, op: str) -> None:
            price = self._bad_price(kind)
            if op == "depth":
                self._depth(side, price)
            else:
                (self._add if op == "add" else self._remove)(side, price, qty)

        @rule(side=bad_sides, level=level_draws, qty=qtys, op=st.sampled_from(["add", "remove", "depth"]))
        def bad_side(self, side: Any, level: int, qty: int, op: str) -> None:
            price = self._price(level, 0)
            if op == "depth":
                self._depth(side, price)
            else:
                (self._add if op == "add" else self._remove)(side, price, qty)

        @rule(side=sides, level=level_draws, qty=bad_qtys, op=st.sampled_from(["add", "remove"]))
        def bad_qty(self, side: int, level: int, qty: Any, op: str) -> None:
            (self._add if op == "add" else self._remove)(side, self._price(level, 0), qty)

        @invariant()
        def best_prices_exact(self) -> None:
            if self.book is None:
                return
            if self.state.bids and self.state.asks:
                event("book: both sides non-empty")
            if len(self.state.bids) > 1 or len(self.state.asks) > 1:
                event("book: several levels on one side")
            self.expect(book_model.BestBid(), outcome(self.book.best_bid))
            self.expect(book_model.BestAsk(), outcome(self.book.best_ask))
            self.expect(book_model.Spread(), outcome(self.book.spread))

    if core is not _core:  # the shipping machine keeps its plain name: the falsifying program runs as printed
        BookMachine.__name__ = BookMachine.__qualname__ = f"BookMachine_{core.__name__.replace('.', '_')}"
    return BookMachine


BookMachine = book_machine(_core)
TestBook = BookMachine.TestCase
TestBook.settings = scaled_settings(3)
