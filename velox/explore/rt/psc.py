"""RC11's SC axiom, psc acyclic, kept as the graph grows.

RC11 (Lahav et al., PLDI 2017, section 3) orders the seq_cst accesses and fences by

    scb      = sb ∪ sb|≠loc ; hb ; sb|≠loc ∪ hb|loc ∪ mo ∪ rb
    psc_base = ([E^sc] ∪ [F^sc] ; hb?) ; scb ; ([E^sc] ∪ hb? ; [F^sc])
    psc_F    = [F^sc] ; (hb ∪ hb ; eco ; hb) ; [F^sc]

and requires psc = psc_base ∪ psc_F to be acyclic. ``psc_edges`` transcribes this relation by
relation over a whole graph; it is the reference, and recomputing it at every step costs time
cubic in the length of an execution. ``ScOrder`` keeps the same edges as events are added, at a
cost per event about linear in the graph (bitset operations over stamps), using that a new event
``e`` has no sb, hb or rf successors when it is added:

- edges between old events change only through ``e`` as the middle of a path: an SC fence ``a``
  with ``a hb e``, ``e`` (mo ∪ rb) ``y`` or ``e`` eco ``y`` for an older ``y``, and ``y`` equal to
  (or hb-before, for a fence) an SC event ``b`` (hb, eco and scb among old events do not change);
- ``e`` itself, if it is an SC access, gets out-edges only through its mo and rb successors, and
  its in-edges are computed from its own prefixes (sb, sb|≠loc;hb;sb|≠loc through the per-thread
  shape of hb-prefixes, hb|loc, mo, rb); an SC fence gets in-edges only.

A cycle must use a new edge, so it is looked for (backwards along the kept predecessor sets) only
when a new edge points at an older node: in the common case of a read of the latest store or a
store placed last, adding an event is a handful of bitset operations.

``VERIFY = True`` (the tests set it) recomputes ``psc_edges`` after every event and compares it
edge by edge with the incremental order.
"""

from __future__ import annotations

from .graph import FENCE, Event, Loc, bits
from .orders import SEQ_CST

VERIFY = False  # also recompute psc from scratch at every step and compare (tests; slow)


class PscMismatch(AssertionError):
    """The incremental psc differs from the full transcription (raised only with ``VERIFY``)."""


def _memory(e: Event) -> bool:
    return e.loc is not None and (e.is_read or e.is_write)


def is_node(e: Event) -> bool:
    """True for the events psc orders: seq_cst accesses and seq_cst fences."""
    return e.order == SEQ_CST and (e.kind == FENCE or e.is_read or e.is_write)


# ------------------------------------------------------------------ the reference
def psc_edges(events: list[Event]) -> dict[int, int]:
    """psc over a whole graph, relation by relation: for every SC event's stamp, the bitset of its successors."""
    n = len(events)
    sc = [e for e in events if is_node(e)]
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
        if _memory(e):
            loc_mask[id(e.loc)] = loc_mask.get(id(e.loc), 0) | 1 << e.stamp

    def same(e: Event) -> int:
        return loc_mask[id(e.loc)] if _memory(e) else 0

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
    return edges


def acyclic(edges: dict[int, int]) -> bool:
    """Is the graph {node: successor bitset} acyclic? (Kahn: repeatedly remove nodes without predecessors.)"""
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


def psc_acyclic(events: list[Event]) -> bool:
    """RC11's SC axiom over a whole graph, from scratch (the reference ``ScOrder`` is checked against)."""
    return acyclic(psc_edges(events))


# ------------------------------------------------------------------ incremental
class ScOrder:
    """psc's edges over a growing graph; ``add`` each committed event in stamp order.

    Created at an execution's first SC event: the events before it are recorded (no psc edge can
    involve them yet, since there was no SC event) and everything after is added as it comes.
    """

    __slots__ = ("events", "fence_succ", "fences", "last", "loc_bits", "locs", "pd", "pred", "rbits", "sc",
                 "thread_bits", "wbits")

    def __init__(self, events: list[Event], known: int) -> None:
        self.events = events  # the execution's list, shared (stamp == index)
        self.thread_bits: dict[int, int] = {}  # thread -> its events
        self.last: dict[int, int] = {}  # thread -> its latest event's stamp
        self.loc_bits: dict[int, int] = {}  # location -> its memory accesses (reads or writes)
        self.wbits: dict[int, int] = {}  # location -> its writes
        self.rbits: dict[int, int] = {}  # location -> its reads
        self.locs: dict[int, Loc] = {}
        # Per stamp: the latest earlier event of the same thread that is not an access of the same location
        # (for an event that is no memory access: the previous event), -1 if none.
        self.pd: list[int] = []
        self.sc = 0  # SC accesses and fences
        self.fences = 0  # SC fences
        self.fence_succ: dict[int, int] = {}  # SC fence -> the events hb-after it
        self.pred: dict[int, int] = {}  # SC event -> its psc predecessors
        for e in events[:known]:
            self._record(e)

    # -------------------------------------------------------------- bookkeeping
    def _record(self, e: Event) -> None:
        """Per-thread, per-location and hb bookkeeping of a new event (no edges)."""
        s = e.stamp
        bit = 1 << s
        tid = e.tid
        p = self.last.get(tid, -1)
        if not _memory(e) or p < 0:
            pd = p
        else:
            q = self.events[p]
            pd = p if not _memory(q) or q.loc is not e.loc else self.pd[p]
        self.pd.append(pd)
        self.last[tid] = s
        self.thread_bits[tid] = self.thread_bits.get(tid, 0) | bit
        if _memory(e):
            lid = id(e.loc)
            self.locs[lid] = e.loc
            self.loc_bits[lid] = self.loc_bits.get(lid, 0) | bit
            if e.is_write:
                self.wbits[lid] = self.wbits.get(lid, 0) | bit
            if e.is_read:
                self.rbits[lid] = self.rbits.get(lid, 0) | bit
        before = e.hb & self.fences
        if before:
            fs = self.fence_succ
            for f in bits(before):
                fs[f] |= bit

    def _sbhbsb_pred(self, y: int) -> int:
        """The events x with x sb|≠loc c hb d sb|≠loc y.

        The d are the sb-predecessors of y not at its location; their hb-prefixes grow along the thread,
        so the c are the hb-prefix of the latest such d: per thread a prefix of its events, whose x are
        those before its last event c that are not at c's location, and every event before the latest
        event of that prefix not at c's location.
        """
        d = self.pd[y]
        if d < 0:
            return 0
        hb = self.events[d].hb
        out = 0
        for tb in self.thread_bits.values():
            pre = hb & tb
            if not pre:
                continue
            c = pre.bit_length() - 1
            below = tb & ((1 << c) - 1)
            ce = self.events[c]
            if _memory(ce):
                out |= below & ~self.loc_bits[id(ce.loc)]
                c2 = self.pd[c]
                if c2 >= 0:
                    out |= tb & ((1 << c2) - 1)
            else:
                out |= below
        return out

    def _fences_hb_after(self, xs: int) -> int:
        """The SC fences b with some event of ``xs`` hb-before b."""
        out = 0
        for b in bits(self.fences):
            if self.events[b].hb & xs:
                out |= 1 << b
        return out

    def _fences_hb_before(self, xs: int) -> int:
        """The SC fences a hb-before some event of ``xs``."""
        out = 0
        for a, succ in self.fence_succ.items():
            if succ & xs:
                out |= 1 << a
        return out

    def _later(self, e: Event) -> tuple[int, int]:
        """(mo ∪ rb successors, eco successors) of a new memory event among the older ones."""
        mo = e.loc.mo
        z = zeco = 0
        start = None
        if e.is_write and mo[-1] is not e:
            start = mo.index(e) + 1
        if e.is_read and mo[-1] is not e.rf and not (e.is_write and mo[-1] is e):
            k = mo.index(e.rf) + 1
            start = k if start is None else min(start, k)
        if start is None:
            return 0, 0
        for w in mo[start:]:
            z |= 1 << w.stamp
            zeco |= w.readers
        not_e = ~(1 << e.stamp)
        z &= not_e
        return z, (z | zeco) & not_e

    def _mo_rb_pred(self, e: Event) -> int:
        """The writes mo-before the new write ``e`` and the reads of them (other than ``e``)."""
        lid = id(e.loc)
        mo = e.loc.mo
        if mo[-1] is e:
            return (self.wbits[lid] | self.rbits.get(lid, 0)) & ~(1 << e.stamp)
        out = 0
        for w in mo[:mo.index(e)]:
            out |= (1 << w.stamp) | w.readers
        return out & ~(1 << e.stamp)

    # -------------------------------------------------------------- edges of a new event
    def in_edges(self, e: Event) -> int:
        """The SC events a with a psc e, for a new SC access e."""
        s = e.stamp
        x = self.thread_bits[e.tid] & ((1 << s) - 1)  # sb
        x |= self._sbhbsb_pred(s)
        x |= e.hb & self.loc_bits[id(e.loc)]  # hb|loc
        if e.is_write:
            x |= self._mo_rb_pred(e)
        return (x & self.sc) | self._fences_hb_before(x)

    def out_edges(self, e: Event, z: int, zeco: int) -> int:
        """The SC events b with e psc b, for a new SC access e with mo ∪ rb successors ``z``."""
        return (z & self.sc) | self._fences_hb_after(z)

    def fence_in_edges(self, e: Event) -> int:
        """The SC events a with a psc e, for a new SC fence e (which has no out-edges)."""
        events = self.events
        hb = e.hb
        y = hb | (1 << e.stamp)
        preds = hb & self.fences  # psc_F: a hb e
        # SC accesses hb-before e with an scb-successor in Y = hb ∪ {e}: every event before the latest
        # one of its thread in Y (sb), the sb|≠loc;hb;sb|≠loc predecessors of those latest ones, and
        # those latest ones themselves when they have an hb|loc, mo or rb successor in Y.
        inside = 0
        lasts = []
        for tb in self.thread_bits.values():
            pre = y & tb
            if not pre:
                continue
            c = pre.bit_length() - 1
            inside |= pre & ~(1 << c)
            inside |= self._sbhbsb_pred(c)
            if c != e.stamp:
                lasts.append(c)
        for c in lasts:
            ce = events[c]
            if not (self.sc >> c & 1) or ce.kind == FENCE or inside >> c & 1:
                continue
            if self._scb_into(ce, hb):
                inside |= 1 << c
        preds |= inside & self.sc
        # Events outside Y that are mo- or rb-before (psc_base), or eco-before (psc_F), a write or read of Y.
        mo_rb = eco = 0
        for lid, loc in self.locs.items():
            in_w = hb & self.wbits.get(lid, 0)
            in_r = hb & self.rbits.get(lid, 0)
            if not (in_w or in_r):
                continue
            mo = loc.mo
            pos = {w.stamp: i for i, w in enumerate(mo)}
            kw = max((pos[w] for w in bits(in_w)), default=-1)
            kr = max((pos[events[r].rf.stamp] for r in bits(in_r)), default=-1)
            # Y's writes up to mo[kw] have the writes mo[:kw] mo-before and their readers rb-before them;
            # eco-before Y are the writes mo[:max(kw, kr + 1)] and the readers of mo[:max(kw, kr)].
            upto = max(kw, kr + 1)
            rd = max(kw, kr)
            for i in range(upto):
                w = mo[i]
                eco |= 1 << w.stamp
                if i < rd:
                    eco |= w.readers
                if i < kw:
                    mo_rb |= (1 << w.stamp) | w.readers
        mo_rb &= ~y
        eco &= ~y
        preds |= mo_rb & self.sc
        if eco:
            preds |= self._fences_hb_before(eco) & ~hb
        return preds

    def _scb_into(self, x: Event, hb: int) -> bool:
        """Does the access ``x`` have an hb|loc, mo or rb successor among the events of ``hb``?"""
        lid = id(x.loc)
        s = x.stamp
        for y in bits(hb & self.loc_bits[lid] & ~((2 << s) - 1)):
            if self.events[y].hb >> s & 1:
                return True
        mo = x.loc.mo
        if x.is_write:
            for w in mo[mo.index(x) + 1:]:
                if hb >> w.stamp & 1:
                    return True
        if x.is_read:
            for w in mo[mo.index(x.rf) + 1:]:
                if w is not x and hb >> w.stamp & 1:
                    return True
        return False

    # -------------------------------------------------------------- adding an event
    def add(self, e: Event) -> bool:
        """Add the committed event ``e`` (the newest); False when psc now has a cycle."""
        self._record(e)
        s = e.stamp
        bit = 1 << s
        node = is_node(e)
        memory = _memory(e)
        z = zeco = 0
        if memory:
            z, zeco = self._later(e)
        back = 0  # new edges that point at older nodes: (sources, targets) pairs to look for cycles through
        checks: list[tuple[int, int]] = []
        if zeco:
            # An SC fence hb-before e now reaches, through e, what e is mo/rb/eco-before.
            sources = e.hb & self.fences
            if sources:
                targets = (z & self.sc) | self._fences_hb_after(zeco)
                if targets:
                    for b in bits(targets):
                        self.pred[b] |= sources
                    checks.append((sources, targets))
        if node:
            if e.kind == FENCE:
                self.pred[s] = self.fence_in_edges(e)
                self.fences |= bit
                self.fence_succ[s] = 0
            else:
                self.pred[s] = self.in_edges(e)
                back = self.out_edges(e, z, zeco) if z else 0
                for b in bits(back):
                    self.pred[b] |= bit
                if back:
                    checks.append((bit, back))
            self.sc |= bit
        ok = all(not self._reaches(targets, sources) for sources, targets in checks)
        if VERIFY:
            self._verify(ok)
        return ok

    def _reaches(self, targets: int, sources: int) -> bool:
        """Does some node of ``targets`` reach some node of ``sources`` (or are they shared)?"""
        if targets & sources:
            return True
        seen = 0
        frontier = sources
        pred = self.pred
        while frontier:
            nxt = 0
            for x in bits(frontier):
                nxt |= pred[x]
            if nxt & targets:
                return True
            seen |= frontier
            frontier = nxt & ~seen
        return False

    def edges(self) -> dict[int, int]:
        """The successor bitsets of every SC event (the shape ``psc_edges`` returns)."""
        succ = {s: 0 for s in self.pred}
        for b, ps in self.pred.items():
            for a in bits(ps):
                succ[a] |= 1 << b
        return succ

    def _verify(self, ok: bool) -> None:
        want = psc_edges(self.events)
        got = self.edges()
        if got != want:
            diff = []
            for s in sorted(set(want) | set(got)):
                w, g = want.get(s, 0), got.get(s, 0)
                if w != g:
                    diff.append(f"#{s}: missing {sorted(bits(w & ~g))}, extra {sorted(bits(g & ~w))}")
            raise PscMismatch("incremental psc differs from the full check after event "
                              f"#{len(self.events) - 1}: " + "; ".join(diff))
        if ok != acyclic(want):
            raise PscMismatch(f"incremental psc says acyclic={ok}, the full check {not ok}")
