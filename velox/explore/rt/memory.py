"""Memory: events, locations, reads-from and modification-order choices, the memory operations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import graph as g
from . import psc, spin_state
from .failure import Failure, format_site
from .graph import Event, Loc
from .orders import ACQ_REL, ACQUIRE, NA, RELEASE, SEQ_CST, UsageError, is_acquire, is_release
from .plan import Plan
from .threads import Abort, ModelThread, current_thread

# is_acquire / is_release as set lookups (they run at every read and write).
_ACQUIRE_ORDERS = frozenset((ACQUIRE, ACQ_REL, SEQ_CST))
_RELEASE_ORDERS = frozenset((RELEASE, ACQ_REL, SEQ_CST))
_RMW_KINDS = frozenset((g.RMW, g.CAS))  # events whose written value is ``written`` (Event.write_value)
# Stated in a COMPLETE verdict when check_retry blocked an iteration: what "the same state" rested on.
_RETRY_ASSUMPTION = (
    "retry iterations that returned a thread to the same state were blocked (its state: its frames' live "
    "variables, the objects they reach, and the module and class attributes its code names; "
    "VELOX_EXPLORE_BLOCK_RETRIES=0 explores every iteration)")


def _frozen(v: Any) -> Any:
    try:
        hash(v)
        return v
    except TypeError:
        return ("unhashable", id(v), repr(v))


class Memory:
    """Mixin of ``Execution``: growing the graph, one memory operation at a time."""

    def new_event(self, t: ModelThread, kind: str, loc: Loc | None, order: int, site: Any,
                  op: str) -> tuple[Event, Any]:
        """Create the next event of ``t`` (not yet committed) and return it with its planned choice."""
        if len(t.events) >= self.max_steps:
            self.fail(Failure(
                "step bound",
                f"step bound exceeded: thread t{t.tid} performed more than {self.x.max_steps} operations in one "
                "execution: an unbounded loop? Spin loops must call spin_hint() or yield_now() so the explorer can "
                "treat them as waiting. If the test is just long, raise the bound with the environment variable "
                f"VELOX_MAX_STEPS (for example VELOX_MAX_STEPS={2 * self.x.max_steps}).",
                t.tid,
            ))
            raise Abort()
        stamp = len(self.events)
        e = Event(stamp, t.tid, len(t.events), kind, loc, order, site, op)
        e.hb = t.view
        e.porf = t.porf_view
        choice = None
        plan_meta = self.plan_meta
        meta = plan_meta[stamp] if plan_meta is not None and stamp < len(plan_meta) else None
        if meta is not None:
            e.key, e.added_max, e.revisitable = meta
        else:
            e.key = self.next_key
            self.next_key += 1
        if stamp < len(self.plan):
            ptid, choice, pkind = self.plan[stamp]
            if ptid != t.tid:
                self.fail(Failure(
                    "nondeterminism",
                    f"replaying event #{stamp}: thread t{t.tid} performs {kind!r} where thread t{ptid} performed "
                    "the event before. The test must be deterministic given the explorer's choices.",
                    t.tid,
                ))
                raise Abort()
            if pkind is not None and pkind != kind:
                self.fail(Failure(
                    "nondeterminism",
                    f"replaying event #{stamp}: thread t{t.tid} now performs {kind!r} where it performed "
                    f"{pkind!r} before. The test must be deterministic given the explorer's choices.",
                    t.tid,
                ))
                raise Abort()
        return e, choice

    def commit(self, t: ModelThread, e: Event, choice: Any) -> None:
        """Add the event to the graph."""
        bit = 1 << e.stamp
        t.view = e.hb | bit
        t.porf_view = e.porf | bit
        self.events.append(e)
        t.events.append(e)
        self.by_id[e.id] = e
        self.taken.append((e.tid, choice, e.kind))
        # RC11's SC axiom: psc's edges are kept from the first SC event on (psc.py). A new cycle needs
        # the new event: as an SC event, or in the middle of a path (a read of a non-latest write, or
        # a write placed before others in mo, has eco edges to older events).
        order = self.sc_order
        if order is None and e.order == SEQ_CST and psc.is_node(e):
            order = self.sc_order = psc.ScOrder(self.events, e.stamp)
        if order is not None and not order.add(e):
            self.prune("psc cycle (RC11's SC axiom)")

    def branch(self, t: ModelThread, e: Event, options: list[Any], choice: Any) -> Any:
        """Pick one option: the planned one, a random one, or the first (pushing the others)."""
        if choice is not None:
            if choice not in options:
                self.prune("a replayed choice is not consistent in this graph")
            if e.added_max is None:
                e.added_max = choice == options[0]
            return choice
        if not options:
            self.prune("no consistent choice")
        if self.x.rng is not None:
            return self.x.rng.choice(options)
        if len(options) > 1:
            rest = self.plan[e.stamp + 1:]
            meta = self.meta(e.stamp)
            meta.append((e.key, False, e.revisitable))
            if rest:
                meta += self.plan_meta[e.stamp + 1:] if self.plan_meta is not None else [None] * len(rest)
            for alt in options[1:]:
                self.x.push(Plan(self.taken + [(t.tid, alt, e.kind)] + rest, self.plan_revisits,
                                 meta=list(meta), next_key=self.next_key))
        e.added_max = True
        return options[0]

    def fresh(self, e: Event) -> bool:
        """True when this event is beyond the plan (so its revisits have not been pushed yet)."""
        return e.stamp >= len(self.plan)

    def revisits_due(self, e: Event) -> bool:
        """True when a write must push its backward revisits: it is new (beyond the plan), or it is the
        plan's last item (a write placed elsewhere in mo, an RMW re-pointed by a revisit), or the event
        a plan marks (an RMW that takes another RMW's write)."""
        return e.stamp >= len(self.plan) - 1 or e.stamp == self.revisit_at

    def sem_order(self, order: int) -> int:
        """The order the semantics uses: seq_cst for every atomic under model="sc"."""
        return SEQ_CST if self.sc_model and order != NA else order

    # ----------------------------------------------------------- locations
    def declare(self, t: ModelThread, key: Any, value: Any, name: str | None, site: Any, is_cell: bool) -> Loc:
        """Create a location (its initial write is an event of the creating thread)."""
        self.enter(t)
        e, _choice = self.new_event(t, g.INIT if not is_cell else g.NA_WRITE, None, NA if is_cell else 0, site,
                                   "init")
        loc = Loc(e.id, key, name or f"{'cell' if is_cell else 'atomic'}#{len(self.locs)}", is_cell)
        e.loc = loc
        e.value = value
        e.is_write = True
        if is_cell:
            loc.na.append(e)
        loc.mo.append(e)
        loc.init = e
        self.locs[key] = loc
        self.commit(t, e, 0)
        return loc

    def loc_of(self, key: Any, what: str) -> Loc:
        """The atomic location for a key, or a clear error."""
        loc = self.locs.get(key)
        if loc is None or loc.is_cell:
            raise UsageError(
                f"velox.explore: {what} on location {key!r}, which was never declared as an atomic "
                "(create it with Atomic(...) or rt_init(key, value) first)"
            )
        return loc

    # ------------------------------------------------------------ reads
    def read_options(self, t: ModelThread, loc: Loc) -> list[int]:
        """Indices in mo of the writes a new read by ``t`` may read (newest first)."""
        lo = max(g.seen_index(loc, t.view), 0)
        return list(range(len(loc.mo) - 1, lo - 1, -1))

    def apply_read(self, t: ModelThread, e: Event, w: Event) -> None:
        """Make ``e`` read from ``w``: value, synchronisation, porf."""
        e.rf = w
        e.is_read = True
        e.value = w.written if w.kind in _RMW_KINDS else w.value  # w.write_value()
        e.loc.reads.append(e)
        w.readers |= 1 << e.stamp
        # acquire (or an acquire fence later) synchronises with w's release sequence.
        order = e.order
        if order in _ACQUIRE_ORDERS:
            e.hb |= w.msg
        if order != NA:
            t.acq_pending |= w.msg
        e.porf |= w.porf | (1 << w.stamp)
        t.reads_since_write.append(e)

    def apply_write(self, t: ModelThread, e: Event, after: Event) -> None:
        """Insert the write ``e`` into mo right after ``after``, compute its release view, wake spinners."""
        loc = e.loc
        e.is_write = True
        mo = loc.mo
        if mo[-1] is after:  # the usual case: placed last
            mo.append(e)
        else:
            mo.insert(mo.index(after) + 1, e)
        t.prev_spin_rfs = None
        t.spin_repeats = 0
        t.spurious_rec = None
        for th in self.threads:
            if th.spinning and th is not t and id(loc) in th.spin_locs:
                # A write to what the spinner read: its next iteration may see something new. The
                # wake-up is a dependency (the spinner runs on because of this write), kept in porf
                # so that a revisit never keeps the spinner's later events without this write.
                th.spinning = False
                th.forced = th.confirmed = False
                th.porf_view |= e.porf | (1 << e.stamp)
        own = (e.hb | (1 << e.stamp)) if e.order in _RELEASE_ORDERS else t.rel_fence_view
        if e.order == NA:
            own = 0  # a plain write heads no release sequence and continues none
            t.reads_since_write = []
            t.spurious_since_write = False
            return
        lid = id(loc)
        msg = own | t.rs_view.get(lid, 0)
        if e.rf is not None:
            msg |= e.rf.msg  # an RMW continues the release sequence it reads from
        e.msg = msg
        t.rs_view[lid] = t.rs_view.get(lid, 0) | own
        t.reads_since_write = []
        t.spurious_since_write = False

    def op_load(self, key: Any, order: int, site: Any, t: ModelThread | None = None) -> Any:
        if t is None:
            t = current_thread("load()")
        self.enter(t)
        loc = self.locs.get(key)
        if loc is None or loc.is_cell:
            loc = self.loc_of(key, "load")  # raises the error
        if t.after_failed_cas:
            self.check_retry(t, loc, order, site)
        e, choice = self.new_event(t, g.LOAD, loc, SEQ_CST if self.sc_model and order != NA else order, site,
                                   "load")
        e.shown_order = order
        mo = loc.mo
        options = [(mo[i].id, False) for i in self.read_options(t, loc)]
        rf_id, _ = self.branch(t, e, options, choice)
        self.apply_read(t, e, self.by_id[rf_id])
        self.commit(t, e, (rf_id, False))
        return e.value

    def op_store(self, key: Any, value: Any, order: int, site: Any, t: ModelThread | None = None) -> None:
        if t is None:
            t = current_thread("store()")
        self.enter(t)
        loc = self.loc_of(key, "store")
        e, choice = self.new_event(t, g.STORE, loc, self.sem_order(order), site, "store")
        e.shown_order = order
        e.value = value
        mo = loc.mo
        lo = max(g.seen_index(loc, t.view), 0)
        options = [mo[i].id for i in range(len(mo) - 1, lo - 1, -1) if not g.has_rmw_reader(loc, i)]
        pred = self.branch(t, e, options, choice)
        fresh = self.revisits_due(e)
        self.apply_write(t, e, self.by_id[pred])
        self.commit(t, e, pred)
        if fresh and self.x.dpor and self.x.rng is None:
            self.push_revisits(e)

    def op_rmw(self, key: Any, fn: Callable[[Any], Any], order: int, site: Any, op: str,
               t: ModelThread | None = None) -> Any:
        if t is None:
            t = current_thread(op)
        self.enter(t)
        loc = self.loc_of(key, op)
        e, choice = self.new_event(t, g.RMW, loc, self.sem_order(order), site, op)
        e.shown_order = order
        mo = loc.mo
        cands = self.read_options(t, loc)
        options = [(mo[i].id, False) for i in cands if not g.has_rmw_reader(loc, i)]
        if choice is None:
            self.push_rmw_conflicts(t, e, loc, [i for i in cands if g.has_rmw_reader(loc, i)])
        rf_id, _ = self.branch(t, e, options, choice)
        w = self.by_id[rf_id]
        self.apply_read(t, e, w)
        e.written = fn(e.value)
        self.apply_write(t, e, w)
        self.commit(t, e, (rf_id, False))
        if self.x.dpor and self.x.rng is None and self.revisits_due(e):
            self.push_revisits(e)
        return e.value

    def op_cas(self, key: Any, expected: Any, desired: Any, weak: bool, success: int, failure: int,
               site: Any, t: ModelThread | None = None) -> tuple[bool, Any]:
        op = "cas_weak" if weak else "cas"
        if t is None:
            t = current_thread("compare_exchange")
        self.enter(t)
        loc = self.locs.get(key)
        if loc is None or loc.is_cell:
            loc = self.loc_of(key, "compare_exchange")  # raises the error
        if t.after_failed_cas:
            self.check_retry(t, loc, success, site, (_frozen(expected), _frozen(desired), weak, failure))
        e, choice = self.new_event(t, g.CAS, loc, SEQ_CST if self.sc_model and success != NA else success, site, op)
        e.expected = expected
        e.weak = weak
        e.arg = desired
        mo = loc.mo
        weak_spurious = weak and self.spurious_allowed(t, e, loc)
        options = []
        conflicts = []
        rmw_kinds = _RMW_KINDS
        for i in self.read_options(t, loc):
            w = mo[i]
            if (w.written if w.kind in rmw_kinds else w.value) == expected:  # w.write_value() == expected
                if not (i + 1 < len(mo) and mo[i + 1].rf is w):  # not g.has_rmw_reader(loc, i)
                    options.append((mo[i].id, False))
                else:
                    conflicts.append(i)
                if weak_spurious:
                    options.append((mo[i].id, True))
            else:
                options.append((mo[i].id, False))
        if choice is None:
            self.push_rmw_conflicts(t, e, loc, conflicts)
        rf_id, spurious = self.branch(t, e, options, choice)
        w = self.by_id[rf_id]
        ok = w.write_value() == expected and not spurious
        if ok:
            e.shown_order = success
            self.apply_read(t, e, w)
            e.written = desired
            self.apply_write(t, e, w)
        else:
            e.order = self.sem_order(failure)
            e.shown_order = failure
            e.spurious = spurious
            self.apply_read(t, e, w)
            if spurious:
                t.spurious_since_write = True
        t.after_failed_cas = not ok
        t.last_spurious[id(loc)] = t.last_spurious.get(id(loc), 0) + 1 if spurious else 0
        if spurious:
            t.spurious_rec = (id(loc), t.cas_state, e)
        self.commit(t, e, (rf_id, spurious))
        if ok and self.x.dpor and self.x.rng is None and self.revisits_due(e):
            self.push_revisits(e)
        return ok, e.value

    def spurious_allowed(self, t: ModelThread, e: Event, loc: Loc) -> bool:
        """May this weak compare-exchange fail spuriously? Prunes a retry that a spurious failure made pointless.

        A spurious failure followed by a retry that reaches the next compare-exchange with no write and
        the thread's state unchanged (``spin_state``) changed nothing: every continuation is one of the
        execution without it, so that execution is pruned here. Where the state changes (a bounded retry
        counter), failures in a row are explored up to ``VELOX_SPIN_BOUND`` and then the run says
        INCOMPLETE. Where the state cannot be seen (C code), one spurious failure in a row per location
        is explored, and a COMPLETE verdict states that assumption.
        """
        state = spin_state.snapshot(stable=self.stable_id)
        if state is not spin_state.UNKNOWN:
            state = (loc.lid, e.site, _frozen(e.expected), _frozen(e.arg), e.order, state)
        t.cas_state = state
        rec = t.spurious_rec
        t.spurious_rec = None
        if rec is not None and rec[0] == id(loc) and state is not spin_state.UNKNOWN and rec[1] == state:
            if t.events and t.events[-1] is rec[2] and not self.shared_run:
                # Nothing at all happened in between: the retry follows from the state and the value
                # the failure returned alone, so a spurious failure in this state is never worth trying.
                self.x.pointless_spurious.add(state)
            self.prune("a compare-exchange retried after a spurious failure with nothing changed")
        if state is not spin_state.UNKNOWN and not self.shared_run and state in self.x.pointless_spurious:
            return False
        in_a_row = t.last_spurious.get(id(loc), 0)
        if in_a_row == 0:
            return True
        if state is spin_state.UNKNOWN:
            self.x.assumptions.add(
                "a weak compare-exchange in code whose state the explorer cannot see (C) was allowed one "
                "spurious failure in a row per location")
            return False
        if in_a_row >= self.x.spin_bound:
            self.x.bounded = (f"spin bound: {in_a_row} spurious compare-exchange failures in a row at "
                              f"{format_site(e.site)}, each changing the thread's state; raise VELOX_SPIN_BOUND")
            return False
        return True

    def check_retry(self, t: ModelThread, loc: Loc, order: int, site: Any, args: tuple = ()) -> None:
        """At the first read after a failed compare-exchange: block a retry iteration that changed nothing.

        A retry loop that re-reads at its head (``do { old = load(x); } while (!cas(x, old, f(old)))``)
        reaches this read once per iteration. When it comes back to the same read with the same
        thread state (``spin_state``: frames, live variables, loop iterators, objects they reach) and
        did nothing but atomic reads and failed compare-exchanges since the last time, that iteration
        changed nothing: the execution without it reaches this point in the same state, with fewer
        constraints on what it reads next, and has the same outcomes. (``args``: what the read is asked
        besides its location and order, a compare-exchange's expected and desired values: already
        evaluated, they are no longer in the caller's live variables.) The thread is blocked here for
        the rest of the execution (an ``assume(false)``, as GenMC's spin-assume), so the failed
        iterations are not explored as new families of graphs. The condition depends only on the
        thread's own events and values, so every re-run decides it the same way.

        A loop that can never exit must still be reported: when nothing else can run, a blocked
        iteration that read the latest value of everything it read would repeat forever, and the
        execution ends as a livelock; otherwise the thread would have read something newer, and the
        execution (counted as blocked) is covered by the one without the iteration
        (``Scheduling.end_no_runnable``). State that cannot be seen (C code) never blocks.
        """
        t.after_failed_cas = False
        if not self.x.block_retries or t.in_c:
            t.retry_mark = None
            return
        here = (loc.lid, order, site, args)
        mark = t.retry_mark
        if args and (mark is None or mark[0] != here):
            # A compare-exchange right after a failed one: where the loop carries the value the failure
            # returned into ``expected`` it never comes back the same, so its state (a capture costs as
            # much as a few events) is only taken once the same compare-exchange repeats.
            t.retry_mark = (here, None, len(t.events))
            return
        state = spin_state.snapshot(stable=self.stable_id)
        if state is spin_state.UNKNOWN:
            t.retry_mark = None
            return
        t.retry_mark = (here, state, len(t.events))
        if mark is None or mark[0] != here or mark[1] != state:
            return
        since = t.events[mark[2]:]
        if not since or not all(e.kind == g.LOAD or (e.kind == g.CAS and not e.is_write) for e in since):
            return
        t.retry_mark = None
        # The block is an event of the thread (shown as "retry blocked" in traces): whoever granted the
        # thread this step, a plan included, sees it take the step, as a spin hint's event does.
        e, _choice = self.new_event(t, g.SPIN, None, NA, site, "retry blocked")
        self.commit(t, e, 0)
        self.x.assumptions.add(_RETRY_ASSUMPTION)
        t.assumed = since
        t.spinning = t.confirmed = True  # not runnable, never woken (Scheduling.force_wake skips it)
        t.spin_locs = set()
        t.spin_reads = list(since)
        self.schedule_away(t)  # returns only if the execution goes on without it: it never does
        raise Abort()

    def op_fence(self, order: int, site: Any) -> None:
        t = current_thread("fence()")
        self.enter(t)
        e, _choice = self.new_event(t, g.FENCE, None, self.sem_order(order), site, "fence")
        e.shown_order = order
        if is_acquire(e.order):
            e.hb |= t.acq_pending  # acquire fence: synchronises with what earlier reads read
        self.commit(t, e, 0)
        if is_release(e.order):
            t.rel_fence_view = t.view  # later writes carry this fence's view as a release

    def op_cell(self, key: Any, is_write: bool, site: Any, value: Any = None, name: str | None = None,
                mask: int = -1) -> Any:
        """A plain access. Python cells (declared with a value) read from a store like atomics do;
        C cells (first seen here, value in C memory) are only checked for races."""
        t = current_thread("a plain (Cell) access")
        loc = self.locs.get(key)
        if loc is None:
            loc = self.declare_cell_lazily(t, key, name)
        elif not loc.is_cell:
            raise UsageError(f"velox.explore: plain access to {loc.name}, which is an atomic location")
        self.enter(t)
        kind = g.NA_WRITE if is_write else g.NA_READ
        e, choice = self.new_event(t, kind, loc, NA, site, "set" if is_write else "get")
        e.value = value
        e.mask = mask
        if name is not None and name != loc.name:
            e.what = name
        racy = None
        for a in loc.na:
            if (is_write or a.kind == g.NA_WRITE) and a.tid != t.tid and a.mask & mask and not (e.hb >> a.stamp & 1):
                racy = a
                break
        loc.na.append(e)
        fresh = self.revisits_due(e)
        if not loc.mo:  # C memory: nothing to choose
            self.commit(t, e, 0)
        elif is_write:
            mo = loc.mo
            lo = max(g.seen_index(loc, t.view), 0)
            pred = self.branch(t, e, [mo[i].id for i in range(len(mo) - 1, lo - 1, -1)], choice)
            self.apply_write(t, e, self.by_id[pred])
            self.commit(t, e, pred)
        else:
            mo = loc.mo
            rf_id, _ = self.branch(t, e, [(mo[i].id, False) for i in self.read_options(t, loc)], choice)
            self.apply_read(t, e, self.by_id[rf_id])
            self.commit(t, e, (rf_id, False))
        if racy is not None:
            if self.x.races == "flag":
                self.raced = True
            else:
                self.fail(Failure(
                    "data race",
                    f"data race on {e.what or loc.name}: t{e.tid} {e.op} at {format_site(e.site)} (event #{e.stamp}) "
                    f"conflicts with t{racy.tid} {racy.op} of {racy.what or loc.name} at {format_site(racy.site)} "
                    f"(event #{racy.stamp}); neither happens "
                    "before the other. A release/acquire pair (or a stronger order) must order them.",
                    t.tid, (racy.stamp, e.stamp),
                ))
                raise Abort()
        if is_write and loc.mo and fresh and self.x.dpor and self.x.rng is None:
            self.push_revisits(e)
        return e.value

    def declare_cell_lazily(self, t: ModelThread, key: Any, name: str | None) -> Loc:
        """A plain location first seen at an access (C memory): no initial write event."""
        loc = Loc((t.tid, -len(self.locs) - 1), key, name or f"cell@{key!r}", True)
        self.locs[key] = loc
        return loc
