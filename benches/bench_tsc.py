"""velox.tsc.now() (rdtscp, a METH_FASTCALL builtin) against time.perf_counter_ns()
(the reference) and time.monotonic_ns(), in the same run. Each call performs
ITEMS reads (see conftest.py)."""

from __future__ import annotations

import time

import pytest

from velox import tsc

ITEMS = 1_000


@pytest.mark.benchmark(group="clock-read")
def test_tsc_now(per_item):
    now = tsc.now

    def loop() -> None:
        for _ in range(ITEMS):
            now()

    per_item(loop, items=ITEMS, label="velox.tsc.now()")
    assert tsc.now() > 0


@pytest.mark.benchmark(group="clock-read")
def test_perf_counter_ns(per_item):
    now = time.perf_counter_ns

    def loop() -> None:
        for _ in range(ITEMS):
            now()

    per_item(loop, items=ITEMS, label="time.perf_counter_ns() (peer)", reference=True)


@pytest.mark.benchmark(group="clock-read")
def test_monotonic_ns(per_item):
    now = time.monotonic_ns

    def loop() -> None:
        for _ in range(ITEMS):
            now()

    per_item(loop, items=ITEMS, label="time.monotonic_ns() (peer)")
