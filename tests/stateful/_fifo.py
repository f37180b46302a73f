"""One lockstep machine for velox's bounded FIFOs: the SPSC ring and the MPMC
ring, each against its model (velox.models.ring, velox.models.mpmc).

Run one operation at a time, both rings are the same bounded FIFO, so one
machine drives either: capacities from the structure's smallest to 1024,
positions started near 2**64 so the free-running indices wrap during the run,
pushes to a full ring and pops from an empty one, batches through the buffer
protocol (bytes, bytearray, memoryview) and ``pop_into``, bad counts and
misaligned buffers. Beyond the model comparison, every popped record is
checked against the id sequence the machine pushed (FIFO, no loss, no
duplication), independently of the model.

``fifo_machine(core, RING)`` and ``fifo_machine(core, MPMC)`` build the
machine over a core module, so the same machine runs against the shipping
extension and against mutant builds (tests/stateful/test_mutants_caught.py).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from _lockstep import LockstepMachine, outcome
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule

from velox._native import _core
from velox.models import mpmc as mpmc_model
from velox.models import ring as ring_model
from velox.models import txn as txn_model

U64 = 1 << 64


@dataclass(frozen=True, kw_only=True)
class Fifo:
    """What differs between the FIFOs: the class, its model, the capacities,
    and the out-of-range counts ``pop_many`` must refuse."""

    name: str
    cls: str
    model: Any
    capacities: tuple[int, ...]
    bad_counts: tuple[int, ...]


RING = Fifo(name="Ring", cls="SpscRing", model=ring_model, capacities=tuple(1 << k for k in range(11)),
            bad_counts=(-1, -(1 << 63), (1 << 26) + 1, 1 << 64))
MPMC = Fifo(name="Mpmc", cls="MpmcRing", model=mpmc_model, capacities=tuple(1 << k for k in range(1, 11)),
            bad_counts=(-1, (1 << 26) + 1))

# One draw per transaction (Hypothesis's draws dominate the run time): the
# fields other than the id are spread from a salt so that records differ in
# every byte, which is what catches a copy of the wrong slot or length.
fields = st.integers(0, U64 - 1).map(lambda salt: {
    "ts": (salt * 0x9E3779B97F4A7C15) % U64,
    "price": salt - (1 << 63),
    "qty": salt >> 32,
    "side": salt & 1,
    "producer": (salt >> 7) & 0xFFFF,
})
buffer_kinds = st.sampled_from(["bytes", "bytearray", "memoryview"])


# Where both positions start: 0, anywhere, or a little below 2**64 so that
# the free-running indices wrap during the run (2100 is twice the largest
# capacity plus a margin).
start_indices = st.one_of(
    st.just(0),
    st.one_of(st.integers(0, 3), st.integers(0, 64), st.integers(0, 2100)).map(lambda back: (U64 - back) % U64),
    st.integers(0, U64 - 1),
)


def _wire(id_: int, f: dict) -> bytes:
    """The 32-byte wire record of a transaction (the layout is pinned by
    tests/test_txn_layout.py; packing here avoids a Python object per record)."""
    return txn_model.LAYOUT.pack(id_, f["ts"], f["price"], f["qty"], f["side"], 0, f["producer"])


def _as(kind: str, data: bytes) -> object:
    return {"bytes": data, "bytearray": bytearray(data), "memoryview": memoryview(data)}[kind]


def _ids_of(data: bytes) -> list[int]:
    return [struct.unpack_from("<Q", data, i)[0] for i in range(0, len(data), 32)]


def fifo_machine(core: ModuleType, fifo: Fifo) -> type[LockstepMachine]:
    """A machine class driving ``core.<fifo.cls>`` against ``fifo.model``."""
    model = fifo.model
    make = getattr(core, fifo.cls)
    label = fifo.name.lower()

    class FifoMachine(LockstepMachine):
        def __init__(self) -> None:
            super().__init__()
            self.ring = None
            self.next_id = 0       # id of the next record pushed
            self.next_pop_id = 0   # id the next popped record must carry

        @initialize(capacity=st.sampled_from(fifo.capacities), start=start_indices)
        def create(self, capacity: int, start: int) -> None:
            self.start = start
            self.ring = make(capacity, _start_index=start)
            self.state = model.init(capacity)

        # -- FIFO bookkeeping independent of the model -----------------------
        def _popped(self, data: bytes) -> None:
            ids = _ids_of(data)
            want = list(range(self.next_pop_id, self.next_pop_id + len(ids)))
            self.check(ids == want, f"popped ids {ids}, FIFO order with no loss or duplication needs {want}")
            self.next_pop_id += len(ids)

        def _txn(self, f: dict) -> object:
            return core.Transaction(id=self.next_id, **f)

        def _pop_one(self) -> bytes | None:
            return self.expect(model.Pop(), outcome(self.ring.pop, lambda t: None if t is None else t.to_bytes()))

        # -- single records ---------------------------------------------------
        @rule(f=fields)
        def push(self, f: dict) -> None:
            t = self._txn(f)
            ok = self.expect(model.Push(record=t.to_bytes()), outcome(lambda: self.ring.push(t)))
            self.next_id += ok is True

        @rule()
        def pop(self) -> None:
            got = self._pop_one()
            if got is not None:
                self._popped(got)

        @rule(f=fields)
        def fill(self, f: dict) -> None:
            """Push until the ring reports full (the full edge, every time)."""
            for _ in range(self.state.capacity + 1):
                t = self._txn(f)
                if not self.expect(model.Push(record=t.to_bytes()), outcome(lambda t=t: self.ring.push(t))):
                    event(f"{label}: push refused at the full edge")
                    break
                self.next_id += 1

        @rule()
        def drain(self) -> None:
            """Pop until the ring reports empty (the empty edge)."""
            for _ in range(self.state.capacity + 1):
                got = self._pop_one()
                if got is None:
                    break
                self._popped(got)

        # -- batches ------------------------------------------------------------
        @rule(n=st.integers(0, 2100), f=fields, kind=buffer_kinds)
        def push_many(self, n: int, f: dict, kind: str) -> None:
            n %= 2 * self.state.capacity + 2
            data = b"".join(_wire(self.next_id + i, f) for i in range(n))
            self.next_id += self.expect(model.PushMany(buffer=data),
                                        outcome(lambda: self.ring.push_many(_as(kind, data))))

        @rule(nbytes=st.integers(1, 200).filter(lambda b: b % 32))
        def push_many_misaligned(self, nbytes: int) -> None:
            data = bytes(nbytes)
            self.expect(model.PushMany(buffer=data), outcome(lambda: self.ring.push_many(data)))

        @rule(n=st.integers(0, 2100))
        def pop_many(self, n: int) -> None:
            n %= 2 * self.state.capacity + 2
            self._popped(self.expect(model.PopMany(n=n), outcome(lambda: self.ring.pop_many(n), bytes)))

        @rule(n=st.sampled_from(fifo.bad_counts))
        def pop_many_out_of_range(self, n: int) -> None:
            self.expect(model.PopMany(n=n), outcome(lambda: self.ring.pop_many(n), bytes))

        @rule(n=st.integers(0, 2100), extra=st.integers(0, 31))
        def pop_into(self, n: int, extra: int) -> None:
            n %= 2 * self.state.capacity + 2
            size = 32 * n + extra
            buf = bytearray(b"\xab" * size)
            count, got = self.expect(model.PopInto(size=size),
                                     outcome(lambda: self.ring.pop_into(buf), lambda k: (k, bytes(buf[:32 * k]))))
            self.check(buf[32 * count:] == b"\xab" * (size - 32 * count),
                       "pop_into wrote past the records it returned")
            self._popped(got)

        @invariant()
        def length_matches(self) -> None:
            if self.ring is not None:
                if self.start + self.next_id >= U64 > self.start + self.next_pop_id:
                    event(f"{label}: tail wrapped past 2**64 while head had not")
                if self.start + self.next_pop_id >= U64:
                    event(f"{label}: head wrapped past 2**64")
                self.expect(model.Len(), outcome(lambda: len(self.ring)))
                self.check(self.ring.capacity == self.state.capacity,
                           f"capacity {self.ring.capacity}, created with {self.state.capacity}")

    FifoMachine.model = model
    name = f"{fifo.name}Machine"
    if core is not _core:  # the shipping machine keeps its plain name: the falsifying program runs as printed
        name += "_" + core.__name__.replace(".", "_")
    FifoMachine.__name__ = FifoMachine.__qualname__ = name
    return FifoMachine
