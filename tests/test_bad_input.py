"""Bad input and misuse of the Python API: every case gets a clear error
naming the value and what is allowed, never a wrong answer, a crash or a
silent clamp."""

from __future__ import annotations

import decimal
import gc
import math
import os
import pickle
import subprocess
import sys
import time
import tracemalloc

import pytest

import velox
from velox import MpmcRing, SpscRing, Transaction
from velox._pipeline import Pipeline, PipelineConfig

# -- prices ------------------------------------------------------------------

def test_price_beyond_context_precision_is_not_rounded_silently():
    v = "0.99999999999999999999999999999999"
    with pytest.raises(ValueError, match="more than 4 decimals"):
        velox.price_to_ticks(v)
    assert velox.price_to_ticks(v, rounding=decimal.ROUND_DOWN) == 9999
    assert velox.price_to_ticks(v, rounding=decimal.ROUND_UP) == 10000
    # Long exact values stay exact too.
    assert velox.price_to_ticks("123456789012345.1234") == 1234567890123451234


@pytest.mark.parametrize("value", ["1e10000000", "-1e10000000", "9" * 40])
def test_price_overflow_is_value_error(value):
    with pytest.raises(ValueError, match="outside signed 64-bit ticks"):
        velox.price_to_ticks(value)


def test_ticks_outside_int64_is_value_error():
    with pytest.raises(ValueError, match="signed 64-bit"):
        velox.ticks_to_str(2**100)
    with pytest.raises(ValueError, match="signed 64-bit"):
        velox.ticks_to_decimal(-(2**63) - 1)
    assert velox.ticks_to_str(2**63 - 1) == "922337203685477.5807"


@pytest.mark.parametrize("rounding", ["ROUND_SIDEWAYS", "", 3])
def test_bogus_rounding_rejected_even_when_not_needed(rounding):
    with pytest.raises(ValueError, match="rounding must be one of"):
        velox.price_to_ticks("1.5", rounding=rounding)


# -- wire records at the ring boundary ---------------------------------------

BAD_RECORDS = {
    "side 7": bytes(28) + b"\x07\x00\x00\x00",
    "reserved 9": bytes(28) + b"\x00\x09\x00\x00",
    "both": bytes(28) + b"\x07\x09\x00\x00",
}


@pytest.mark.parametrize("ring_type", [SpscRing, MpmcRing])
@pytest.mark.parametrize("name", sorted(BAD_RECORDS))
def test_push_many_rejects_invalid_records(ring_type, name):
    good = Transaction(id=1, qty=2).to_bytes()
    ring = ring_type(8)
    with pytest.raises(ValueError, match=r"record 1 .*byte 2[89]"):
        ring.push_many(good + BAD_RECORDS[name])
    assert len(ring) == 0  # all or nothing: the valid record before it is not pushed either
    assert ring.push_many(good + good) == 2
    t = ring.pop()
    assert pickle.loads(pickle.dumps(t)) == t


# -- pop_many on an empty ring -------------------------------------------------

@pytest.mark.parametrize("ring_type", [SpscRing, MpmcRing])
def test_pop_many_on_empty_ring_does_not_allocate_the_request(ring_type):
    ring = ring_type(1 << 20)
    ring.pop_many(1)  # warm up
    tracemalloc.start()
    try:
        out = ring.pop_many(1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out == bytearray()
    assert peak < 64 * 1024, f"pop_many(2**20) on an empty ring allocated {peak} bytes"


# -- MpmcRing buffer errors name the method -------------------------------------

@pytest.mark.parametrize("method,arg,match", [
    ("push_many", 12345, "push_many needs a bytes-like object"),
    ("pop_into", b"\0" * 32, "pop_into needs a writable buffer"),
    ("pop_into", "text", "pop_into needs a bytes-like object"),
])
def test_mpmc_buffer_errors_name_the_method(method, arg, match):
    with pytest.raises(TypeError, match=match):
        getattr(MpmcRing(8), method)(arg)


def test_mpmc_strided_buffer_named():
    strided = memoryview(bytearray(64 * 2)).cast("B")[::2]
    with pytest.raises(TypeError, match="push_many needs a C-contiguous buffer"):
        MpmcRing(8).push_many(strided)


# -- bundles -----------------------------------------------------------------

def test_bundle_direct_construction_is_usable():
    b = velox.Bundle()
    assert "Bundle" in repr(b)
    assert len(b) == 0 and list(b) == []


def test_bundle_builder_huge_timeout_never_fires():
    b = velox.BundleBuilder(max_txns=16, timeout_ns=2**63)
    b.push(Transaction(id=1))
    time.sleep(0.02)
    assert b.poll() is None  # 2**63 ns is ~292 years: it must not fire after 20 ms
    assert b.timeout_ns == 2**63


def test_bundle_builder_timeout_beyond_u64_rejected():
    with pytest.raises(ValueError, match="timeout_ns"):
        velox.BundleBuilder(timeout_ns=2**64)


# -- the pipeline object ---------------------------------------------------------

def test_pipeline_wait_before_start_is_an_error():
    p = Pipeline(PipelineConfig(duration=0.01))
    with pytest.raises(RuntimeError, match="start"):
        p.wait()


def test_pipeline_never_waited_closes_its_output_file(tmp_path):
    path = tmp_path / "out.bin"
    before = set(os.listdir("/proc/self/fd"))
    p = Pipeline(PipelineConfig(duration=0.01, output=str(path)))
    assert len(set(os.listdir("/proc/self/fd")) - before) == 1
    del p
    gc.collect()
    assert set(os.listdir("/proc/self/fd")) - before == set()


def test_pipeline_close_is_explicit_and_idempotent(tmp_path):
    before = set(os.listdir("/proc/self/fd"))
    with Pipeline(PipelineConfig(duration=0.01, output=str(tmp_path / "o.bin"))) as p:
        pass
    p.close()
    assert set(os.listdir("/proc/self/fd")) - before == set()


# -- lincheck -------------------------------------------------------------------

@pytest.mark.parametrize("call,ret", [(math.nan, 1), (0, math.nan), (math.inf, math.inf), (-math.inf, 0)])
def test_lincheck_rejects_non_finite_times(call, ret):
    from velox.lincheck import Operation

    with pytest.raises(ValueError, match="finite"):
        Operation(client=0, call=call, ret=ret, input=None, output=None)


@pytest.mark.parametrize("max_steps", [-1, 0, 1.5, True])
def test_lincheck_rejects_bad_max_steps(max_steps):
    from velox.lincheck import Model, Operation, check_operations

    model = Model(init=lambda: 0, step=lambda s, i, o: (True, s, ""))
    ops = [Operation(client=0, call=0, ret=1, input=None, output=None)]
    with pytest.raises((ValueError, TypeError), match="max_steps"):
        check_operations(model, ops, max_steps=max_steps)


# -- velox bench ------------------------------------------------------------------

def test_bench_unpinned_by_request_is_not_reported_as_pinning_failure():
    r = subprocess.run([sys.executable, "-m", "velox", "bench", "--cpus=-1,-1", "--capacity", "64",
                        "--batch", "16", "--records", "2000", "--repeats", "1", "--round-trips", "10", "--quiet"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "pinning failed" not in r.stdout
    assert "unpinned as asked" in r.stdout
