"""The SPSC ring against its model (velox.models.ring), step by step, through
the one FIFO machine it shares with the MPMC ring (tests/stateful/_fifo.py).

Capacities 1, 2, 4 ... 1024; counters started near 2**64 so the free-running
indices wrap during the run; pushes to a full ring and pops from an empty one;
batches through the buffer protocol (bytes, bytearray, memoryview) and
``pop_into``; bad counts and misaligned buffers. Beyond the model comparison,
every popped record is checked against the id sequence the machine pushed
(FIFO, no loss, no duplication), independently of the model.
"""

from __future__ import annotations

from types import ModuleType

from _fifo import RING, fifo_machine
from _lockstep import LockstepMachine, scaled_settings

from velox._native import _core


def ring_machine(core: ModuleType) -> type[LockstepMachine]:
    """A machine class driving ``core.SpscRing`` (from the given module)."""
    return fifo_machine(core, RING)


RingMachine = ring_machine(_core)
TestRing = RingMachine.TestCase
TestRing.settings = scaled_settings(3)
