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

The SC axiom (psc acyclic) is global, but only an SC event can close a new psc
cycle, so it is checked when an SC event is added (``psc_acyclic``). No thin air
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
        self.kind = kind
        self.loc = loc
        self.order = order  # the order used by the semantics (seq_cst for everything under model="sc")
        self.shown_order = order  # the order the user wrote
        self.value: Any = None  # value read (reads) or written (pure writes)
        self.written: Any = None  # value written by an RMW / successful CAS
        self.rf: Event | None = None  # the write this read reads from
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
    def id(self) -> EventId:
        """Identity of the event that survives re-execution: (thread, index in thread)."""
        return (self.tid, self.idx)

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
    Returns -1 when nothing is seen.
    """
    best = -1
    mo = loc.mo
    for i in range(len(mo) - 1, -1, -1):
        if view >> mo[i].stamp & 1:
            best = i
            break
    for r in loc.reads:
        if view >> r.stamp & 1:
            j = mo.index(r.rf)
            best = max(best, j)
    return best


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


def psc_acyclic(events: list[Event]) -> bool:
    """RC11's SC axiom: is psc = psc_base ∪ psc_F acyclic?

    Transcribed from Lahav et al. (PLDI 2017), section 3:
      scb      = sb ∪ sb|≠loc ; hb ; sb|≠loc ∪ hb|loc ∪ mo ∪ rb
      psc_base = ([E^sc] ∪ [F^sc] ; hb?) ; scb ; ([E^sc] ∪ hb? ; [F^sc])
      psc_F    = [F^sc] ; (hb ∪ hb ; eco ; hb) ; [F^sc]
    """
    n = len(events)
    sc = [e for e in events if e.is_sc and (e.kind == FENCE or e.is_read or e.is_write)]
    if len(sc) < 2:
        return True
    hb_succ = [0] * n
    for e in events:
        for a in bits(e.hb):
            hb_succ[a] |= 1 << e.stamp
    # Same-thread later events (sb), and same-location masks.
    sb = [0] * n
    by_thread: dict[int, list[Event]] = {}
    for e in events:
        by_thread.setdefault(e.tid, []).append(e)
    for evs in by_thread.values():
        later = 0
        for e in reversed(evs):
            sb[e.stamp] = later
            later |= 1 << e.stamp
    loc_mask: dict[int, int] = {}
    for e in events:
        if e.loc is not None and (e.is_read or e.is_write):
            loc_mask[id(e.loc)] = loc_mask.get(id(e.loc), 0) | 1 << e.stamp

    def same(e: Event) -> int:
        if e.loc is None or not (e.is_read or e.is_write):
            return 0
        return loc_mask[id(e.loc)]

    # mo, rb and eco successors of memory events.
    mo_succ = [0] * n
    rb_succ = [0] * n
    eco_succ = [0] * n
    for loc in {id(e.loc): e.loc for e in events if e.loc is not None and e.loc.mo}.values():
        mo = [w for w in loc.mo if w.stamp < n and events[w.stamp] is w]
        after = [0] * (len(mo) + 1)  # after[i]: writes mo[i:]
        for i in range(len(mo) - 1, -1, -1):
            after[i] = after[i + 1] | 1 << mo[i].stamp
        readers_from = [0] * (len(mo) + 1)  # readers of writes mo[i:]
        pos = {w.stamp: i for i, w in enumerate(mo)}
        for r in loc.reads:
            if r.stamp < n and events[r.stamp] is r:
                readers_from[pos[r.rf.stamp]] |= 1 << r.stamp
        for i in range(len(mo) - 1, -1, -1):
            readers_from[i] |= readers_from[i + 1]
        for i, w in enumerate(mo):
            mo_succ[w.stamp] = after[i + 1]
            eco_succ[w.stamp] |= after[i + 1] | readers_from[i]
        for r in loc.reads:
            if r.stamp < n and events[r.stamp] is r:
                k = pos[r.rf.stamp]
                mask = after[k + 1] & ~(1 << r.stamp)
                rb_succ[r.stamp] = mask
                eco_succ[r.stamp] |= mask | (readers_from[k + 1] & ~(1 << r.stamp))
        for w in mo:
            eco_succ[w.stamp] &= ~(1 << w.stamp)

    sb_neq = [sb[e.stamp] & ~same(e) for e in events]
    sb_hb_sb = [0] * n
    for e in events:
        mid = 0
        for m in bits(sb_neq[e.stamp]):
            mid |= hb_succ[m]
        out = 0
        for m in bits(mid):
            out |= sb_neq[m]
        sb_hb_sb[e.stamp] = out

    def scb(s: int) -> int:
        e = events[s]
        return sb[s] | sb_hb_sb[s] | (hb_succ[s] & same(e)) | mo_succ[s] | rb_succ[s]

    sc_mask = 0
    for e in sc:
        sc_mask |= 1 << e.stamp
    edges: dict[int, int] = {}
    for a in sc:
        s = a.stamp
        left = 1 << s
        if a.kind == FENCE:
            left |= hb_succ[s]
        reach = 0
        for x in bits(left):
            reach |= scb(x)
        succ = 0
        for b in sc:
            t = b.stamp
            if b.kind == FENCE:
                if reach & ((1 << t) | b.hb):
                    succ |= 1 << t
            elif reach >> t & 1:
                succ |= 1 << t
        if a.kind == FENCE:
            after_hb = hb_succ[s]
            via = after_hb
            eco_reach = 0
            for m in bits(after_hb | (1 << s)):
                eco_reach |= eco_succ[m]
            for m in bits(eco_reach):
                via |= hb_succ[m]
            for b in sc:
                if b.kind == FENCE and via >> b.stamp & 1:
                    succ |= 1 << b.stamp
        edges[s] = succ & sc_mask
    # Acyclicity by repeatedly removing nodes without predecessors (Kahn).
    indeg = {s: 0 for s in edges}
    for succ in edges.values():
        for t in bits(succ):
            indeg[t] += 1
    ready = [s for s, d in indeg.items() if d == 0]
    removed = 0
    while ready:
        s = ready.pop()
        removed += 1
        for t in bits(edges[s]):
            indeg[t] -= 1
            if indeg[t] == 0:
                ready.append(t)
    return removed == len(edges)


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
