"""Fixed-point prices: int ticks of 0.0001 ($100.25 is 1002500).

Conversions are exact by default: a price with more than four decimals raises
ValueError unless the caller names a rounding mode (any of ``decimal``'s
``ROUND_*`` constants), because silently rounding a price is a trading bug.
Arithmetic runs in a private decimal context wide enough for every input
digit, so the caller's context (28 digits by default) never rounds first.
"""

import decimal
from decimal import Decimal, InvalidOperation

SCALE = 10_000
_QUANTUM = Decimal("0.0001")
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
ROUNDINGS = (decimal.ROUND_DOWN, decimal.ROUND_HALF_UP, decimal.ROUND_HALF_EVEN, decimal.ROUND_CEILING,
             decimal.ROUND_FLOOR, decimal.ROUND_UP, decimal.ROUND_HALF_DOWN, decimal.ROUND_05UP)
#: Digits of a signed 64-bit tick count (19) plus four decimals, with room to spare.
_MAX_EXPONENT = 40


def _exact_context(d: Decimal) -> decimal.Context:
    """A context in which scaling ``d`` by 10**4 is exact (no rounding, no
    overflow): precision covers every digit of ``d`` plus the scale."""
    return decimal.Context(prec=len(d.as_tuple().digits) + 8, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN,
                           traps=[InvalidOperation, decimal.Overflow, decimal.DivisionByZero])


def price_to_ticks(value: "Decimal | str | int | float", *, rounding: str | None = None) -> int:
    """Convert a price to ticks. ``int`` means whole currency units (100 is
    $100.00); ``str``, ``Decimal`` and ``float`` are read as decimals (a float
    by its shortest repr). Raises ValueError for non-finite values, for more
    than four decimals without ``rounding`` (one of decimal's ``ROUND_*``
    modes), and outside signed 64-bit ticks."""
    if rounding is not None and rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of decimal's {', '.join(ROUNDINGS)} or None; got {rounding!r}")
    if isinstance(value, bool):
        raise TypeError("a price cannot be a bool")
    if isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, float):
        d = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal price: {value!r}") from None
    elif isinstance(value, Decimal):
        d = value
    else:
        raise TypeError(f"price must be Decimal, str, int or float, got {type(value).__name__}")
    if not d.is_finite():
        raise ValueError(f"price must be finite, got {value!r}")
    # Magnitude first, from the exponent alone: '1e10000000' must not build a
    # ten-million-digit integer before being rejected.
    if not d.is_zero() and d.adjusted() > _MAX_EXPONENT:
        raise ValueError(f"price {value!r} is outside signed 64-bit ticks")
    ctx = _exact_context(d)
    scaled = ctx.multiply(d, Decimal(SCALE))
    integral = scaled.to_integral_value(context=ctx)
    if scaled != integral:
        if rounding is None:
            raise ValueError(
                f"price {value!r} has more than 4 decimals; pass rounding=decimal.ROUND_HALF_EVEN "
                "(or another ROUND_* mode) to round it")
        integral = scaled.to_integral_value(rounding=rounding, context=ctx)
    ticks = int(integral)
    if not _INT64_MIN <= ticks <= _INT64_MAX:
        raise ValueError(f"price {value!r} is outside signed 64-bit ticks")
    return ticks


def ticks_to_decimal(ticks: int) -> Decimal:
    """Exact Decimal with four places: 1002500 -> Decimal('100.2500').
    ValueError outside signed 64-bit ticks (what a Transaction can hold)."""
    if isinstance(ticks, bool) or not isinstance(ticks, int):
        raise TypeError(f"ticks must be an int, got {type(ticks).__name__}")
    if not _INT64_MIN <= ticks <= _INT64_MAX:
        raise ValueError(f"ticks must be within signed 64-bit ({_INT64_MIN} to {_INT64_MAX}), got {ticks}")
    return Decimal(ticks).scaleb(-4, context=decimal.Context(prec=30))


def ticks_to_str(ticks: int) -> str:
    """'100.2500' for 1002500."""
    return str(ticks_to_decimal(ticks))
