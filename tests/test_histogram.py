"""The log-linear latency histogram (vx_hist.c): quantiles within one
bucket of the exact value, bucket bounds, the empty histogram."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
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




@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([0, 1, 31, 32, 33, 1000, 1001, 2**40, 2**63]), max_size=60))
def test_recording_runs_of_equal_values_equals_recording_each(values):
    """The pipeline's stages record runs of equal ages at once (a batch shares
    one timestamp): counts, sum, max and every quantile match recording each
    value on its own."""
    each, runs = _core._Histogram(), _core._Histogram()
    for v in values:
        each.record(v)
    runs.record_runs(values)
    assert runs.summary() == each.summary()
    for q in (0.0, 0.5, 0.9, 0.99, 1.0):
        assert runs.quantile(q) == each.quantile(q)
