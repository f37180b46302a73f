"""Execution graphs: events, locations, and the RC11 checks made as a graph grows.

An execution graph holds the events of one execution in *stamp* order (the order in
which they were added, always a linearisation of po ∪ rf), the reads-from choice of
every read, and the modification order (mo) of every location as a list. Relations
are Python ints used as bitsets over stamps: ``e.hb`` is the set of events that
happen before ``e``, ``e.porf`` the set before it in (po ∪ rf)+.

Because every event is added after everything it depends on and has no successors
when added, the coherence axiom (``hb ; eco?`` irreflexive) reduces to two local
rules, checked when choosing a read's source and a write's place in mo:

- a read may read from a write ``w`` only if no write it has seen (a write in its
  hb-prefix, or the source of a read in its hb-prefix) is mo-after ``w``;
- a write must be placed mo-after every write it has seen, and never between a
  write and the read-modify-write that reads from it (RMW atomicity).

The SC axiom (psc acyclic) is global; ``psc.py`` keeps psc's edges as events are
added and looks for a cycle through the new ones. No thin air
(po ∪ rf acyclic) holds by construction: a read only ever reads an earlier-stamped
write.
"""

from __future__ import annotations

import re
from typing import Any

from .orders import SEQ_CST

# Event kinds.
INIT = "init"  # the initial write of an atomic location
LOAD = "load"
STORE = "store"
RMW = "rmw"  # fetch_add, fetch_sub, exchange: always a read and a write
CAS = "cas"  # a write only when it succeeds
FENCE = "fence"
NA_READ = "get"
NA_WRITE = "set"
SPAWN = "spawn"
JOIN = "join"
SPIN = "spin"
CHOOSE = "choose"

EventId = tuple[int, int]  # (thread id, index in that thread)


class Event:
    """One operation of one thread, with its place in the graph."""

    __slots__ = (
        "added_max",
        "arg",
        "expected",
        "hb",
        "id",
        "idx",
        "is_read",
        "is_write",
        "key",
        "kind",
        "loc",
        "mask",
        "msg",
        "op",
        "order",
        "porf",
        "readers",
        "revisitable",
        "rf",
        "shown_order",
        "site",
        "spurious",
        "stamp",
        "tid",
        "value",
        "weak",
        "what",
        "written",
    )

    def __init__(self, stamp: int, tid: int, idx: int, kind: str, loc: Loc | None, order: int,
                 site: Any, op: str) -> None:
        self.stamp = stamp
        self.tid = tid
        self.idx = idx
        self.id: EventId = (tid, idx)  # identity that survives re-execution: (thread, index in thread)
        self.kind = kind
        self.loc = loc
        self.order = order  # the order used by the semantics (seq_cst for everything under model="sc")
        self.shown_order = order  # the order the user wrote
        self.value: Any = None  # value read (reads) or written (pure writes)
        self.written: Any = None  # value written by an RMW / successful CAS
        self.rf: Event | None = None  # the write this read reads from
        self.readers = 0  # for writes: bitset of the reads that read from it
        self.site = site
        self.op = op
        self.hb = 0  # bitset of stamps that happen before this event
        self.porf = 0  # bitset of stamps before this event in (po ∪ rf)+
        self.msg = 0  # for atomic writes: what an acquire reader of this write synchronises with
        self.is_write = False
        self.is_read = False
        self.expected: Any = None
        self.weak = False
        self.spurious = False
        self.arg: Any = None
        self.key = stamp  # place in the search's addition order (plan.py)
        self.added_max: bool | None = None  # took its first choice (None: no choice to make)
        self.revisitable = True
        self.mask = -1  # plain C accesses: the bytes of the location touched
        self.what: str | None = None  # plain C accesses: the C expression, when it names more than the location

    @property
    def is_sc(self) -> bool:
        """True for seq_cst accesses and fences (the events psc orders)."""
        return self.order == SEQ_CST

    def write_value(self) -> Any:
        """The value this event stored (for RMWs, the new value)."""
        return self.written if self.kind in (RMW, CAS) else self.value


class Loc:
    """A memory location: its name, its modification order and its accesses."""

    __slots__ = ("init", "is_cell", "key", "lid", "mo", "na", "name", "reads")

    def __init__(self, lid: EventId, key: Any, name: str, is_cell: bool) -> None:
        self.lid = lid  # id of the event that created it: stable across re-executions
        self.key = key
        self.name = name
        self.mo: list[Event] = []  # writes, in modification order (init first)
        self.reads: list[Event] = []  # atomic reads (loads, RMWs, CASes)
        self.na: list[Event] = []  # non-atomic accesses, for race detection
        self.is_cell = is_cell
        self.init: Event | None = None


def seen_index(loc: Loc, view: int) -> int:
    """Index in ``loc.mo`` of the mo-latest write that the hb-prefix ``view`` has seen.

    A write is seen when it is in the view, or when a read in the view reads from it.
    Returns -1 when nothing is seen. Searched from the mo-latest end, where it usually is.
    """
    mo = loc.mo
    for i in range(len(mo) - 1, -1, -1):
        w = mo[i]
        if view >> w.stamp & 1 or view & w.readers:
            return i
    return -1


def has_rmw_reader(loc: Loc, i: int) -> bool:
    """True when the write right after ``mo[i]`` is an RMW that reads from ``mo[i]``."""
    mo = loc.mo
    return i + 1 < len(mo) and mo[i + 1].rf is mo[i]


def bits(mask: int):
    """Yield the set bit positions of an int bitset."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def describe_value(v: Any, names: dict[int, int] | None = None) -> str:
    """Short display of a value for trace tables.

    An object whose repr shows its address (the default repr, functions...) is named by its
    type and its order of first appearance in ``names`` (``Node#0``, ``Node#1``), the same in
    every run of the test; without ``names``, by its type alone.
    """
    text = repr(v)
    if _ADDRESS.search(text):
        kind = type(v).__name__
        if names is None:
            return f"<{kind}>"
        n = names.setdefault(id(v), len(names))
        return f"{kind}#{n}"
    return text if len(text) <= 24 else text[:21] + "..."
