"""MpmcRing scenarios: smoke, capacities, the full and empty edges, batches
through the buffer protocol, wrap-around of the 64-bit positions, bad input,
and several producer and consumer threads (a short smoke; tests/stress runs
the native MPMC driver for long, and tests/stateful/test_mpmc_machine.py
compares it with its model step by step)."""

from __future__ import annotations

import threading

import pytest

import velox

T = velox.Transaction
U64 = 1 << 64


def records(start: int, n: int, producer: int = 0) -> bytes:
    return b"".join(T(id=i, price=i * 3, qty=i % 7, side=i % 2, producer=producer).to_bytes()
                    for i in range(start, start + n))


def test_smoke() -> None:
    r = velox.MpmcRing(4)
    assert r.push(T(id=1, price=1002500)) is True
    assert len(r) == 1
    assert r.pop() == T(id=1, price=1002500)
    assert r.pop() is None and len(r) == 0


@pytest.mark.parametrize("capacity", [2, 4, 64, 1 << 16, 1 << 26])
def test_capacity(capacity: int) -> None:
    assert velox.MpmcRing(capacity).capacity == capacity


@pytest.mark.parametrize("capacity", [0, 1, 3, 6, (1 << 26) + 1, -2])
def test_zero_and_bad_capacity(capacity: int) -> None:
    with pytest.raises(ValueError, match="power of two from 2"):
        velox.MpmcRing(capacity)


def test_capacity_two_laps() -> None:
    """The smallest ring, many laps: each cell's sequence number must free it
    for the next lap, not the one after."""
    r = velox.MpmcRing(2)
    for i in range(0, 40, 2):
        assert r.push(T(id=i)) and r.push(T(id=i + 1)) and not r.push(T(id=999))
        assert r.pop().id == i and r.pop().id == i + 1 and r.pop() is None


@pytest.mark.parametrize("back", [0, 1, 2, 3, 5, 8])
def test_wraparound(back: int) -> None:
    # Positions start `back` below 2**64, so they wrap during the run.
    r = velox.MpmcRing(4, _start_index=(U64 - back) % U64)
    expected = 0
    for i in range(40):
        assert r.push(T(id=i))
        if i % 3 == 2:
            assert r.pop().id == expected
            expected += 1
        if len(r) == 4:
            assert not r.push(T(id=12345))
            while (t := r.pop()) is not None:
                assert t.id == expected
                expected += 1
    while (t := r.pop()) is not None:
        assert t.id == expected
        expected += 1
    assert expected == 40


def test_bad_input_is_a_clear_error() -> None:
    r = velox.MpmcRing(4)
    with pytest.raises(TypeError):
        r.push(None)
    with pytest.raises(ValueError):
        r.push_many(bytes(31))  # not a whole record
    with pytest.raises(ValueError):
        r.pop_many(-1)
    with pytest.raises(TypeError):
        r.push_many("not a buffer")
    assert len(r) == 0, "a refused call changes nothing"


def test_mpmc_threads_smoke() -> None:
    """Three producer threads and two consumer threads: every record arrives
    exactly once, and each consumer sees each producer's records in order."""
    producers, per, r = 3, 20_000, velox.MpmcRing(256)
    got: list[list[tuple[int, int]]] = [[], []]
    taken = [0]
    lock = threading.Lock()

    def produce(p: int) -> None:
        data = records(0, per, producer=p)
        sent = 0
        while sent < per:
            sent += r.push_many(data[sent * 32:(sent + 64) * 32])

    def consume(c: int) -> None:
        while True:
            with lock:
                if taken[0] >= producers * per:
                    return
            part = r.pop_many(64)
            for off in range(0, len(part), 32):
                t = T.from_bytes(part[off:off + 32])
                got[c].append((t.producer, t.id))
            with lock:
                taken[0] += len(part) // 32

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    threads += [threading.Thread(target=consume, args=(c,)) for c in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a producer or consumer is stuck"
    everything = sorted(x for g in got for x in g)
    assert everything == sorted((p, i) for p in range(producers) for i in range(per)), "lost or duplicated records"
    for g in got:
        for p in range(producers):
            ids = [i for q, i in g if q == p]
            assert ids == sorted(ids), f"a consumer saw producer {p} out of order"
