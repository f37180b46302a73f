"""SpscRing from Python: per-item push+pop against queue.SimpleQueue put+get
and collections.deque append+popleft of the same object, in the same run;
and batch push_many/pop_into of 1e6 records per call, per record, against a
plain 32 MB memory copy (the floor any batch copy has to pay).

The native two-thread throughput of the ring is measured by ``velox bench``
(vx_bench.c), not here: Python's threads cannot drive a ring fast enough to
say anything about it.
"""

from __future__ import annotations

import collections
import queue
import struct

import pytest

import velox

ITEMS = 1_000  # operations per timed call (see conftest.py)
BATCH = 1_000_000  # records per batch call
TXN = velox.Transaction(id=1, ts=2, price=1_002_500, qty=10, side=velox.BID, producer=3)


def _loop_overhead() -> None:
    for _ in range(ITEMS):
        pass


@pytest.mark.benchmark(group="ring-per-item")
def test_loop_overhead(per_item):
    per_item(_loop_overhead, items=ITEMS, label="loop overhead (empty for loop)")


@pytest.mark.benchmark(group="ring-per-item")
def test_spsc_ring_push_pop(per_item):
    ring = velox.SpscRing(1024)
    push, pop, txn = ring.push, ring.pop, TXN

    def loop() -> None:
        for _ in range(ITEMS):
            push(txn)
            pop()

    per_item(loop, items=ITEMS, label="SpscRing push+pop")
    assert len(ring) == 0 and ring.push(txn) and ring.pop() == txn


@pytest.mark.benchmark(group="ring-per-item")
def test_simplequeue_put_get(per_item):
    q: queue.SimpleQueue = queue.SimpleQueue()
    put, get, txn = q.put, q.get, TXN

    def loop() -> None:
        for _ in range(ITEMS):
            put(txn)
            get()

    per_item(loop, items=ITEMS, label="queue.SimpleQueue put+get (peer)", reference=True)
    assert q.empty()


@pytest.mark.benchmark(group="ring-per-item")
def test_deque_append_popleft(per_item):
    d: collections.deque = collections.deque()
    append, popleft, txn = d.append, d.popleft, TXN

    def loop() -> None:
        for _ in range(ITEMS):
            append(txn)
            popleft()

    per_item(loop, items=ITEMS, label="collections.deque append+popleft (peer)")
    assert not d


def _records(n: int) -> bytearray:
    """n wire records with ids 0..n-1 (the layout of velox.Transaction)."""
    rec = struct.Struct("<QQqIBBH")
    out = bytearray(n * rec.size)
    for i in range(n):
        rec.pack_into(out, i * rec.size, i, i, 1_002_500 + i % 1000, 10, i & 1, 0, 3)
    return out


@pytest.fixture(scope="module")
def batch_buffers():
    src = _records(BATCH)
    dst = bytearray(len(src))
    return src, dst


@pytest.fixture(scope="module")
def big_ring():
    # 2**20 slots hold one whole 1e6-record batch.
    return velox.SpscRing(1 << 20)


@pytest.mark.benchmark(group="ring-batch-1e6")
def test_memcpy_peer(per_item, batch_buffers):
    src, dst = batch_buffers
    view_src, view_dst = memoryview(src), memoryview(dst)

    def copy() -> None:
        view_dst[:] = view_src

    per_item(copy, items=BATCH, label="32 MB memory copy (peer: one pass)", reference=True)
    assert dst == src


@pytest.mark.benchmark(group="ring-batch-1e6")
def test_push_many(per_item, batch_buffers, big_ring):
    src, dst = batch_buffers
    pushed = []

    def push() -> None:
        pushed.append(big_ring.push_many(src))

    per_item(push, items=BATCH, label="SpscRing.push_many (1e6 records)",
             setup=lambda: big_ring.pop_into(dst), rounds=30)
    assert set(pushed) == {BATCH}
    big_ring.pop_into(dst)


@pytest.mark.benchmark(group="ring-batch-1e6")
def test_pop_into(per_item, batch_buffers, big_ring):
    src, dst = batch_buffers
    popped = []

    def pop() -> None:
        popped.append(big_ring.pop_into(dst))

    per_item(pop, items=BATCH, label="SpscRing.pop_into (1e6 records)",
             setup=lambda: big_ring.push_many(src), rounds=30)
    assert set(popped) == {BATCH}
    assert dst == src  # every record came back, in order


@pytest.mark.benchmark(group="ring-batch-1e6")
def test_push_many_then_pop_into(per_item, batch_buffers, big_ring):
    src, dst = batch_buffers

    def both() -> None:
        big_ring.push_many(src)
        big_ring.pop_into(dst)

    per_item(both, items=BATCH, label="SpscRing push_many + pop_into (1e6 records)")
    assert dst == src and len(big_ring) == 0
