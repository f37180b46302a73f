"""Fixed-point prices: ticks of 0.0001 to and from Decimal/str/int/float.
Exact by default, rounding only when asked, limits at signed 64 bits; the
package's functions agree with the model's (velox.models.txn)."""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import velox
from velox.models import txn as model

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
ticks = st.integers(INT64_MIN, INT64_MAX)


@pytest.mark.parametrize("value,expected", [
    ("100.25", 1002500), (Decimal("100.25"), 1002500), (100, 1000000), (100.25, 1002500),
    ("0.0001", 1), ("-0.0001", -1), ("0", 0), (" 1.5 ", 15000), ("1e-4", 1), ("1E2", 1000000),
    (0.1, 1000), (Decimal("-0"), 0),
])
def test_examples(value: object, expected: int) -> None:
    assert velox.price_to_ticks(value) == expected
    assert model.price_to_ticks(value) == expected


@given(ticks)
def test_round_trip_through_str_and_decimal(t: int) -> None:
    s = velox.ticks_to_str(t)
    assert velox.price_to_ticks(s) == t
    assert velox.price_to_ticks(velox.ticks_to_decimal(t)) == t
    assert velox.ticks_to_decimal(t) == model.ticks_to_decimal(t)
    assert s == model.ticks_to_str(t)


@given(ticks)
def test_always_four_places(t: int) -> None:
    d = velox.ticks_to_decimal(t)
    assert d.as_tuple().exponent == -4
    assert velox.ticks_to_str(t) == str(d)


@pytest.mark.parametrize("value,rounding,expected", [
    ("0.00005", decimal.ROUND_HALF_EVEN, 0), ("0.00015", decimal.ROUND_HALF_EVEN, 2),
    ("0.00025", decimal.ROUND_HALF_EVEN, 2), ("0.00005", decimal.ROUND_HALF_UP, 1),
    ("-0.00005", decimal.ROUND_HALF_UP, -1), ("1.00009", decimal.ROUND_DOWN, 10000),
    ("-1.00009", decimal.ROUND_DOWN, -10000), ("-1.00001", decimal.ROUND_FLOOR, -10001),
    ("1.00001", decimal.ROUND_CEILING, 10001), ("100.25", decimal.ROUND_HALF_EVEN, 1002500),
])
def test_rounding_only_when_asked(value: str, rounding: str, expected: int) -> None:
    assert velox.price_to_ticks(value, rounding=rounding) == expected
    assert model.price_to_ticks(value, rounding) == expected


@given(st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-10**12, max_value=10**12))
def test_agrees_with_model(d: Decimal) -> None:
    for rounding in (None, decimal.ROUND_HALF_EVEN):
        try:
            expected = model.price_to_ticks(d, rounding)
        except ValueError:
            with pytest.raises(ValueError):
                velox.price_to_ticks(d, rounding=rounding)
            continue
        assert velox.price_to_ticks(d, rounding=rounding) == expected


def test_limits() -> None:
    top, bottom = velox.ticks_to_str(INT64_MAX), velox.ticks_to_str(INT64_MIN)
    assert top == "922337203685477.5807" and bottom == "-922337203685477.5808"
    assert velox.price_to_ticks(top) == INT64_MAX and velox.price_to_ticks(bottom) == INT64_MIN
    with pytest.raises(ValueError, match="outside signed 64-bit ticks"):
        velox.price_to_ticks("922337203685477.5808")
    with pytest.raises(ValueError, match="outside signed 64-bit ticks"):
        velox.price_to_ticks("-922337203685477.5809")


@pytest.mark.parametrize("value,exc,message", [
    ("100.00001", ValueError, r"more than 4 decimals; pass rounding=decimal.ROUND_HALF_EVEN"),
    (0.00001, ValueError, "more than 4 decimals"),
    ("nan", ValueError, "price must be finite"),
    (Decimal("Infinity"), ValueError, "price must be finite"),
    (float("inf"), ValueError, "price must be finite"),
    ("abc", ValueError, "not a decimal price: 'abc'"),
    ("", ValueError, "not a decimal price"),
    (True, TypeError, "a price cannot be a bool"),
    (None, TypeError, "price must be Decimal, str, int or float, got NoneType"),
    (b"1", TypeError, "got bytes"),
])
def test_bad_prices(value: object, exc: type, message: str) -> None:
    with pytest.raises(exc, match=message):
        velox.price_to_ticks(value)
    with pytest.raises(exc):
        model.price_to_ticks(value)


@pytest.mark.parametrize("value", [1.5, "1", True, None])
def test_bad_ticks(value: object) -> None:
    with pytest.raises(TypeError, match="ticks must be an int"):
        velox.ticks_to_decimal(value)
    with pytest.raises(TypeError, match="ticks must be an int"):
        velox.ticks_to_str(value)
    with pytest.raises(TypeError):
        model.ticks_to_decimal(value)
