"""The log-linear latency histogram (vx_hist.c): quantiles within one
bucket of the exact value, bucket bounds, the empty histogram."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from velox._native import _core


@given(st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 10_000), min_size=1, max_size=300),
       st.sampled_from([0.0, 0.5, 0.9, 0.99, 0.999, 1.0]))
def test_histogram_quantile_bounds(values, q):
    h = _core._Histogram()
    for v in values:
        h.record(v)
    s = sorted(values)
    exact = s[max(1, math.ceil(q * len(s))) - 1]
    got = h.quantile(q)
    assert exact <= got <= exact + exact // 32, (exact, got)
    summary = h.summary()
    assert summary["count"] == len(values) and summary["max"] == s[-1]


@given(st.integers(0, 2**64 - 1))
def test_histogram_bucket_holds_value(v):
    lo, hi = _core._Histogram.bucket_bounds(v)
    assert lo <= v <= hi
    assert hi - lo <= max(0, lo // 32)


def test_histogram_empty():
    h = _core._Histogram()
    assert h.quantile(0.99) == 0
    with pytest.raises(ValueError):
        h.quantile(1.5)


