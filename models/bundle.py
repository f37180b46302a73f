"""Reference model of ``velox.BundleBuilder`` with an injected clock.

Every operation carries ``now``, the clock reading the builder takes for it
(integer nanoseconds, 0 <= now < 2**64 - 1). Transactions wait in arrival
order. ``push`` adds one; when that makes ``max_txns`` waiting it hands them
out as a bundle with reason "size". ``poll`` hands out what waits, reason
"timeout", when ``now - arrival time of the oldest waiting >= timeout``; a
clock that went backwards (now before that arrival) has not timed out.
``flush`` hands out whatever waits, reason "flush". Bundles are numbered from 0
in the order they are handed out; an operation that hands out nothing returns
None. A clock reading outside the allowed range is a ValueError (non-int: a
TypeError) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from ._step import UNOBSERVED, Inconsistent, Raises, StepResult, check_observed

#: Most transactions a bundle holds.
BUNDLE_MAX = 16
#: Largest clock reading accepted (2**64 - 1 is reserved by the binding).
CLOCK_MAX = (1 << 64) - 2
U64_MAX = (1 << 64) - 1


@dataclass(frozen=True, kw_only=True)
class BundleOut:
    """A bundle handed out: its number, reason, transactions in arrival order,
    the clock at the first arrival and the clock when handed out."""

    seq: int
    reason: str
    transactions: tuple[Hashable, ...]
    first_ts: int
    flush_ts: int


@dataclass(frozen=True, kw_only=True)
class State:
    """Limits, what waits (oldest first), when the oldest arrived, and the
    number the next bundle gets."""

    max_txns: int
    timeout: int
    waiting: tuple[Hashable, ...] = ()
    first_ts: int = 0
    next_seq: int = 0


@dataclass(frozen=True, kw_only=True)
class Push:
    txn: Hashable
    now: Any


@dataclass(frozen=True, kw_only=True)
class Poll:
    now: Any


@dataclass(frozen=True, kw_only=True)
class Flush:
    now: Any


@dataclass(frozen=True, kw_only=True)
class Pending:
    pass


Op = Push | Poll | Flush | Pending


def init(max_txns: int = BUNDLE_MAX, timeout_ns: int = 100_000) -> State:
    """An empty builder. TypeError/ValueError unless 1 <= max_txns <= 16 and
    1 <= timeout_ns < 2**64."""
    for name, value, lo, hi in (("max_txns", max_txns, 1, BUNDLE_MAX), ("timeout_ns", timeout_ns, 1, U64_MAX)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
        if not lo <= value <= hi:
            raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")
    return State(max_txns=max_txns, timeout=timeout_ns)


def _bad_clock(now: Any) -> Raises | None:
    if isinstance(now, bool) or not isinstance(now, int):
        return Raises(error="TypeError", reason=f"the clock must return an int, got {type(now).__name__}")
    if not 0 <= now <= CLOCK_MAX:
        return Raises(error="ValueError", reason=f"the clock must return an int in [0, {CLOCK_MAX}], got {now}")
    return None


def _hand_out(state: State, now: int, reason: str) -> StepResult[State]:
    bundle = BundleOut(seq=state.next_seq, reason=reason, transactions=state.waiting,
                       first_ts=state.first_ts, flush_ts=now)
    after = State(max_txns=state.max_txns, timeout=state.timeout, next_seq=state.next_seq + 1)
    return StepResult(state=after, result=bundle)


def timed_out(state: State, now: int) -> bool:
    """Has the oldest waiting transaction waited at least the timeout at now?"""
    return bool(state.waiting) and now >= state.first_ts and now - state.first_ts >= state.timeout


def _expected(state: State, op: Op) -> StepResult[State]:
    if isinstance(op, Pending):
        return StepResult(state=state, result=len(state.waiting))
    bad = _bad_clock(op.now)
    if bad is not None:
        return StepResult(state=state, result=bad)
    if isinstance(op, Push):
        first_ts = op.now if not state.waiting else state.first_ts
        grown = State(max_txns=state.max_txns, timeout=state.timeout, waiting=state.waiting + (op.txn,),
                      first_ts=first_ts, next_seq=state.next_seq)
        if len(grown.waiting) >= state.max_txns:
            return _hand_out(grown, op.now, "size")
        return StepResult(state=grown, result=None)
    if isinstance(op, Poll):
        if timed_out(state, op.now):
            return _hand_out(state, op.now, "timeout")
        return StepResult(state=state, result=None)
    if isinstance(op, Flush):
        if state.waiting:
            return _hand_out(state, op.now, "flush")
        return StepResult(state=state, result=None)
    raise TypeError(f"not a bundle builder operation: {op!r}")


def step(state: State, op: Op, observed: Any = UNOBSERVED) -> StepResult[State] | Inconsistent:
    """The next state and the result ``op`` must return (a ``BundleOut``,
    None, a count for ``Pending``, or ``Raises``). With ``observed``,
    ``Inconsistent`` when it differs."""
    return check_observed(_expected(state, op), observed, describe_op(op))


def describe_op(op: Op) -> str:
    """Short human form of an operation."""
    if isinstance(op, Push):
        return f"push(.., now={op.now!r})"
    if isinstance(op, Pending):
        return "pending"
    return f"{type(op).__name__.lower()}(now={op.now!r})"


def describe_state(state: State) -> str:
    """Short human form of a state."""
    return (f"{len(state.waiting)}/{state.max_txns} waiting since {state.first_ts}, "
            f"timeout {state.timeout}, next bundle #{state.next_seq}")
