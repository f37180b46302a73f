"""Reference model of the 32-byte transaction record and of fixed-point prices.

Layout (little-endian, no padding): ``struct.Struct("<QQqIBBH")``

====== ====== ==== ======== =================================
offset field  size type     allowed values
====== ====== ==== ======== =================================
0      id     8    u64      0 .. 2**64 - 1 (per-producer sequence)
8      ts     8    u64      0 .. 2**64 - 1 (TSC ticks at ingress)
16     price  8    i64      -2**63 .. 2**63 - 1 (ticks of 0.0001)
24     qty    4    u32      0 .. 2**32 - 1
28     side   1    u8       0 (BID) or 1 (ASK)
29     flags  1    u8       0 (reserved)
30     producer 2  u16      0 .. 2**16 - 1
====== ====== ==== ======== =================================

Prices are integer ticks of 0.0001: $100.25 is 1002500. Converting to ticks
is exact: more than four decimals is a ValueError unless a ``decimal``
rounding mode is named. An ``int`` means whole currency units, a ``float`` is
read by its shortest repr, a ``str`` or ``Decimal`` as written; NaN and
infinities are ValueErrors, a bool a TypeError, and the result must fit in a
signed 64-bit int. Ticks convert back to a ``Decimal`` with exactly four
places.

The record model is stateless, so ``init()`` returns the single empty state
and ``step`` answers ``Encode``/``Decode``/``ToTicks``/``FromTicks`` requests.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ._step import UNOBSERVED, Inconsistent, Raises, StepResult, check_observed

LAYOUT = struct.Struct("<QQqIBBH")
SIZE = LAYOUT.size
BID = 0
ASK = 1
SCALE = 10_000
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


@dataclass(frozen=True, kw_only=True)
class Field:
    """One field of the record: where it sits and what it may hold."""

    name: str
    offset: int
    size: int
    lo: int
    hi: int


#: The fields in layout order (offsets are what ``LAYOUT`` produces).
FIELDS: tuple[Field, ...] = (
    Field(name="id", offset=0, size=8, lo=0, hi=(1 << 64) - 1),
    Field(name="ts", offset=8, size=8, lo=0, hi=(1 << 64) - 1),
    Field(name="price", offset=16, size=8, lo=INT64_MIN, hi=INT64_MAX),
    Field(name="qty", offset=24, size=4, lo=0, hi=(1 << 32) - 1),
    Field(name="side", offset=28, size=1, lo=BID, hi=ASK),
    Field(name="flags", offset=29, size=1, lo=0, hi=0),
    Field(name="producer", offset=30, size=2, lo=0, hi=(1 << 16) - 1),
)


@dataclass(frozen=True, kw_only=True)
class Record:
    """A transaction's field values (flags is always 0 and not stored)."""

    id: int = 0
    ts: int = 0
    price: int = 0
    qty: int = 0
    side: int = BID
    producer: int = 0


def check_fields(rec: Record) -> None:
    """TypeError for a non-int field, ValueError for one outside its range."""
    for f in FIELDS:
        if f.name == "flags":
            continue
        value = getattr(rec, f.name)
        if isinstance(value, bool) or not isinstance(value, int):
            if f.name == "side":
                raise ValueError(f"side must be BID (0) or ASK (1), got {value!r}")
            raise TypeError(f"{f.name} must be an int, got {type(value).__name__} {value!r}")
        if not f.lo <= value <= f.hi:
            raise ValueError(f"{f.name} must be in [{f.lo}, {f.hi}], got {value}")


def encode(rec: Record) -> bytes:
    """The 32-byte wire form of a valid record."""
    check_fields(rec)
    return LAYOUT.pack(rec.id, rec.ts, rec.price, rec.qty, rec.side, 0, rec.producer)


def decode(data: bytes) -> Record:
    """A record from exactly 32 bytes; ValueError for another length, a side
    other than 0/1 or a non-zero reserved byte."""
    if len(data) != SIZE:
        raise ValueError(f"a transaction is exactly {SIZE} bytes, got {len(data)}")
    id_, ts, price, qty, side, flags, producer = LAYOUT.unpack(bytes(data))
    if side not in (BID, ASK):
        raise ValueError(f"byte 28 (side) must be 0 or 1, got {side}")
    if flags != 0:
        raise ValueError(f"byte 29 (reserved) must be 0, got {flags}")
    return Record(id=id_, ts=ts, price=price, qty=qty, side=side, producer=producer)


def price_to_ticks(value: Any, rounding: str | None = None) -> int:
    """Ticks of a price, exact unless ``rounding`` (a decimal ROUND_* mode) is given."""
    if isinstance(value, bool):
        raise TypeError("a price cannot be a bool")
    if isinstance(value, float):
        d = Decimal(repr(value))
    elif isinstance(value, (int, Decimal)):
        d = Decimal(value)
    elif isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal price: {value!r}") from None
    else:
        raise TypeError(f"price must be Decimal, str, int or float, got {type(value).__name__}")
    if not d.is_finite():
        raise ValueError(f"price must be finite, got {value!r}")
    scaled = d * SCALE
    if scaled != scaled.to_integral_value():
        if rounding is None:
            raise ValueError(f"price {value!r} has more than 4 decimals")
        scaled = scaled.to_integral_value(rounding=rounding)
    ticks = int(scaled)
    if not INT64_MIN <= ticks <= INT64_MAX:
        raise ValueError(f"price {value!r} is outside signed 64-bit ticks")
    return ticks


def ticks_to_decimal(ticks: int) -> Decimal:
    """The price of ``ticks`` as a Decimal with exactly four places."""
    if isinstance(ticks, bool) or not isinstance(ticks, int):
        raise TypeError(f"ticks must be an int, got {type(ticks).__name__}")
    return Decimal(ticks).scaleb(-4)


def ticks_to_str(ticks: int) -> str:
    """The price of ``ticks`` as a string with exactly four decimals: '100.2500'."""
    return str(ticks_to_decimal(ticks))


@dataclass(frozen=True, kw_only=True)
class State:
    """The record model has no state."""


@dataclass(frozen=True, kw_only=True)
class Encode:
    record: Record


@dataclass(frozen=True, kw_only=True)
class Decode:
    data: bytes


@dataclass(frozen=True, kw_only=True)
class ToTicks:
    value: Any
    rounding: str | None = None


@dataclass(frozen=True, kw_only=True)
class FromTicks:
    ticks: Any


Op = Encode | Decode | ToTicks | FromTicks


def init() -> State:
    """The (only) state."""
    return State()


def _expected(state: State, op: Op) -> StepResult[State]:
    funcs = {
        Encode: lambda: encode(op.record),
        Decode: lambda: decode(op.data),
        ToTicks: lambda: price_to_ticks(op.value, op.rounding),
        FromTicks: lambda: ticks_to_decimal(op.ticks),
    }
    try:
        return StepResult(state=state, result=funcs[type(op)]())
    except (TypeError, ValueError) as exc:
        return StepResult(state=state, result=Raises(error=type(exc).__name__, reason=str(exc)))


def step(state: State, op: Op, observed: Any = UNOBSERVED) -> StepResult[State] | Inconsistent:
    """The result ``op`` must return; with ``observed``, Inconsistent if it differs."""
    return check_observed(_expected(state, op), observed, describe_op(op))


def describe_op(op: Op) -> str:
    """Short human form of an operation."""
    return repr(op)


def describe_state(state: State) -> str:
    """The record model has no state to describe."""
    return "(stateless)"
