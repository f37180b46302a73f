"""Backward revisits: plans in which an earlier read reads from a newer write (GenMC style)."""

from __future__ import annotations

from typing import Any

from . import graph as g
from .graph import Event, Loc
from .plan import Plan
from .threads import ModelThread


class Revisits:
    """Mixin of ``Execution``: the revisit plans a new write or RMW pushes."""

    def push_revisits(self, w: Event) -> None:
        """Push, for each earlier read of w's location outside w's prefix, the graph where it reads w."""
        bound = self.x.max_preemptions
        for r in list(w.loc.reads):
            if r is w or r.stamp > w.stamp or w.porf >> r.stamp & 1:
                continue
            if bound is not None and self.plan_revisits + 1 > bound:
                self.x.bounded = f"max_preemptions={bound}"
                continue
            keep = ((1 << r.stamp) - 1) | w.porf | (1 << w.stamp)
            items: list[tuple[int, Any, Any]] = []
            for e in self.events:
                if not keep >> e.stamp & 1 or e is r:
                    continue
                if e is w:
                    items.append((e.tid, None if e.kind in (g.STORE, g.NA_WRITE) else self.taken[e.stamp][1], e.kind))
                elif e.kind in (g.STORE, g.NA_WRITE) and e.loc.mo and e is not e.loc.init:
                    items.append((e.tid, self.pred_in(e, keep), e.kind))
                else:
                    items.append(self.taken[e.stamp])
            variants = [(w.id, False)]
            if r.kind == g.CAS and r.weak and w.write_value() == r.expected:
                variants.append((w.id, True))
            for v in variants:
                self.x.push(Plan(items + [(r.tid, v, r.kind)], self.plan_revisits + 1))

    def push_rmw_conflicts(self, t: ModelThread, e: Event, loc: Loc, indices: list[int]) -> None:
        """A new RMW ``e`` may read a write that an earlier RMW ``u`` already reads, if ``u`` then reads ``e``.

        Atomicity forbids both reading the same write, so that graph cannot be built forward: push the
        revisit that keeps the events added before ``u`` plus ``e``'s prefix, lets ``e`` read the write,
        and re-adds ``u`` reading from ``e`` (GenMC revisits the competing RMW the same way).
        """
        if not self.x.dpor or self.x.rng is not None or not self.fresh(e):
            return
        bound = self.x.max_preemptions
        for i in indices:
            w = loc.mo[i]
            u = loc.mo[i + 1]
            porf = e.porf | w.porf | (1 << w.stamp)
            if porf >> u.stamp & 1:
                continue
            if bound is not None and self.plan_revisits + 1 > bound:
                self.x.bounded = f"max_preemptions={bound}"
                continue
            keep = ((1 << u.stamp) - 1) | porf
            items: list[tuple[int, Any, Any]] = []
            for x in self.events:
                if not keep >> x.stamp & 1 or x is u:
                    continue
                movable = x.kind in (g.STORE, g.NA_WRITE) and x.loc.mo and x is not x.loc.init
                items.append((x.tid, self.pred_in(x, keep), x.kind) if movable else self.taken[x.stamp])
            at = len(items)
            items.append((e.tid, (w.id, False), e.kind))
            items.append((u.tid, ((e.tid, e.idx), False), u.kind))
            self.x.push(Plan(items, self.plan_revisits + 1, revisit_at=at))

    @staticmethod
    def pred_in(e: Event, keep: int) -> tuple[int, int]:
        """The mo-predecessor of store ``e`` among kept writes added before it."""
        mo = e.loc.mo
        for j in range(mo.index(e) - 1, -1, -1):
            p = mo[j]
            if keep >> p.stamp & 1 and p.stamp < e.stamp:
                return p.id
        raise AssertionError("a store is always mo-after its location's initial write")
