"""The MPMC ring against its model (velox.models.mpmc), step by step.

Sequentially, ``velox.MpmcRing`` must be the bounded FIFO of the model:
pushes to a full ring refused, pops from an empty one None, batches through
the buffer protocol, ``len``, across capacities 2 ... 1024 with the positions
started near 2**64 so they wrap. Beyond the model, every popped record is
checked against the id sequence pushed (FIFO, no loss, no duplication).
The machine is the one FIFO machine shared with the SPSC ring
(tests/stateful/_fifo.py), built over a core module, so it also runs against
the catalogue's "mpmc" mutants (tests/stateful/test_mutants_caught.py), which
it must catch. Concurrency is the stress driver's job
(tests/stress/test_mpmc_stress.py).
"""

from __future__ import annotations

from types import ModuleType

import pytest
from _fifo import MPMC, fifo_machine
from _lockstep import LockstepMachine, scaled_settings

from velox._native import _core
from velox.models import mpmc as mpmc_model


def mpmc_machine(core: ModuleType) -> type[LockstepMachine]:
    """A machine class driving ``core.MpmcRing`` (from the given module)."""
    return fifo_machine(core, MPMC)


MpmcMachine = mpmc_machine(_core)
TestMpmc = MpmcMachine.TestCase
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
