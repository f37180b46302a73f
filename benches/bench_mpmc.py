"""MpmcRing against SpscRing, its peer, in the same run.

Per item from Python: push+pop of one Transaction (the Python call dominates;
the ratio shows what the per-cell sequence numbers and the claiming
compare-exchange add). Native, two threads: one producer and one consumer C
thread through the test suite's native stress drivers (velox_testing.stress), which do the same work per
record for both rings (fill a record, push, pop, check FIFO and payload), so
the ratio of their record rates compares the rings; run as interleaved
0.2 s slices, median of 7 each, printed.
"""

from __future__ import annotations

import statistics

import pytest

import velox
from velox_testing.stress import StressMpmc, StressRing

ITEMS = 1_000
TXN = velox.Transaction(id=1, ts=2, price=1_002_500, qty=10, side=velox.BID, producer=3)


@pytest.mark.benchmark(group="mpmc-per-item")
def test_spsc_push_pop(per_item):
    ring = velox.SpscRing(1024)
    push, pop, txn = ring.push, ring.pop, TXN

    def loop() -> None:
        for _ in range(ITEMS):
            push(txn)
            pop()

    per_item(loop, items=ITEMS, label="SpscRing push+pop (peer)", reference=True)


@pytest.mark.benchmark(group="mpmc-per-item")
def test_mpmc_push_pop(per_item):
    ring = velox.MpmcRing(1024)
    push, pop, txn = ring.push, ring.pop, TXN

    def loop() -> None:
        for _ in range(ITEMS):
            push(txn)
            pop()

    per_item(loop, items=ITEMS, label="MpmcRing push+pop")
    assert len(ring) == 0


@pytest.mark.benchmark(group="mpmc-native")
def test_native_two_thread_rates(benchmark, capsys):
    spsc = StressRing(1024, max_batch=1, seed=1)
    mpmc = StressMpmc(1024, producers=1, consumers=1, seed=1)
    rates: dict[str, list[float]] = {"SpscRing 1P1C (peer)": [], "MpmcRing 1P1C": []}

    def both() -> None:
        for _ in range(7):
            r = spsc.run(seconds=0.2)
            rates["SpscRing 1P1C (peer)"].append(r["ops"] / 2 / 0.2)  # ops = pushes + pops
            r = mpmc.run(seconds=0.2)
            rates["MpmcRing 1P1C"].append(r["ops"] / 2 / 0.2)
            assert r["violations"] == 0

    benchmark.pedantic(both, rounds=1, iterations=1)  # the rates below are the figures, not this time
    peer = statistics.median(rates["SpscRing 1P1C (peer)"])
    with capsys.disabled():
        print("\nnative two-thread records/s (median of 7 interleaved 0.2 s slices, checks included):")
        for name, xs in rates.items():
            m = statistics.median(xs)
            print(f"  {name:<24} {m / 1e6:8.2f} M/s   ratio to peer {m / peer:5.2f}")
