"""Backward revisits: plans in which an earlier read reads from a newer write, each graph once.

When a write ``w`` is added, every earlier read ``r`` of its location outside
``w``'s (po ∪ rf)-prefix could read it instead: the revisit keeps the events the
search added before ``r`` plus ``w``'s prefix, drops the rest, and makes ``r``
read ``w``. Done for every graph that reaches ``w``, the same revisited graph
would be built from every graph that differs only in the dropped events; so, as
in TruSt (Kokologiannakis, Raad, Vafeiadis et al., POPL 2022), a revisit is
performed only from the one graph in which the dropped events (and ``r``) were
added *maximally*: each dropped read reads the mo-latest write among those kept,
each dropped write is mo-after every kept write, each took its first choice
(see ``Plan.meta``), and none was itself revisited by a write that is dropped.
The prefix of ``w`` may not be revisited again. Every consistent graph is then
built exactly once, with no record of the graphs already seen.

"Added before" is the search's order (``Event.key``), not the order of the
re-run: a revisited read keeps its place before the write it reads.
"""

from __future__ import annotations

from typing import Any

from . import graph as g
from .graph import Event, Loc
from .plan import Plan
from .threads import ModelThread


class Revisits:
    """Mixin of ``Execution``: the revisit plans a new write or RMW pushes."""

    def maximal(self, r: Event, w: Event, keep: int, w_is_rmw: bool) -> bool:
        """TruSt's condition: is the graph with ``r`` re-pointed at ``w`` (keeping ``keep``) built from this one?"""
        if not w_is_rmw and w.loc is not None and w in w.loc.mo:
            mo = w.loc.mo
            i = mo.index(w)
            if i + 1 < len(mo) and not keep >> mo[i + 1].stamp & 1:
                return False  # w's mo-successor goes: w's place in mo would not be determined
        for e in self.events:
            if e is not r and keep >> e.stamp & 1:
                continue
            if e.added_max is False or e.spurious:
                return False
            if e.loc is None or not e.loc.mo:
                continue
            if e.is_read and e.rf is not None:
                rf = e.rf
                if not keep >> rf.stamp & 1 and rf.key > e.key:
                    return False  # e was itself revisited by a write that is dropped
                if self.kept_mo_after(rf, keep, w):
                    return False
            if e.is_write and e is not r and self.kept_mo_after(e, keep, w):
                return False
        return True

    @staticmethod
    def kept_mo_after(x: Event, keep: int, w: Event) -> bool:
        """True when a kept write other than ``w`` is mo-after ``x``."""
        mo = x.loc.mo
        for y in mo[mo.index(x) + 1:]:
            if y is not w and keep >> y.stamp & 1:
                return True
        return False

    def revisit_items(self, keep: int, fixed: int, skip: Event) -> tuple[list[tuple[int, Any, Any]], list]:
        """Plan items and bookkeeping for the kept events (in run order), ``skip`` left out; the events in
        ``fixed`` (the revisiting write's prefix) may not be revisited again."""
        items: list[tuple[int, Any, Any]] = []
        meta: list = []
        for e in self.events:
            if not keep >> e.stamp & 1 or e is skip:
                continue
            movable = e.kind in (g.STORE, g.NA_WRITE) and e.loc is not None and e.loc.mo and e is not e.loc.init
            items.append((e.tid, self.pred_in(e, keep), e.kind) if movable else self.taken[e.stamp])
            meta.append((e.key, e.added_max, e.revisitable and not fixed >> e.stamp & 1))
        return items, meta

    def push_revisits(self, w: Event) -> None:
        """Push, for each earlier read of w's location outside w's prefix, the graph where it reads w."""
        bound = self.x.max_preemptions
        w_is_rmw = w.kind in (g.RMW, g.CAS)
        for r in list(w.loc.reads):
            if r is w or r.key > w.key or w.porf >> r.stamp & 1 or not r.revisitable:
                continue
            keep = w.porf | (1 << w.stamp)
            for e in self.events:
                if e.key < r.key:
                    keep |= 1 << e.stamp
            if not self.maximal(r, w, keep, w_is_rmw):
                continue
            if bound is not None and self.plan_revisits + 1 > bound:
                self.x.bounded = f"max_preemptions={bound}"
                continue
            items, meta = self.revisit_items(keep, w.porf | (1 << w.stamp), r)
            variants = [(w.id, False)]
            if r.kind == g.CAS and r.weak and w.write_value() == r.expected:
                variants.append((w.id, True))
            for v in variants:
                self.x.push(Plan(items + [(r.tid, v, r.kind)], self.plan_revisits + 1,
                                 meta=meta + [(r.key, None, r.revisitable)], next_key=self.next_key))

    def push_rmw_conflicts(self, t: ModelThread, e: Event, loc: Loc, indices: list[int]) -> None:
        """A new RMW ``e`` may read a write that an earlier RMW ``u`` already reads, if ``u`` then reads ``e``.

        Atomicity forbids both reading the same write, so that graph cannot be built forward: it is the
        revisit of ``u`` by ``e``: keep the events added before ``u`` plus ``e``'s prefix, let ``e`` read
        the write, and re-add ``u`` reading from ``e`` (GenMC revisits the competing RMW the same way).
        """
        if not self.x.dpor or self.x.rng is not None or not self.fresh(e):
            return
        bound = self.x.max_preemptions
        for i in indices:
            w = loc.mo[i]
            u = loc.mo[i + 1]
            porf = e.porf | w.porf | (1 << w.stamp)
            if porf >> u.stamp & 1 or not u.revisitable:
                continue
            keep = porf
            for x in self.events:
                if x.key < u.key:
                    keep |= 1 << x.stamp
            if not self.maximal(u, e, keep, True):
                continue
            if bound is not None and self.plan_revisits + 1 > bound:
                self.x.bounded = f"max_preemptions={bound}"
                continue
            items, meta = self.revisit_items(keep, porf, u)
            at = len(items)
            items.append((e.tid, (w.id, False), e.kind))
            meta.append((e.key, None, False))
            items.append((u.tid, ((e.tid, e.idx), False), u.kind))
            meta.append((u.key, None, u.revisitable))
            self.x.push(Plan(items, self.plan_revisits + 1, revisit_at=at, meta=meta, next_key=self.next_key))

    @staticmethod
    def pred_in(e: Event, keep: int) -> tuple[int, int]:
        """The mo-predecessor of store ``e`` among kept writes added before it."""
        mo = e.loc.mo
        for j in range(mo.index(e) - 1, -1, -1):
            p = mo[j]
            if keep >> p.stamp & 1 and p.stamp < e.stamp:
                return p.id
        raise AssertionError("a store is always mo-after its location's initial write")
