"""The SPSC ring's algorithm (velox/_native/vx_ring.c) as a Python model, explored exhaustively.

The model follows vx_ring_push / vx_ring_pop line by line: free-running indices,
the producer's cached head and the consumer's cached tail (plain fields, each
owned by one side), slots as plain cells (a data race on a slot is a failure),
tail published with a release store and acquired by the consumer, head released
by the consumer and acquired by the producer. The producer pushes 3 items,
retrying with spin_hint() while full; the consumer pops 3, retrying while empty
(the test loom runs in 0.6 s over 14,162 executions for capacity 2).
"""

from __future__ import annotations

import pytest

from velox.explore import Atomic, Cell, ExplorationFailure, check, spawn, spin_hint

ITEMS = 3


class RingModel:
    """vx_ring with the orders of its atomic operations as parameters (to seed ordering bugs)."""

    def __init__(self, capacity: int, publish: str = "release", consume_acquire: str = "acquire") -> None:
        self.capacity = capacity
        self.mask = capacity - 1
        self.tail = Atomic(0, name="tail")
        self.head = Atomic(0, name="head")
        self.slots = [Cell(None, name=f"slot[{i}]") for i in range(capacity)]
        self.head_cache = 0  # producer-owned
        self.tail_cache = 0  # consumer-owned
        self.publish = publish
        self.consume_acquire = consume_acquire

    def push(self, item: int) -> bool:
        tail = self.tail.load("relaxed")  # only the producer writes tail
        if self.capacity - (tail - self.head_cache) < 1:
            self.head_cache = self.head.load("acquire")  # pairs with the release store of head in pop
            if self.capacity - (tail - self.head_cache) < 1:
                return False
        self.slots[tail & self.mask].set(item)
        self.tail.store(tail + 1, self.publish)  # publishes the slot; pairs with the acquire load in pop
        return True

    def pop(self) -> int | None:
        head = self.head.load("relaxed")  # only the consumer writes head
        if self.tail_cache - head < 1:
            self.tail_cache = self.tail.load(self.consume_acquire)  # pairs with the release store in push
            if self.tail_cache - head < 1:
                return None
        item = self.slots[head & self.mask].get()
        self.head.store(head + 1, "release")  # slot read done before the producer reuses it
        return item


def ring_test(capacity: int, publish: str = "release", consume_acquire: str = "acquire"):
    """Producer pushes 1..ITEMS retrying while full; consumer pops ITEMS; FIFO order and no loss."""

    def test() -> list[int]:
        ring = RingModel(capacity, publish, consume_acquire)

        def producer() -> None:
            for item in range(1, ITEMS + 1):
                while not ring.push(item):
                    spin_hint()

        def consumer() -> list[int]:
            got = []
            while len(got) < ITEMS:
                item = ring.pop()
                if item is None:
                    spin_hint()
                else:
                    got.append(item)
            return got

        p = spawn(producer)
        c = spawn(consumer)
        p.join()
        got = c.join()
        assert got == list(range(1, ITEMS + 1)), f"consumer got {got}"
        return got

    return test


@pytest.mark.parametrize("capacity", [2, 4])
def test_spsc_ring_passes_exhaustively(capacity):
    stats = check(ring_test(capacity))
    print(stats)
    assert stats.complete
    assert stats.executions > 0


def test_spsc_ring_baseline_without_dpor_is_bounded_and_says_incomplete():
    """The baseline (no reduction) finds no failure in its first 300 executions and does not call that a pass."""
    stats = check(ring_test(4), dpor=False, max_executions=300)
    print(stats)
    assert not stats.complete
    assert "INCOMPLETE" in str(stats) and "not a pass" in str(stats)


def test_relaxed_publish_is_caught_with_a_trace():
    """Seeded bug: tail published with a relaxed store. Invisible on x86, caught here as a data race."""
    with pytest.raises(ExplorationFailure) as info:
        check(ring_test(2, publish="relaxed"))
    err = info.value
    print(err)
    assert err.kind == "data race"
    assert err.executions <= 3
    text = str(err)
    assert "slot[" in text and "tail" in text and "relaxed" in text
    assert "replay token: vx1." in text


def test_relaxed_consumer_load_is_caught():
    """Seeded bug on the other side of the pair: the consumer's load of tail relaxed."""
    with pytest.raises(ExplorationFailure) as info:
        check(ring_test(2, consume_acquire="relaxed"))
    assert info.value.kind == "data race"


def test_failing_ring_execution_replays_exactly():
    with pytest.raises(ExplorationFailure) as info:
        check(ring_test(2, publish="relaxed"))
    with pytest.raises(ExplorationFailure) as again:
        check(ring_test(2, publish="relaxed"), replay=info.value.token)
    assert again.value.kind == info.value.kind
    assert again.value.failure_message == info.value.failure_message
