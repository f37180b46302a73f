"""The MPMC ring against its model (velox.models.mpmc), step by step.

Sequentially, ``velox.MpmcRing`` must be the bounded FIFO of the model:
pushes to a full ring refused, pops from an empty one None, batches through
the buffer protocol, ``len``, across capacities 2 ... 1024 with the positions
started near 2**64 so they wrap. Beyond the model, every popped record is
checked against the id sequence pushed (FIFO, no loss, no duplication).
The machine is built over a core module, so the same machine runs against
the mutant ``mpmc_free_off_by_one`` (velox_testing.catalogue) and must fail there:
test_mpmc_machine_catches_mutant. Concurrency is the stress driver's job
(tests/stress/test_mpmc_stress.py).
"""

from __future__ import annotations

import struct
from types import ModuleType

import pytest
from _lockstep import LockstepMachine, outcome, scaled_settings
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule, run_state_machine_as_test

from velox._native import _core
from velox.models import mpmc as mpmc_model

CAPACITIES = [1 << k for k in range(1, 11)]
U64 = 1 << 64

fields = st.fixed_dictionaries({
    "ts": st.integers(0, U64 - 1),
    "price": st.integers(-(1 << 63), (1 << 63) - 1),
    "qty": st.integers(0, (1 << 32) - 1),
    "side": st.sampled_from([0, 1]),
    "producer": st.integers(0, (1 << 16) - 1),
})


def mpmc_machine(core: ModuleType) -> type[LockstepMachine]:
    """A machine class driving ``core.MpmcRing``."""

    class MpmcMachine(LockstepMachine):
        model = mpmc_model

        def __init__(self) -> None:
            super().__init__()
            self.ring = None
            self.next_id = 0
            self.next_pop_id = 0

        @initialize(capacity=st.sampled_from(CAPACITIES), data=st.data())
        def create(self, capacity: int, data: st.DataObject) -> None:
            start = data.draw(st.one_of(
                st.just(0),
                st.integers(0, 2 * capacity).map(lambda back: (U64 - back) % U64),
                st.integers(0, U64 - 1)), label="start_index")
            self.ring = core.MpmcRing(capacity, _start_index=start)
            self.state = mpmc_model.init(capacity)

        def _popped(self, data: bytes) -> None:
            ids = [struct.unpack_from("<Q", data, i)[0] for i in range(0, len(data), 32)]
            want = list(range(self.next_pop_id, self.next_pop_id + len(ids)))
            self.check(ids == want, f"popped ids {ids}, FIFO with no loss or duplication needs {want}")
            self.next_pop_id += len(ids)

        def _txn(self, i: int, f: dict) -> object:
            return core.Transaction(id=self.next_id + i, **f)

        @rule(f=fields)
        def push(self, f: dict) -> None:
            t = self._txn(0, f)
            ok = self.expect(mpmc_model.Push(record=t.to_bytes()), outcome(lambda t=t: self.ring.push(t)))
            self.next_id += ok is True

        @rule()
        def pop(self) -> None:
            got = self.expect(mpmc_model.Pop(), outcome(self.ring.pop, lambda t: None if t is None else t.to_bytes()))
            if got is not None:
                self._popped(got)

        @rule(f=fields)
        def fill(self, f: dict) -> None:
            """Push until full: the full edge every time."""
            for _ in range(self.state.capacity + 1):
                t = self._txn(0, f)
                if not self.expect(mpmc_model.Push(record=t.to_bytes()), outcome(lambda t=t: self.ring.push(t))):
                    break
                self.next_id += 1

        @rule()
        def drain(self) -> None:
            """Pop until empty: the empty edge."""
            for _ in range(self.state.capacity + 1):
                got = self.expect(mpmc_model.Pop(),
                                  outcome(self.ring.pop, lambda t: None if t is None else t.to_bytes()))
                if got is None:
                    break
                self._popped(got)

        @rule(n=st.integers(0, 2100), f=fields)
        def push_many(self, n: int, f: dict) -> None:
            n %= 2 * self.state.capacity + 2
            data = b"".join(self._txn(i, f).to_bytes() for i in range(n))
            self.next_id += self.expect(mpmc_model.PushMany(buffer=data),
                                        outcome(lambda: self.ring.push_many(data)))

        @rule(nbytes=st.integers(1, 200).filter(lambda b: b % 32))
        def push_many_misaligned(self, nbytes: int) -> None:
            data = bytes(nbytes)
            self.expect(mpmc_model.PushMany(buffer=data), outcome(lambda: self.ring.push_many(data)))

        @rule(n=st.integers(0, 2100))
        def pop_many(self, n: int) -> None:
            n %= 2 * self.state.capacity + 2
            self._popped(self.expect(mpmc_model.PopMany(n=n), outcome(lambda: self.ring.pop_many(n), bytes)))

        @rule(n=st.sampled_from([-1, (1 << 26) + 1]))
        def pop_many_out_of_range(self, n: int) -> None:
            self.expect(mpmc_model.PopMany(n=n), outcome(lambda: self.ring.pop_many(n), bytes))

        @rule(n=st.integers(0, 2100), extra=st.integers(0, 31))
        def pop_into(self, n: int, extra: int) -> None:
            n %= 2 * self.state.capacity + 2
            size = 32 * n + extra
            buf = bytearray(b"\xab" * size)
            count, got = self.expect(mpmc_model.PopInto(size=size),
                                     outcome(lambda: self.ring.pop_into(buf), lambda k: (k, bytes(buf[:32 * k]))))
            self.check(buf[32 * count:] == b"\xab" * (size - 32 * count), "pop_into wrote past its records")
            self._popped(got)

        @invariant()
        def length_matches(self) -> None:
            if self.ring is not None:
                self.expect(mpmc_model.Len(), outcome(lambda: len(self.ring)))
                self.check(self.ring.capacity == self.state.capacity, "capacity changed")

    MpmcMachine.__name__ = MpmcMachine.__qualname__ = f"MpmcMachine_{core.__name__.replace('.', '_')}"
    return MpmcMachine


TestMpmc = mpmc_machine(_core).TestCase
TestMpmc.settings = scaled_settings(1)


@pytest.mark.parametrize("capacity", [0, 1, 3, 6, (1 << 26) + 1, -2])
def test_bad_capacity_is_a_clear_error(capacity: int) -> None:
    with pytest.raises(ValueError, match="power of two from 2"):
        _core.MpmcRing(capacity)
    with pytest.raises(ValueError):
        mpmc_model.init(capacity)


def test_capacity_type_error() -> None:
    with pytest.raises(TypeError):
        _core.MpmcRing(4.0)


def test_mpmc_machine_catches_mutant() -> None:
    """The machine fails against mpmc_free_off_by_one (the cell freed for the
    wrong lap: full after one lap), so this gate can fail."""
    from velox_testing.mutants import build_core_mutant

    core = build_core_mutant("mpmc_free_off_by_one")
    machine = mpmc_machine(core)
    with pytest.raises(AssertionError, match="native and model disagree|FIFO"):
        # no shrinking: finding the failure is the point, a minimal example is not
        run_state_machine_as_test(machine, settings=settings(
            max_examples=200, stateful_step_count=40, deadline=None, database=None,
            phases=(Phase.generate,), suppress_health_check=list(HealthCheck)))
