"""One execution of a test: scheduling, replaying a plan, and growing the graph.

An execution re-runs the test from scratch. It follows a *plan* (a list of
``(thread, choice, kind)`` items, one per event, in stamp order) as far as the plan
goes, then continues *fresh*: the thread with the lowest id that can run performs
the next event (with ``dpor=False``, every runnable thread is a branch), each read
reads from the newest write it may read, each store goes last in mo, and every
other consistent choice is pushed to the explorer as a new plan. With ``dpor=True``
a new write also pushes *revisits*: for each earlier read of its location that is
not in its (po ∪ rf)-prefix, the plan that keeps the events added before that read
plus the write's prefix, and makes the read read from the write (the backward
revisits of GenMC, Kokologiannakis et al., PLDI 2019 / POPL 2022). So reads-from
choices that run against the schedule are explored without exploring schedules.

Spin loops are waiting: a thread that spins after reading (since its last write)
blocks until another thread writes a location it read in that iteration; an
iteration that reads exactly what the previous one read is pruned (nothing new
happened). Reading a later value directly is also found by a revisit of the reads
it made. When no thread can run, the spinners are woken once more ("forced"): a loop's
local state may change although nothing new was written (a retry counter, the
value a failed CAS returned). A forced iteration that reads exactly the same
latest values again proves the thread spins forever; when every live thread is
proven stuck or waits in join(), the execution is a livelock or deadlock.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from . import _graph as g
from ._graph import Event, Loc
from ._orders import NA, NAMES, SEQ_CST, UsageError, is_acquire, is_release
from ._threads import Abort, JoinHandle, ModelThread

_tls = threading.local()


class Failure:
    """What went wrong in a failing execution."""

    __slots__ = ("exc", "kind", "message", "stamps", "tid")

    def __init__(self, kind: str, message: str, tid: int | None = None, stamps: tuple[int, ...] = (),
                 exc: BaseException | None = None) -> None:
        self.exc = exc  # the exception, for usage errors that check() re-raises
        self.kind = kind  # "assertion", "exception", "data race", "deadlock", "livelock", "step bound", ...
        self.message = message
        self.tid = tid
        self.stamps = stamps  # events the failure is about (for the trace table)


class Plan:
    """A prefix of an execution to replay: items (tid, choice, kind); choice None means branch here."""

    __slots__ = ("items", "revisit_at", "revisits")

    def __init__(self, items: list[tuple[int, Any, Any]], revisits: int = 0, revisit_at: int = -1) -> None:
        self.items = items
        self.revisits = revisits  # backward revisits that led to this plan (bounded by max_preemptions)
        self.revisit_at = revisit_at  # a replayed event that must still push its own revisits

    def key(self) -> tuple:
        """Identity of the plan, for deduplication."""
        return tuple((tid, choice) for tid, choice, _ in self.items)


def current_thread(what: str) -> ModelThread:
    """The model thread running this code, or a clear error outside an exploration."""
    t = getattr(_tls, "thread", None)
    if t is None:
        raise RuntimeError(
            f"velox.explore: {what} can only be used inside a test run by velox.explore.check(), "
            "outcomes() or outcome_counts()"
        )
    return t


class Execution:
    """One run of the test under the explorer's control."""

    def __init__(self, explorer: Any, plan: Plan) -> None:
        self.x = explorer
        self.plan = plan.items
        self.plan_revisits = plan.revisits
        self.revisit_at = plan.revisit_at
        self.taken: list[tuple[int, Any, Any]] = []
        self.events: list[Event] = []
        self.by_id: dict[tuple[int, int], Event] = {}
        self.threads: list[ModelThread] = []
        self.locs: dict[Any, Loc] = {}
        self.granted: ModelThread | None = None
        self.aborted = False
        self.ended = False
        self.done = threading.Lock()
        self.done.acquire()
        self.failure: Failure | None = None
        self.pruned: str | None = None
        self.complete = False
        self.result: Any = None
        self.preemptions = 0
        self.sc_model = explorer.model == "sc"
        self.sc_events = 0
        self.raced = False

    # ------------------------------------------------------------------ running
    def run(self, test: Callable[[], Any]) -> None:
        """Run the test once (thread 0 runs ``test()``), then clean every thread up."""
        main = ModelThread(self, 0, (0,), test, ())
        self.threads.append(main)
        main.start_os_thread()
        self.granted = main
        main.baton.release()
        if not self.done.acquire(timeout=self.x.watchdog):
            self.failure = Failure(
                "hang",
                f"no thread reached a velox.explore primitive for {self.x.watchdog:.0f} s: the test blocks on "
                "something the explorer does not control (a real lock, sleep, I/O?). Use only velox.explore "
                "primitives for synchronisation inside explored tests.",
            )
        self.cleanup()

    def cleanup(self) -> None:
        """Unwind every thread still parked in a primitive and wait for all OS threads to exit."""
        self.aborted = True
        for t in self.threads:
            if t.started and not t.finished or not t.started:
                try:
                    t.baton.release()
                except RuntimeError:
                    pass  # already released: the thread is running towards its exit
        for t in self.threads:
            if t.os_thread is not None and not t.wait_exited(self.x.watchdog):
                raise RuntimeError(
                    f"velox.explore: thread t{t.tid} did not stop after its execution ended; it is stuck "
                    "outside velox.explore primitives (or swallowed the explorer's Abort exception)"
                )

    def thread_main(self, t: ModelThread) -> None:
        """Body of every model OS thread."""
        t.baton.acquire()
        if self.aborted:
            return
        t.started = True
        _tls.thread = t
        try:
            result = t.fn(*t.args)
        except Abort:
            return
        except BaseException as exc:  # noqa: BLE001 - any exception in a thread fails the test
            if self.aborted or self.ended:
                return
            if isinstance(exc, UsageError):
                self.fail(Failure("usage", str(exc), t.tid, exc=exc))
                return
            kind = "assertion" if isinstance(exc, AssertionError) else "exception"
            tb = "".join(traceback.format_exception(exc)).rstrip()
            what = "assertion failed" if kind == "assertion" else f"uncaught {type(exc).__name__}"
            self.fail(Failure(kind, f"thread t{t.tid}: {what}: {exc}\n{tb}", t.tid))
            return
        finally:
            _tls.thread = None
        self.finish_thread(t, result)

    def end(self) -> None:
        """Signal the controller that this execution is over (once)."""
        if not self.ended:
            self.ended = True
            self.done.release()

    def fail(self, failure: Failure) -> None:
        """Record a failure and end the execution."""
        if self.failure is None and self.pruned is None:
            self.failure = failure
        self.end()

    def prune(self, reason: str) -> None:
        """End an execution that is inconsistent or redundant; unwinds the calling thread."""
        if self.failure is None and self.pruned is None:
            self.pruned = reason
        self.end()
        raise Abort()

    # --------------------------------------------------------------- scheduling
    def decide(self, current: ModelThread | None) -> ModelThread | None:
        """Pick the thread that performs the next event (branching on it with dpor=False)."""
        pos = len(self.taken)
        if pos < len(self.plan):
            tid = self.plan[pos][0]
            th = self.threads[tid] if tid < len(self.threads) else None
            if th is not None and th.spinning and not th.confirmed:
                th.spinning = False  # the plan ran it on here: a wake-up of this graph's prefix
                th.forced = True
            if th is None or not th.runnable():
                self.fail(Failure(
                    "nondeterminism",
                    f"replaying event #{pos}: thread t{tid} cannot run now, but it did when this execution was "
                    "first explored. The test must be deterministic given the explorer's choices (no real "
                    "randomness, time, set/dict iteration over objects, or shared state kept between runs).",
                ))
                raise Abort()
            chosen = th
        else:
            runnable = [t for t in self.threads if t.runnable()]
            if not runnable:
                return None
            if self.x.rng is not None:
                chosen = self.x.rng.choice(runnable)
            elif self.x.dpor:
                chosen = runnable[0]
            else:
                chosen = current if current is not None and current in runnable else runnable[0]
                for th in runnable:
                    if th is chosen:
                        continue
                    pre = self.preemptions + (1 if current is not None and current.runnable() else 0)
                    if self.x.max_preemptions is not None and pre > self.x.max_preemptions:
                        self.x.bounded = f"max_preemptions={self.x.max_preemptions}"
                        continue
                    self.x.push(Plan(self.taken + [(th.tid, None, None)], self.plan_revisits))
        if current is not None and current.runnable() and chosen is not current:
            self.preemptions += 1
        return chosen

    def wait(self, t: ModelThread) -> None:
        """Park until this thread is granted the next event (or the execution is over)."""
        t.baton.acquire()
        if self.aborted:
            raise Abort()
        self.granted = None

    def handoff(self, t: ModelThread, nxt: ModelThread) -> None:
        """Give the baton to ``nxt`` and park ``t``."""
        self.granted = nxt
        nxt.baton.release()
        self.wait(t)

    def schedule_away(self, t: ModelThread) -> None:
        """Let the scheduler pick who goes next; return when ``t`` is the one."""
        nxt = self.next_thread(t)
        if nxt is None:
            self.end_no_runnable()
            self.wait(t)
            raise Abort()
        if nxt is not t:
            self.handoff(t, nxt)

    def enter(self, t: ModelThread) -> None:
        """Called by every primitive before it acts: return when ``t`` performs the next event."""
        if self.aborted or self.ended:
            raise Abort()
        if self.granted is t:
            self.granted = None
            return
        self.schedule_away(t)

    def finish_thread(self, t: ModelThread, result: Any) -> None:
        """A thread returned: record its result and pass the baton on."""
        self.granted = None
        t.finished = True
        t.result = result
        if t.tid == 0:
            self.result = result
        if self.aborted or self.ended:
            return
        try:
            nxt = self.next_thread(None)
        except Abort:
            return
        if nxt is None:
            self.end_no_runnable()
        else:
            self.granted = nxt
            nxt.baton.release()

    def end_no_runnable(self) -> None:
        """No thread can run: a complete execution, a blocked one, or a deadlock/livelock."""
        live = [t for t in self.threads if not t.finished]
        if not live:
            self.complete = True
            self.end()
            return
        spinners = [t for t in live if t.spinning]
        lines = []
        for t in live:
            if t.spinning:
                where = t.events[-1].site if t.events else "?"
                seen = ", ".join(f"{r.loc.name}={g.describe_value(r.value)}" for r in t.spin_reads)
                lines.append(f"  t{t.tid} spins forever at {format_site(where)}: it read the latest value of "
                             f"everything it waits on ({seen}) and no other thread can change it")
            elif t.blocked_on is not None:
                lines.append(f"  t{t.tid} waits in join() for t{t.blocked_on.tid}, which never finishes")
        kind = "livelock" if spinners else "deadlock"
        head = ("livelock: every live thread spins waiting for a write that never comes"
                if spinners else "deadlock: every live thread waits for another one")
        self.fail(Failure(kind, head + "\n" + "\n".join(lines)))

    @staticmethod
    def latest(reads: list[Event]) -> bool:
        """True when every read read the mo-latest store of its location (and none failed spuriously)."""
        return all(r.rf is r.loc.mo[-1] and not r.spurious for r in reads)

    def stuck(self, t: ModelThread) -> bool:
        """Would this spinning thread spin forever? Proven when a forced re-run repeated the iteration."""
        return t.confirmed

    def force_wake(self) -> bool:
        """No thread can run: wake the spinners not yet proven stuck, to see whether their loops progress.

        A loop's local state (a retry counter, the value a failed compare-exchange returned) may change
        between iterations even when nothing new is written, so a spinner is only declared stuck once a
        re-run read exactly the same latest values again. Returns True if some thread was woken.
        """
        woke = False
        for t in self.threads:
            if t.spinning and not t.confirmed:
                t.spinning = False
                t.forced = True
                woke = True
        return woke

    def next_thread(self, current: ModelThread | None) -> ModelThread | None:
        """decide(), waking unproven spinners first when nobody can run."""
        nxt = self.decide(current)
        if nxt is None and self.force_wake():
            nxt = self.decide(current)
        return nxt

    # ------------------------------------------------------------------ events
    def new_event(self, t: ModelThread, kind: str, loc: Loc | None, order: int, site: Any,
                  op: str) -> tuple[Event, Any]:
        """Create the next event of ``t`` (not yet committed) and return it with its planned choice."""
        if len(t.events) >= self.x.max_steps:
            self.fail(Failure(
                "step bound",
                f"thread t{t.tid} performed more than {self.x.max_steps} operations in one execution: an unbounded "
                "loop? Spin loops must call spin_hint() or yield_now() so the explorer can treat them as waiting "
                "(raise the bound with VELOX_MAX_STEPS if the test is just long).",
                t.tid,
            ))
            raise Abort()
        stamp = len(self.events)
        e = Event(stamp, t.tid, len(t.events), kind, loc, order, site, op)
        e.hb = t.view
        e.porf = t.porf_view
        choice = None
        if stamp < len(self.plan):
            _, choice, pkind = self.plan[stamp]
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
        self.by_id[(e.tid, e.idx)] = e
        self.taken.append((e.tid, choice, e.kind))
        # A new psc cycle needs the new event: as an SC event, or in the middle of a path (a read of a
        # non-latest write, or a write placed before others in mo, has eco edges to older events).
        if e.order == SEQ_CST and (e.is_read or e.is_write or e.kind == g.FENCE):
            self.sc_events += 1
        memory = e.is_read or e.is_write or e.kind == g.FENCE
        if self.sc_events >= 2 and memory and not g.psc_acyclic(self.events):
            self.prune("psc cycle (RC11's SC axiom)")

    def branch(self, t: ModelThread, e: Event, options: list[Any], choice: Any) -> Any:
        """Pick one option: the planned one, a random one, or the first (pushing the others)."""
        if choice is not None:
            if choice not in options:
                self.prune("a replayed choice is not consistent in this graph")
            return choice
        if not options:
            self.prune("no consistent choice")
        if self.x.rng is not None:
            return self.x.rng.choice(options)
        rest = self.plan[e.stamp + 1:]
        for alt in options[1:]:
            self.x.push(Plan(self.taken + [(t.tid, alt, e.kind)] + rest, self.plan_revisits))
        return options[0]

    def fresh(self, e: Event) -> bool:
        """True when this event is beyond the plan (so its revisits have not been pushed yet)."""
        return e.stamp >= len(self.plan)

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
        e.value = w.write_value()
        e.loc.reads.append(e)
        # acquire (or an acquire fence later) synchronises with w's release sequence.
        if is_acquire(e.order):
            e.hb |= w.msg
        if e.order != NA:
            t.acq_pending |= w.msg
        e.porf |= w.porf | (1 << w.stamp)
        t.reads_since_write.append(e)

    def apply_write(self, t: ModelThread, e: Event, after: Event) -> None:
        """Insert the write ``e`` into mo right after ``after``, compute its release view, wake spinners."""
        loc = e.loc
        e.is_write = True
        loc.mo.insert(loc.mo.index(after) + 1, e)
        t.prev_spin_rfs = None
        for th in self.threads:
            if th.spinning and th is not t and id(loc) in th.spin_locs:
                # A write to what the spinner read: its next iteration may see something new. The
                # wake-up is a dependency (the spinner runs on because of this write), kept in porf
                # so that a revisit never keeps the spinner's later events without this write.
                th.spinning = False
                th.forced = th.confirmed = False
                th.porf_view |= e.porf | (1 << e.stamp)
        own = (e.hb | (1 << e.stamp)) if is_release(e.order) else t.rel_fence_view
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

    def op_load(self, key: Any, order: int, site: Any) -> Any:
        t = current_thread("load()")
        self.enter(t)
        loc = self.loc_of(key, "load")
        e, choice = self.new_event(t, g.LOAD, loc, self.sem_order(order), site, "load")
        e.shown_order = order
        mo = loc.mo
        options = [(mo[i].id, False) for i in self.read_options(t, loc)]
        rf_id, _ = self.branch(t, e, options, choice)
        self.apply_read(t, e, self.by_id[rf_id])
        self.commit(t, e, (rf_id, False))
        return e.value

    def op_store(self, key: Any, value: Any, order: int, site: Any) -> None:
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
        fresh = self.fresh(e)
        self.apply_write(t, e, self.by_id[pred])
        self.commit(t, e, pred)
        if fresh and self.x.dpor and self.x.rng is None:
            self.push_revisits(e)

    def op_rmw(self, key: Any, fn: Callable[[Any], Any], order: int, site: Any, op: str) -> Any:
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
        if self.x.dpor and self.x.rng is None and (e.stamp >= len(self.plan) - 1 or e.stamp == self.revisit_at):
            self.push_revisits(e)
        return e.value

    def op_cas(self, key: Any, expected: Any, desired: Any, weak: bool, success: int, failure: int,
               site: Any) -> tuple[bool, Any]:
        op = "cas_weak" if weak else "cas"
        t = current_thread("compare_exchange")
        self.enter(t)
        loc = self.loc_of(key, "compare_exchange")
        e, choice = self.new_event(t, g.CAS, loc, self.sem_order(success), site, op)
        e.expected = expected
        e.weak = weak
        e.arg = desired
        mo = loc.mo
        # A weak CAS may fail spuriously, but not twice in a row on one location by one thread: a retry
        # loop would otherwise never end, and a second spurious failure reaches no new state.
        weak_spurious = weak and not t.last_spurious.get(id(loc), False)
        options = []
        conflicts = []
        for i in self.read_options(t, loc):
            if mo[i].write_value() == expected:
                if not g.has_rmw_reader(loc, i):
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
        t.last_spurious[id(loc)] = spurious
        self.commit(t, e, (rf_id, spurious))
        if ok and self.x.dpor and self.x.rng is None and (e.stamp >= len(self.plan) - 1 or e.stamp == self.revisit_at):
            self.push_revisits(e)
        return ok, e.value

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
    
    def op_cell(self, key: Any, is_write: bool, site: Any, value: Any = None, name: str | None = None) -> Any:
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
        racy = None
        for a in loc.na:
            if (is_write or a.kind == g.NA_WRITE) and a.tid != t.tid and not (e.hb >> a.stamp & 1):
                racy = a
                break
        loc.na.append(e)
        fresh = self.fresh(e)
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
                    f"data race on {loc.name}: t{e.tid} {e.op} at {format_site(e.site)} (event #{e.stamp}) conflicts "
                    f"with t{racy.tid} {racy.op} at {format_site(racy.site)} (event #{racy.stamp}); neither happens "
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

    def op_spin(self, site: Any, op: str) -> None:
        t = current_thread(op)
        self.enter(t)
        e, _choice = self.new_event(t, g.SPIN, None, NA, site, op)
        self.commit(t, e, 0)
        if t.reads_since_write:
            rfs = tuple((id(r.loc), r.rf.id) for r in t.reads_since_write)
            if rfs == t.prev_spin_rfs:
                if not (t.forced and self.latest(t.reads_since_write)):
                    self.prune("a spin-loop iteration read exactly what the previous one read")
                t.confirmed = True  # nothing new to read and the same iteration again: it spins forever
            t.forced = False
            t.prev_spin_rfs = rfs
            t.spinning = True
            t.spin_reads = list(t.reads_since_write)
            t.spin_locs = {id(r.loc) for r in t.spin_reads}
            t.spin_spurious = t.spurious_since_write
            t.reads_since_write = []
            t.spurious_since_write = False
            self.schedule_away(t)  # returns once another thread wrote what it read, and it is chosen

    def op_choose(self, n: int, site: Any) -> int:
        t = current_thread("choose()")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise UsageError(f"choose(n): n must be a positive int, got {n!r}")
        self.enter(t)
        e, choice = self.new_event(t, g.CHOOSE, None, NA, site, "choose")
        value = self.branch(t, e, list(range(n)), choice)
        e.value = value
        self.commit(t, e, value)
        return value

    def op_spawn(self, fn: Callable[..., Any], args: tuple[Any, ...], site: Any) -> JoinHandle:
        t = current_thread("spawn()")
        if not callable(fn):
            raise TypeError(f"spawn(fn, *args): fn must be callable, got {fn!r}")
        self.enter(t)
        e, _choice = self.new_event(t, g.SPAWN, None, NA, site, "spawn")
        child = ModelThread(self, len(self.threads), t.path + (t.children,), fn, args)
        t.children += 1
        e.arg = child.tid
        self.commit(t, e, 0)
        child.view = t.view
        child.porf_view = t.porf_view
        self.threads.append(child)
        child.start_os_thread()
        return JoinHandle(child)

    def op_join(self, target: ModelThread, site: Any = None) -> Any:
        t = current_thread("join()")
        if target.exe is not self:
            raise RuntimeError("join(): this handle belongs to another execution (handles must not outlive it)")
        if target is t:
            raise RuntimeError(f"join(): thread t{t.tid} cannot join itself")
        if not target.finished:
            t.blocked_on = target
        self.enter(t)
        while not target.finished:
            t.blocked_on = target
            self.schedule_away(t)
        t.blocked_on = None
        e, _choice = self.new_event(t, g.JOIN, None, NA, site, "join")
        e.arg = target.tid
        e.hb |= target.view  # join: everything the thread did happens before
        e.porf |= target.porf_view
        self.commit(t, e, 0)
        return target.result

    # ---------------------------------------------------------- revisits
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

    # ------------------------------------------------------------ results
    def graph_key(self) -> tuple:
        """Canonical identity of the complete graph (independent of stamp order and thread numbering)."""
        path = {t.tid: t.path for t in self.threads}

        def ident(e: Event | None) -> Any:
            return None if e is None else (path[e.tid], e.idx)

        def loc_ident(loc: Loc | None) -> Any:
            return None if loc is None else (path[loc.lid[0]], loc.lid[1])

        threads = []
        for t in self.threads:
            threads.append((t.path, tuple(
                (e.kind, loc_ident(e.loc), e.order, _hashable(e.value), _hashable(e.written), ident(e.rf),
                 e.spurious)
                for e in t.events
            )))
        threads.sort()
        mos = sorted(tuple(ident(w) for w in loc.mo) for loc in self.locs.values() if loc.mo)
        return (tuple(threads), tuple(mos), _hashable(self.result))


def _hashable(v: Any) -> Any:
    try:
        hash(v)
        return v
    except TypeError:
        return repr(v)


def format_site(site: Any) -> str:
    """A call site as ``file:line`` (sites are (filename, line) tuples or strings)."""
    if site is None:
        return "?"
    if isinstance(site, tuple):
        import os

        return f"{os.path.basename(site[0])}:{site[1]}"
    return str(site)


def order_name(order: int) -> str:
    """Display name of an order."""
    return NAMES.get(order, str(order))
