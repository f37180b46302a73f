"""SpscRing scenarios: smoke, capacities, the full and empty edges, batches
through the buffer protocol, wrap-around of the 64-bit counters, and one
producer thread with one consumer thread (a short smoke; tests/stress runs
it for long)."""

from __future__ import annotations

import array
import threading

import pytest

import velox

T = velox.Transaction
U64 = 1 << 64


def records(start: int, n: int) -> bytes:
    return b"".join(T(id=i, price=i * 3, qty=i % 7, side=i % 2).to_bytes() for i in range(start, start + n))


def test_smoke() -> None:
    r = velox.SpscRing(4)
    assert r.push(T(id=1, price=1002500)) is True
    assert len(r) == 1
    assert r.pop() == T(id=1, price=1002500)
    assert r.pop() is None and len(r) == 0


@pytest.mark.parametrize("capacity", [1 << k for k in range(0, 27, 3)] + [1 << 26])
def test_capacity(capacity: int) -> None:
    assert velox.SpscRing(capacity).capacity == capacity


def test_capacity_one() -> None:
    r = velox.SpscRing(1)
    for i in range(5):
        assert r.push(T(id=i)) and not r.push(T(id=100 + i))
        assert r.pop() == T(id=i) and r.pop() is None


@pytest.mark.parametrize("back", [0, 1, 3, 4, 5, 7])
def test_wraparound(back: int) -> None:
    # Counters start `back` below 2**64, so they wrap during the run.
    r = velox.SpscRing(4, _start_index=(U64 - back) % U64)
    expected = 0
    for i in range(40):
        assert r.push(T(id=i))
        if i % 3 == 2:
            assert r.pop().id == expected
            expected += 1
        if len(r) == 4:
            assert not r.push(T(id=-1 % U64))
            while (t := r.pop()) is not None:
                assert t.id == expected
                expected += 1
    while (t := r.pop()) is not None:
        assert t.id == expected
        expected += 1
    assert expected == 40


def test_wraparound_batches() -> None:
    r = velox.SpscRing(8, _start_index=U64 - 5)
    assert r.push_many(records(0, 6)) == 6
    assert r.pop_many(4) == records(0, 4)
    assert r.push_many(records(6, 10)) == 6, "only the free slots are taken"
    assert len(r) == 8
    assert r.pop_many(100) == records(4, 8)


# Length, fullness and the batch contract are the same for both ring types (tests/test_mpmc.py covers
# the rest of MpmcRing).
BOTH = pytest.mark.parametrize("ring", [velox.SpscRing, velox.MpmcRing])


@BOTH
def test_len_empty_full(ring) -> None:
    r = ring(8)
    for i in range(8):
        assert r.push(T(id=i))
        assert len(r) == i + 1
    assert r.push(T(id=99)) is False, "a full ring refuses, never overwrites"
    assert len(r) == 8
    assert [r.pop().id for _ in range(8)] == list(range(8))
    assert r.pop() is None


@BOTH
@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview, lambda b: array.array("q", b)])
def test_push_many_buffer_kinds(ring, kind) -> None:
    r = ring(16)
    assert r.push_many(kind(records(0, 5))) == 5
    assert r.pop_many(5) == records(0, 5)


@BOTH
def test_batch_partial_when_nearly_full(ring) -> None:
    r = ring(4)
    r.push(T(id=0))
    assert r.push_many(records(1, 10)) == 3
    assert r.push_many(records(4, 1)) == 0
    assert r.push_many(b"") == 0
    assert [r.pop().id for _ in range(4)] == [0, 1, 2, 3]


@BOTH
def test_pop_many_and_pop_into(ring) -> None:
    r = ring(8)
    r.push_many(records(0, 6))
    assert r.pop_many(0) == b""
    assert r.pop_many(2) == records(0, 2)
    buf = bytearray(b"\xee" * (3 * 32 + 5))
    assert r.pop_into(buf) == 3
    assert buf[:96] == records(2, 3) and buf[96:] == b"\xee" * 5
    assert r.pop_into(bytearray(31)) == 0, "less than one record of room pops nothing"
    assert r.pop_many(10) == records(5, 1)
    assert r.pop_many(10) == b"" and isinstance(r.pop_many(10), bytearray)


def test_million_records_round_trip() -> None:
    n = 1 << 20
    r = velox.SpscRing(n)
    data = bytearray(bytes(range(256)) * (n * 32 // 256))
    data[28::32] = bytes(i & 1 for i in range(n))  # side: BID or ASK (push_many validates it)
    data[29::32] = bytes(n)                        # reserved: 0
    assert r.push_many(data) == n
    out = bytearray(n * 32)
    assert r.pop_into(out) == n
    assert out == data


def test_spsc_threads_smoke() -> None:
    """One producer thread, one consumer thread, batches: everything arrives,
    in order, exactly once."""
    n, r = 200_000, velox.SpscRing(1024)
    data = records(0, 1000)
    got: list[bytes] = []

    def produce() -> None:
        sent = 0
        while sent < n:
            chunk = data[(sent % 1000) * 32:][:min(256, n - sent, 1000 - sent % 1000) * 32]
            sent += r.push_many(chunk)

    def consume() -> None:
        received = 0
        while received < n:
            part = r.pop_many(512)
            received += len(part) // 32
            got.append(bytes(part))

    threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "producer or consumer stuck"
    assert b"".join(got) == data * (n // 1000)
