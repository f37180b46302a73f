"""An SPSC ring used by two producers or two consumers at once: the second
call is refused with an error that says to use MpmcRing, and nothing is lost
or duplicated. Calls from different threads that do not overlap stay legal
(the GIL orders them)."""

from __future__ import annotations

import threading

import pytest

from velox import SpscRing, Transaction

N = 100_000
BATCH = 512


def _records(producer: int, n: int) -> bytes:
    return b"".join(Transaction(id=i, producer=producer).to_bytes() for i in range(n))


def test_two_producers_refused_nothing_lost():
    ring = SpscRing(1 << 10)
    data = [_records(p, N) for p in range(2)]
    refused = [0, 0]
    errors: list[str] = []
    pushed = [0, 0]
    popped: list[bytes] = []
    done = threading.Event()

    def producer(p: int) -> None:
        off = 0
        buf = data[p]
        while off < len(buf):
            try:
                k = ring.push_many(buf[off:off + 32 * BATCH])
            except RuntimeError as e:
                refused[p] += 1
                errors.append(str(e))
                continue
            off += 32 * k
            pushed[p] += k

    def consumer() -> None:
        while not done.is_set() or len(ring):
            popped.append(bytes(ring.pop_many(BATCH)))

    ts = [threading.Thread(target=producer, args=(p,)) for p in range(2)]
    c = threading.Thread(target=consumer)
    c.start()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    done.set()
    c.join()
    out = b"".join(popped)
    got = [Transaction.from_bytes(out[i:i + 32]) for i in range(0, len(out), 32)]
    assert pushed == [N, N]
    assert len(got) == 2 * N, f"{2 * N - len(got)} records lost"
    for p in range(2):  # each producer's records arrive once, in order
        assert [t.id for t in got if t.producer == p] == list(range(N))
    if errors:
        assert "MpmcRing" in errors[0] and "push_many" in errors[0]


def test_second_consumer_refused_while_first_is_inside():
    ring = SpscRing(1 << 16)
    ring.push_many(_records(0, 1 << 16))
    out: list[bytes] = []
    errors: list[str] = []
    start = threading.Barrier(2)

    def consumer() -> None:
        start.wait()
        while True:
            try:
                b = bytes(ring.pop_many(4096))
            except RuntimeError as e:
                errors.append(str(e))
                continue
            if not b:
                return
            out.append(b)

    ts = [threading.Thread(target=consumer) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    data = b"".join(out)
    ids = [Transaction.from_bytes(data[i:i + 32]).id for i in range(0, len(data), 32)]
    assert sorted(ids) == list(range(1 << 16)), "records duplicated or lost by two consumers"


@pytest.mark.parametrize("side,method,args", [
    ("producer", "push", (Transaction(id=2),)),
    ("producer", "push_many", (Transaction(id=3).to_bytes(),)),
    ("consumer", "pop", ()),
    ("consumer", "pop_many", (4,)),
    ("consumer", "pop_into", (bytearray(64),)),
])
def test_call_while_another_thread_is_inside_is_refused(side, method, args):
    """The state a second thread sees while the first one is inside a call
    that released the GIL (set by hand: the race itself is exercised above)."""
    ring = SpscRing(8)
    ring.push(Transaction(id=1))
    setattr(ring, f"_{side}_inside", True)
    with pytest.raises(RuntimeError, match=rf"SpscRing\.{method}: another thread is inside .*MpmcRing"):
        getattr(ring, method)(*args)
    other = "consumer" if side == "producer" else "producer"
    assert not getattr(ring, f"_{other}_inside")
    setattr(ring, f"_{side}_inside", False)
    getattr(ring, method)(*args)  # the side is free again
    assert len(ring) in (0, 1, 2)


def test_sequential_use_from_two_threads_is_fine():
    ring = SpscRing(64)
    for _ in range(4):
        t = threading.Thread(target=lambda: ring.push_many(_records(0, 8)))
        t.start()
        t.join()
    assert len(ring) == 32
