"""Reference model of ``velox.MpmcRing``: the bounded FIFO of ``models.ring``.

Run one operation at a time, a multi-producer multi-consumer ring is the same
bounded FIFO as the SPSC ring: ``push`` appends or returns False when full,
``pop`` returns the oldest record or None, batches move as many whole records
as fit or are queued. The one difference is the capacity: Vyukov's per-cell
sequence numbers need at least two cells, so a capacity must be a power of
two from 2 to 2**26. Everything else (states, operations, ``step``) is
``models.ring``'s, re-exported here so each structure has its model by name.

Concurrently, the MPMC ring is linearizable to this FIFO (a batch is a
sequence of single pushes or pops, each linearizable on its own); the stress
driver checks the consequences per producer (FIFO, no loss, no duplication).
"""

from __future__ import annotations

from .ring import MAX_CAPACITY as MAX_CAPACITY
from .ring import RECORD_SIZE as RECORD_SIZE
from .ring import Len as Len
from .ring import Op as Op
from .ring import Pop as Pop
from .ring import PopInto as PopInto
from .ring import PopMany as PopMany
from .ring import Push as Push
from .ring import PushMany as PushMany
from .ring import State as State
from .ring import describe_op as describe_op
from .ring import step as step

#: Smallest capacity: one cell cannot tell "full" from "free for the next lap".
MIN_CAPACITY = 2


def init(capacity: int) -> State:
    """An empty MPMC ring; ValueError unless capacity is a power of two in
    [2, 2**26] (TypeError if it is not an int)."""
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        raise TypeError(f"capacity must be an int, got {type(capacity).__name__}")
    if not MIN_CAPACITY <= capacity <= MAX_CAPACITY or capacity & (capacity - 1):
        raise ValueError(f"capacity must be a power of two from {MIN_CAPACITY} to {MAX_CAPACITY}, got {capacity}")
    return State(capacity=capacity)


def describe_state(state: State) -> str:
    """Short human form of a state."""
    return f"mpmc {len(state.items)}/{state.capacity}"
