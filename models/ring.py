"""Reference model of ``velox.SpscRing``: a bounded FIFO of 32-byte records.

The ring holds at most ``capacity`` records (a power of two from 1 to 2**26).
``push`` appends a record or returns False when full (it never overwrites);
``pop`` returns the oldest record or None when empty; ``push_many`` appends as
many whole records of a buffer as fit and returns how many; ``pop_many(n)``
and ``pop_into`` return up to n oldest records, concatenated. Free-running
indices, cached indices and wrap-around are implementation details the model
does not see: whatever the indices do, the observable behaviour is this FIFO.

Records are ``bytes`` of exactly 32 (the wire form of a transaction): the
model never looks inside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._step import UNOBSERVED, Inconsistent, Raises, StepResult, check_observed

#: Bytes per record (a transaction's wire form).
RECORD_SIZE = 32
#: Largest capacity (and largest ``pop_many`` count) the ring accepts.
MAX_CAPACITY = 1 << 26


@dataclass(frozen=True, kw_only=True)
class State:
    """Capacity and the queued records, oldest first."""

    capacity: int
    items: tuple[bytes, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Push:
    record: bytes


@dataclass(frozen=True, kw_only=True)
class Pop:
    pass


@dataclass(frozen=True, kw_only=True)
class PushMany:
    """Push the whole records of ``buffer`` (its length must be a multiple of 32)."""

    buffer: bytes


@dataclass(frozen=True, kw_only=True)
class PopMany:
    """Pop up to ``n`` records (0 <= n <= MAX_CAPACITY); result: their bytes."""

    n: int


@dataclass(frozen=True, kw_only=True)
class PopInto:
    """Pop into a buffer of ``size`` bytes: up to size // 32 records; result:
    (count, the bytes written). Bytes past the last whole record are untouched."""

    size: int


@dataclass(frozen=True, kw_only=True)
class Len:
    pass


Op = Push | Pop | PushMany | PopMany | PopInto | Len


def init(capacity: int) -> State:
    """An empty ring; ValueError unless capacity is a power of two in [1, 2**26]
    (TypeError if it is not an int)."""
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        raise TypeError(f"capacity must be an int, got {type(capacity).__name__}")
    if not 1 <= capacity <= MAX_CAPACITY or capacity & (capacity - 1):
        raise ValueError(f"capacity must be a power of two from 1 to {MAX_CAPACITY}, got {capacity}")
    return State(capacity=capacity)


def _records(buffer: bytes) -> tuple[bytes, ...]:
    return tuple(buffer[i:i + RECORD_SIZE] for i in range(0, len(buffer), RECORD_SIZE))


def _expected(state: State, op: Op) -> StepResult[State]:
    free = state.capacity - len(state.items)
    if isinstance(op, Push):
        if free == 0:
            return StepResult(state=state, result=False)
        return StepResult(state=State(capacity=state.capacity, items=state.items + (op.record,)), result=True)
    if isinstance(op, Pop):
        if not state.items:
            return StepResult(state=state, result=None)
        return StepResult(state=State(capacity=state.capacity, items=state.items[1:]), result=state.items[0])
    if isinstance(op, PushMany):
        if len(op.buffer) % RECORD_SIZE:
            return StepResult(state=state, result=Raises(
                error="ValueError", reason="buffer length must be a multiple of 32 bytes"))
        taken = _records(op.buffer)[:free]
        return StepResult(state=State(capacity=state.capacity, items=state.items + taken), result=len(taken))
    if isinstance(op, PopMany):
        if isinstance(op.n, bool) or not isinstance(op.n, int):
            return StepResult(state=state, result=Raises(error="TypeError", reason="n must be an int"))
        if not 0 <= op.n <= MAX_CAPACITY:
            return StepResult(state=state, result=Raises(
                error="ValueError", reason=f"n must be in [0, {MAX_CAPACITY}]"))
        out, rest = state.items[:op.n], state.items[op.n:]
        return StepResult(state=State(capacity=state.capacity, items=rest), result=b"".join(out))
    if isinstance(op, PopInto):
        k = op.size // RECORD_SIZE
        out, rest = state.items[:k], state.items[k:]
        return StepResult(state=State(capacity=state.capacity, items=rest), result=(len(out), b"".join(out)))
    if isinstance(op, Len):
        return StepResult(state=state, result=len(state.items))
    raise TypeError(f"not a ring operation: {op!r}")


def step(state: State, op: Op, observed: Any = UNOBSERVED) -> StepResult[State] | Inconsistent:
    """The next state and the result ``op`` must return. With ``observed``
    (what an implementation returned), ``Inconsistent`` when they differ."""
    return check_observed(_expected(state, op), observed, describe_op(op))


def describe_op(op: Op) -> str:
    """Short human form of an operation."""
    if isinstance(op, Push):
        return f"push({op.record.hex()[:16]}..)"
    if isinstance(op, PushMany):
        return f"push_many({len(op.buffer)} bytes)"
    if isinstance(op, PopMany):
        return f"pop_many({op.n!r})"
    if isinstance(op, PopInto):
        return f"pop_into({op.size} bytes)"
    return f"{type(op).__name__.lower()}()"


def describe_state(state: State) -> str:
    """Short human form of a state."""
    return f"ring {len(state.items)}/{state.capacity}"
