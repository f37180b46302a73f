"""Every error of the public API: the exception class and a message that says
what was wrong and what is allowed. Nothing here may crash the interpreter.

One row per error: (id, call, exception class, regex the message must match).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import velox

T = velox.Transaction
INT64_MAX = (1 << 63) - 1


def _ring(cap: int = 4) -> velox.SpscRing:
    return velox.SpscRing(cap)


def _overflowing_book() -> None:
    b = velox.OrderBook()
    b.add(velox.BID, 1_000_000, INT64_MAX)
    b.add(velox.BID, 1_000_000, 1)


def _builder(reading: Any) -> velox.BundleBuilder:
    return velox.BundleBuilder(4, 10, clock=lambda: reading)


ERRORS: list[tuple[str, Callable[[], Any], type[BaseException], str]] = [
    # Transaction
    ("txn-id-negative", lambda: T(id=-1), ValueError, r"id must be in \[0, 18446744073709551615\], got -1"),
    ("txn-ts-too-big", lambda: T(ts=1 << 64), ValueError, r"ts must be in \[0, 18446744073709551615\]"),
    ("txn-price-too-big", lambda: T(price=1 << 63), ValueError, r"price must be in \[-9223372036854775808, 9223372036854775807\]"),
    ("txn-price-str", lambda: T(price="1"), TypeError, r"price must be an int, got str '1'"),
    ("txn-qty-too-big", lambda: T(qty=1 << 32), ValueError, r"qty must be in \[0, 4294967295\], got 4294967296"),
    ("txn-producer", lambda: T(producer=1 << 16), ValueError, r"producer must be in \[0, 65535\]"),
    ("txn-side", lambda: T(side=2), ValueError, r"side must be velox.BID \(0\) or velox.ASK \(1\), got 2"),
    ("txn-side-float", lambda: T(side=1.0), ValueError, r"side must be velox.BID \(0\) or velox.ASK \(1\), got 1.0"),
    ("txn-side-bool", lambda: T(side=True), ValueError, r"side must be velox.BID"),
    ("txn-qty-bool", lambda: T(qty=True), TypeError, r"qty must be an int, got bool"),
    ("txn-positional", lambda: T(1), TypeError, r"positional"),
    ("txn-unknown-field", lambda: T(size=1), TypeError, r"unexpected keyword argument 'size'"),
    ("from-bytes-short", lambda: T.from_bytes(bytes(31)), ValueError, r"a transaction is exactly 32 bytes, got 31"),
    ("from-bytes-long", lambda: T.from_bytes(bytes(33)), ValueError, r"exactly 32 bytes, got 33"),
    ("from-bytes-side", lambda: T.from_bytes(bytes(28) + b"\x02" + bytes(3)), ValueError, r"byte 28 \(side\) must be 0 or 1, got 2"),
    ("from-bytes-flags", lambda: T.from_bytes(bytes(29) + b"\x01" + bytes(2)), ValueError, r"byte 29 \(reserved\) must be 0, got 1"),
    ("from-bytes-str", lambda: T.from_bytes("x" * 32), TypeError, r"needs a bytes-like object .* got str"),
    # SpscRing
    ("ring-capacity-3", lambda: velox.SpscRing(3), ValueError, r"capacity must be a power of two from 1 to 67108864, got 3"),
    ("ring-capacity-0", lambda: velox.SpscRing(0), ValueError, r"power of two from 1 to 67108864, got 0"),
    ("ring-capacity-negative", lambda: velox.SpscRing(-4), ValueError, r"power of two .* got -4"),
    ("ring-capacity-too-big", lambda: velox.SpscRing(1 << 27), ValueError, r"power of two from 1 to 67108864, got 134217728"),
    ("ring-capacity-float", lambda: velox.SpscRing(4.0), TypeError, r"capacity must be an int, got float"),
    ("ring-capacity-bool", lambda: velox.SpscRing(True), TypeError, r"capacity must be an int, got bool"),
    ("ring-push-bytes", lambda: _ring().push(bytes(32)), TypeError, r"expected .*Transaction, got bytes"),
    ("ring-push-none", lambda: _ring().push(None), TypeError, r"expected .*Transaction, got NoneType"),
    ("ring-push-many-misaligned", lambda: _ring().push_many(bytes(33)), ValueError,
     r"buffer length must be a multiple of 32 bytes \(one record each\), got 33"),
    ("ring-push-many-str", lambda: _ring().push_many("abc"), TypeError, r"push_many needs a bytes-like object"),
    ("ring-push-many-strided", lambda: _ring().push_many(memoryview(bytes(64))[::2]), TypeError,
     r"push_many needs a C-contiguous buffer"),
    ("ring-pop-many-negative", lambda: _ring().pop_many(-1), ValueError, r"n must be in \[0, 67108864\], got -1"),
    ("ring-pop-many-float", lambda: _ring().pop_many(1.0), TypeError, r"n must be an int, got float"),
    ("ring-pop-into-readonly", lambda: _ring().pop_into(bytes(64)), TypeError,
     r"pop_into needs a writable buffer .* got read-only bytes"),
    ("ring-pop-into-int", lambda: _ring().pop_into(64), TypeError, r"pop_into needs a bytes-like object"),
    # OrderBook
    ("book-levels-0", lambda: velox.OrderBook(levels=0), ValueError, r"levels must be in \[1, 1048576\], got 0"),
    ("book-tick-shift", lambda: velox.OrderBook(tick_shift=41), ValueError, r"tick_shift must be in \[0, 40\], got 41"),
    ("book-base-negative", lambda: velox.OrderBook(base_price=-1), ValueError, r"base_price must be in \[0, 9223372036854775807\], got -1"),
    ("book-base-top", lambda: velox.OrderBook(base_price=INT64_MAX - 100), ValueError,
     r"base_price \+ \(levels << tick_shift\) = \d+ does not fit in a signed 64-bit price"),
    ("book-retries", lambda: velox.OrderBook(max_retries=0), ValueError, r"max_retries must be in \[1, 4294967295\], got 0"),
    ("book-price-below", lambda: velox.OrderBook().add(velox.BID, 991_807, 1), ValueError,
     r"price 991807 is outside the book: allowed \[991808, 1008192\) \(levels=1024, tick_shift=4\)"),
    ("book-price-above", lambda: velox.OrderBook().remove(velox.ASK, 1_008_192, 1), ValueError,
     r"price 1008192 is outside the book: allowed \[991808, 1008192\)"),
    ("book-depth-outside", lambda: velox.OrderBook().depth(velox.ASK, 0), ValueError, r"price 0 is outside the book"),
    ("book-price-float", lambda: velox.OrderBook().add(velox.BID, 1e6, 1), TypeError, r"price must be an int, got float"),
    ("book-qty-0", lambda: velox.OrderBook().add(velox.BID, 1_000_000, 0), ValueError,
     r"qty must be in \[1, 9223372036854775807\], got 0"),
    ("book-qty-negative", lambda: velox.OrderBook().remove(velox.BID, 1_000_000, -5), ValueError, r"qty must be in \[1, "),
    ("book-side", lambda: velox.OrderBook().add(2, 1_000_000, 1), ValueError, r"side must be velox.BID \(0\) or velox.ASK \(1\), got 2"),
    ("book-side-float", lambda: velox.OrderBook().add(0.0, 1_000_000, 1), ValueError, r"side must be velox.BID .* got 0.0"),
    ("book-below-zero", lambda: velox.OrderBook().remove(velox.BID, 1_000_000, 1), ValueError,
     r"cannot remove 1 at price 1000000 on bid: only 0 resting at that level \(never goes below zero\)"),
    ("book-overflow", _overflowing_book, ValueError, r"adding 1 at price 1000000 would overflow the level's 64-bit quantity"),
    ("book-level-price", lambda: velox.OrderBook().level_price(1024), ValueError, r"level must be in \[0, 1023\], got 1024"),
    # BundleBuilder
    ("builder-max-17", lambda: velox.BundleBuilder(17), ValueError, r"max_txns must be in \[1, 16\], got 17"),
    ("builder-max-0", lambda: velox.BundleBuilder(0), ValueError, r"max_txns must be in \[1, 16\], got 0"),
    ("builder-timeout-0", lambda: velox.BundleBuilder(16, 0), ValueError, r"timeout_ns must be in \[1, 18446744073709551615\], got 0"),
    ("builder-clock-not-callable", lambda: velox.BundleBuilder(clock=5), TypeError,
     r"clock must be a callable returning int nanoseconds, got 5"),
    ("builder-clock-float", lambda: _builder(1.5).poll(), TypeError, r"clock\(\) must be an int, got float 1.5"),
    ("builder-clock-negative", lambda: _builder(-1).push(T()), ValueError, r"clock\(\) must be in \[0, 18446744073709551614\], got -1"),
    ("builder-clock-max", lambda: _builder((1 << 64) - 1).flush(), ValueError, r"clock\(\) must be in \[0, 18446744073709551614\]"),
    ("builder-push-none", lambda: velox.BundleBuilder().push(None), TypeError, r"expected .*Transaction, got NoneType"),
    # tsc
    ("tsc-calibrate-0", lambda: velox.tsc.calibrate(0), ValueError, r"sleep_s must be a number from 0.001 to 10 seconds, got 0"),
    ("tsc-to-ns-negative", lambda: velox.tsc.to_ns(-1), ValueError, r"ticks must be in \[0, 18446744073709551615\], got -1"),
    # prices
    ("price-too-precise", lambda: velox.price_to_ticks("1.00001"), ValueError,
     r"price '1.00001' has more than 4 decimals; pass rounding=decimal.ROUND_HALF_EVEN"),
    ("price-nan", lambda: velox.price_to_ticks("NaN"), ValueError, r"price must be finite, got 'NaN'"),
    ("price-garbage", lambda: velox.price_to_ticks("1,5"), ValueError, r"not a decimal price: '1,5'"),
    ("price-bool", lambda: velox.price_to_ticks(False), TypeError, r"a price cannot be a bool"),
    ("price-list", lambda: velox.price_to_ticks([1]), TypeError, r"price must be Decimal, str, int or float, got list"),
    ("price-range", lambda: velox.price_to_ticks(10**15), ValueError, r"outside signed 64-bit ticks"),
    ("ticks-str", lambda: velox.ticks_to_str("1"), TypeError, r"ticks must be an int, got str"),
]


@pytest.mark.parametrize("call,exc,message", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error(call: Callable[[], Any], exc: type[BaseException], message: str) -> None:
    with pytest.raises(exc, match=message):
        call()


def test_ids_are_unique() -> None:
    ids = [e[0] for e in ERRORS]
    assert len(ids) == len(set(ids))


def test_a_raising_clock_propagates_and_changes_nothing() -> None:
    def broken() -> int:
        raise RuntimeError("clock source unplugged")

    b = velox.BundleBuilder(2, 10, clock=broken)
    with pytest.raises(RuntimeError, match="clock source unplugged"):
        b.push(T(id=1))
    assert b.pending == 0


def test_failed_calls_change_nothing() -> None:
    ring = velox.SpscRing(2)
    ring.push(T(id=1))
    for bad in (lambda: ring.push_many(bytes(33)), lambda: ring.pop_many(-1), lambda: ring.pop_into(bytes(32))):
        with pytest.raises((TypeError, ValueError)):
            bad()
    assert len(ring) == 1 and ring.pop() == T(id=1)

    book = velox.OrderBook()
    book.add(velox.BID, 1_000_000, 5)
    with pytest.raises(ValueError):
        book.remove(velox.BID, 1_000_000, 6)
    assert book.depth(velox.BID, 1_000_000) == 5 and book.best_bid() == 1_000_000
