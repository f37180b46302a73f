"""Reference model of ``velox.OrderBook``: aggregated quantity per price level.

Prices are int ticks of 0.0001. A price p rests at level
``(p - base_price) >> tick_shift``; the book accepts
``base_price <= p < base_price + (levels << tick_shift)`` and raises ValueError
for anything else (it never clamps). Each side keeps, per level, a quantity
that never goes below zero: ``remove`` of more than rests is a ValueError and
changes nothing; ``add`` past the signed 64-bit maximum is a ValueError too.
Quantities must be >= 1. The best bid is the highest non-empty bid level, the
best ask the lowest non-empty ask level, each reported as that level's lowest
price; the spread is ask - bid (negative when crossed) or None.

The native book may also raise ``Timeout`` (its bounded compare-exchange gave
up under contention, changing nothing). A sequential run never does; a
checker of concurrent histories may pass an observed Timeout, which the model
accepts as a no-op.

Checks happen in this order, as in the native binding, so that both raise the
same exception for the same bad call: side, price (type, 64-bit range, book
range), qty (type, >= 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._step import UNOBSERVED, Inconsistent, Raises, StepResult, check_observed

BID = 0
ASK = 1
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
MAX_LEVELS = 1 << 20
MAX_TICK_SHIFT = 40
#: The price a default book is centred on: $100.00.
DEFAULT_CENTRE = 1_000_000


@dataclass(frozen=True, kw_only=True)
class State:
    """Book geometry and the non-empty levels: ``bids``/``asks`` are sorted
    tuples of (level, quantity) with quantity > 0 (empty levels are absent,
    which keeps states small and hashable)."""

    levels: int
    tick_shift: int
    base_price: int
    bids: tuple[tuple[int, int], ...] = ()
    asks: tuple[tuple[int, int], ...] = ()

    @property
    def max_price(self) -> int:
        """One past the highest price the book accepts."""
        return self.base_price + (self.levels << self.tick_shift)


@dataclass(frozen=True, kw_only=True)
class Add:
    side: Any
    price: Any
    qty: Any


@dataclass(frozen=True, kw_only=True)
class Remove:
    side: Any
    price: Any
    qty: Any


@dataclass(frozen=True, kw_only=True)
class Depth:
    side: Any
    price: Any


@dataclass(frozen=True, kw_only=True)
class BestBid:
    pass


@dataclass(frozen=True, kw_only=True)
class BestAsk:
    pass


@dataclass(frozen=True, kw_only=True)
class Spread:
    pass


Op = Add | Remove | Depth | BestBid | BestAsk | Spread


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def init(levels: int = 1024, tick_shift: int = 4, base_price: int | None = None) -> State:
    """An empty book. ``base_price`` defaults to centring the book on $100.00
    (never below 0). Raises TypeError/ValueError for parameters out of range."""
    for name, value, lo, hi in (("levels", levels, 1, MAX_LEVELS), ("tick_shift", tick_shift, 0, MAX_TICK_SHIFT)):
        if not _is_int(value):
            raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
        if not lo <= value <= hi:
            raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")
    if base_price is None:
        base_price = max(0, DEFAULT_CENTRE - (levels << tick_shift) // 2)
    if not _is_int(base_price):
        raise TypeError(f"base_price must be an int, got {type(base_price).__name__} {base_price!r}")
    if not 0 <= base_price <= INT64_MAX - (levels << tick_shift):
        raise ValueError(f"base_price must be >= 0 and leave the book's top inside int64, got {base_price}")
    return State(levels=levels, tick_shift=tick_shift, base_price=base_price)


def level_of(state: State, price: int) -> int:
    """The level holding an in-range price."""
    return (price - state.base_price) >> state.tick_shift


def level_price(state: State, level: int) -> int:
    """The lowest price of a level."""
    return state.base_price + (level << state.tick_shift)


def _bad_args(state: State, side: Any, price: Any, qty: Any, check_qty: bool) -> Raises | None:
    """The error for a bad call, checked in the binding's order, or None."""
    if not _is_int(side) or side not in (BID, ASK):
        return Raises(error="ValueError", reason=f"side must be BID (0) or ASK (1), got {side!r}")
    if not _is_int(price):
        return Raises(error="TypeError", reason=f"price must be an int, got {type(price).__name__}")
    if not INT64_MIN <= price <= INT64_MAX:
        return Raises(error="ValueError", reason=f"price {price} is not a signed 64-bit int")
    if not state.base_price <= price < state.max_price:
        return Raises(error="ValueError",
                      reason=f"price {price} is outside the book [{state.base_price}, {state.max_price})")
    if check_qty:
        if not _is_int(qty):
            return Raises(error="TypeError", reason=f"qty must be an int, got {type(qty).__name__}")
        if not 1 <= qty <= INT64_MAX:
            return Raises(error="ValueError", reason=f"qty must be in [1, {INT64_MAX}], got {qty}")
    return None


def _side_levels(state: State, side: int) -> tuple[tuple[int, int], ...]:
    return state.bids if side == BID else state.asks


def _depth(state: State, side: int, level: int) -> int:
    return dict(_side_levels(state, side)).get(level, 0)


def _with_level(state: State, side: int, level: int, qty: int) -> State:
    """State with one level's quantity replaced (0 removes the entry)."""
    levels = dict(_side_levels(state, side))
    if qty:
        levels[level] = qty
    else:
        levels.pop(level, None)
    entries = tuple(sorted(levels.items()))
    if side == BID:
        return State(levels=state.levels, tick_shift=state.tick_shift, base_price=state.base_price,
                     bids=entries, asks=state.asks)
    return State(levels=state.levels, tick_shift=state.tick_shift, base_price=state.base_price,
                 bids=state.bids, asks=entries)


def best_bid(state: State) -> int | None:
    """Lowest price of the highest non-empty bid level, or None."""
    return level_price(state, state.bids[-1][0]) if state.bids else None


def best_ask(state: State) -> int | None:
    """Lowest price of the lowest non-empty ask level, or None."""
    return level_price(state, state.asks[0][0]) if state.asks else None


def _expected(state: State, op: Op) -> StepResult[State]:
    if isinstance(op, (Add, Remove)):
        bad = _bad_args(state, op.side, op.price, op.qty, check_qty=True)
        if bad is not None:
            return StepResult(state=state, result=bad)
        level = level_of(state, op.price)
        have = _depth(state, op.side, level)
        if isinstance(op, Add):
            if have > INT64_MAX - op.qty:
                return StepResult(state=state, result=Raises(error="ValueError", reason="level quantity would overflow"))
            return StepResult(state=_with_level(state, op.side, level, have + op.qty), result=None)
        if op.qty > have:
            return StepResult(state=state, result=Raises(
                error="ValueError", reason=f"cannot remove {op.qty}: only {have} resting (never below zero)"))
        return StepResult(state=_with_level(state, op.side, level, have - op.qty), result=None)
    if isinstance(op, Depth):
        bad = _bad_args(state, op.side, op.price, None, check_qty=False)
        if bad is not None:
            return StepResult(state=state, result=bad)
        return StepResult(state=state, result=_depth(state, op.side, level_of(state, op.price)))
    if isinstance(op, BestBid):
        return StepResult(state=state, result=best_bid(state))
    if isinstance(op, BestAsk):
        return StepResult(state=state, result=best_ask(state))
    if isinstance(op, Spread):
        bid, ask = best_bid(state), best_ask(state)
        return StepResult(state=state, result=None if bid is None or ask is None else ask - bid)
    raise TypeError(f"not an order book operation: {op!r}")


def step(state: State, op: Op, observed: Any = UNOBSERVED) -> StepResult[State] | Inconsistent:
    """The next state and the result ``op`` must return. With ``observed``,
    ``Inconsistent`` when it differs; an observed ``Raises("Timeout")`` on
    add/remove is accepted and changes nothing (the native retry gave up)."""
    if isinstance(op, (Add, Remove)) and isinstance(observed, Raises) and observed.error == "Timeout":
        return StepResult(state=state, result=observed)
    return check_observed(_expected(state, op), observed, describe_op(op))


def describe_op(op: Op) -> str:
    """Short human form of an operation."""
    if isinstance(op, (Add, Remove)):
        return f"{type(op).__name__.lower()}({op.side!r}, {op.price!r}, {op.qty!r})"
    if isinstance(op, Depth):
        return f"depth({op.side!r}, {op.price!r})"
    return {BestBid: "best_bid()", BestAsk: "best_ask()", Spread: "spread()"}[type(op)]


def describe_state(state: State) -> str:
    """Short human form of a state: non-empty levels by price."""
    def fmt(entries: tuple[tuple[int, int], ...]) -> str:
        return ", ".join(f"{level_price(state, lv)}x{q}" for lv, q in entries) or "-"
    return f"bids[{fmt(state.bids)}] asks[{fmt(state.asks)}]"
