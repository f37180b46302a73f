"""Fixed-point prices: int ticks of 0.0001 ($100.25 is 1002500).

Conversions are exact by default: a price with more than four decimals raises
ValueError unless the caller names a rounding mode (any of ``decimal``'s
``ROUND_*`` constants), because silently rounding a price is a trading bug.
"""

from decimal import Decimal, InvalidOperation

SCALE = 10_000
_QUANTUM = Decimal("0.0001")
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


def price_to_ticks(value: "Decimal | str | int | float", *, rounding: str | None = None) -> int:
    """Convert a price to ticks. ``int`` means whole currency units (100 is
    $100.00); ``str``, ``Decimal`` and ``float`` are read as decimals (a float
    by its shortest repr). Raises ValueError for non-finite values, for more
    than four decimals without ``rounding``, and outside signed 64-bit ticks."""
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
    scaled = d * SCALE
    if scaled != scaled.to_integral_value():
        if rounding is None:
            raise ValueError(
                f"price {value!r} has more than 4 decimals; pass rounding=decimal.ROUND_HALF_EVEN "
                "(or another ROUND_* mode) to round it")
        scaled = scaled.to_integral_value(rounding=rounding)
    ticks = int(scaled)
    if not _INT64_MIN <= ticks <= _INT64_MAX:
        raise ValueError(f"price {value!r} is outside signed 64-bit ticks")
    return ticks


def ticks_to_decimal(ticks: int) -> Decimal:
    """Exact Decimal with four places: 1002500 -> Decimal('100.2500')."""
    if isinstance(ticks, bool) or not isinstance(ticks, int):
        raise TypeError(f"ticks must be an int, got {type(ticks).__name__}")
    return (Decimal(ticks) / SCALE).quantize(_QUANTUM)


def ticks_to_str(ticks: int) -> str:
    """'100.2500' for 1002500."""
    return str(ticks_to_decimal(ticks))
