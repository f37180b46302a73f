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

The work is split by concern: ``schedule.py`` (which thread runs, hand-off,
spin loops, spawn/join), ``memory.py`` (events, locations, reads-from and mo
choices, the memory operations) and ``revisit.py`` (backward revisits); this
class puts them together and owns the run of one execution.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from . import spin_state
from .failure import Failure, user_traceback
from .graph import Event, Loc
from .memory import Memory
from .orders import UsageError
from .plan import Plan
from .psc import ScOrder
from .revisit import Revisits
from .schedule import Scheduling
from .threads import Abort, JoinHandle, ModelThread, _tls


class Execution(Scheduling, Memory, Revisits):
    """One run of the test under the explorer's control."""

    def __init__(self, explorer: Any, plan: Plan) -> None:
        self.x = explorer
        self.plan = plan.items
        self.plan_revisits = plan.revisits
        self.revisit_at = plan.revisit_at
        self.plan_meta = plan.meta
        self.next_key = plan.next_key
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
        self.lowest_first = explorer.dpor and explorer.rng is None  # fresh events: lowest runnable thread first
        self.max_steps = explorer.max_steps
        self.sc_order: ScOrder | None = None  # psc's edges, from the first SC event on
        self.raced = False
        self.identities: set[str] = set()  # builds of C code this execution ran (rt_identify)
        self.c_state: Any = None  # the C front end's names for this execution's C addresses (cmodel.py)
        # A run of check(shard=...)'s shared top of the tree: every shard runs it and must push the same
        # plans, so it neither uses nor adds to what earlier executions learned (``pointless_spurious``),
        # which differs from shard to shard.
        self.shared_run = False

    # ------------------------------------------------------------------ running
    def run(self, test: Callable[[], Any]) -> None:
        """Run the test once (thread 0 runs ``test()``), then clean every thread up.

        The explorer keeps the calling thread and the model threads on one CPU around it (``Pinning``)."""
        main = ModelThread(self, 0, (0,), test, ())
        self.threads.append(main)
        self.grant(main)
        seen = 0
        while not self.done.acquire(timeout=self.x.watchdog):
            # A long execution that keeps adding events is not a hang (the step bound ends a runaway
            # one); only a whole watchdog period without a single new event is.
            if len(self.taken) != seen:
                seen = len(self.taken)
                continue
            self.failure = Failure(
                "hang",
                f"no thread reached a velox.explore primitive for {self.x.watchdog:.0f} s: the test blocks on "
                "something the explorer does not control (a real lock, sleep, I/O?). Use only velox.explore "
                "primitives for synchronisation inside explored tests.",
            )
            break
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
                # Name every thread still running: a thread joined before it started runs on its joiner's
                # OS thread (run_nested), so the joiner waits for it and both are listed.
                stuck = [u for u in self.threads if u.os_thread is not None and not u.wait_exited(0)]
                names = ", ".join(f"t{u.tid}" for u in stuck) or f"t{t.tid}"
                raise RuntimeError(
                    f"velox.explore: thread{'s' if len(stuck) > 1 else ''} {names} did not stop after "
                    "the execution ended; stuck outside velox.explore primitives (or swallowed the "
                    "explorer's Abort exception)"
                )

    def dispose(self) -> None:
        """Break the execution's reference cycles (threads and execution, events and locations) once the
        search is done with it, so that reference counting frees its objects at once: left to the cyclic
        collector, every execution's graph survived into older generations and was traversed again and
        again. Only for executions nobody reads again (not a failing one, whose trace is printed)."""
        for t in self.threads:
            t.exe = None
            t.events = t.reads_since_write = t.spin_reads = None
            t.blocked_on = None
            t.prev_spin_state = t.cas_state = t.spurious_rec = t.retry_mark = t.assumed = None
        for loc in self.locs.values():
            loc.mo = loc.reads = loc.na = None
            loc.init = None
        for e in self.events:
            e.loc = e.rf = None
        self.threads = self.events = self.by_id = self.locs = None
        self.sc_order = None

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
            tb = user_traceback(exc)
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

    def stable_id(self, obj: Any) -> Any:
        """An identity for an explorer object that is the same in every re-execution (None if unknown)."""
        if isinstance(obj, ModelThread):
            return ("thread", obj.path)
        if isinstance(obj, JoinHandle):
            return ("thread", obj._thread.path)
        try:
            loc = self.locs.get(obj)
        except TypeError:
            return None
        return None if loc is None else ("loc", loc.lid)

    def meta(self, upto: int) -> list:
        """The search bookkeeping of events [0, upto) (see plan.py)."""
        return [(e.key, e.added_max, e.revisitable) for e in self.events[:upto]]

    # ------------------------------------------------------------ results
    def graph_hash(self) -> int:
        """Hash of the complete graph's canonical identity (independent of stamp order and thread numbering).

        Each event is named by its thread's path and its index in the thread, locations by their
        initialising event, so two runs that build the same graph in another order give the same key.
        Values that cannot be hashed are named by their ``repr``."""
        paths = [t.path for t in self.threads]  # by tid
        threads = sorted(
            (t.path, tuple((e.kind, None if e.loc is None else (paths[e.loc.lid[0]], e.loc.lid[1]), e.order,
                            e.value, e.written, None if e.rf is None else (paths[e.rf.tid], e.rf.idx), e.spurious)
                           for e in t.events))
            for t in self.threads)
        mos = sorted(tuple((paths[w.tid], w.idx) for w in loc.mo) for loc in self.locs.values() if loc.mo)
        try:
            return hash((tuple(threads), tuple(mos), self.result))
        except TypeError:  # an unhashable value (a list a thread returned, stored or read): name it by repr
            threads = [(p, tuple(ev[:3] + (_hashable(ev[3]), _hashable(ev[4])) + ev[5:] for ev in evs))
                       for p, evs in threads]
            return hash((tuple(threads), tuple(mos), _hashable(self.result)))


spin_state.stop_at(Execution.thread_main.__code__)
spin_state.skip_frames(Execution.op_spin.__code__, Execution.op_cas.__code__, Execution.spurious_allowed.__code__,
                       Execution.op_load.__code__, Execution.check_retry.__code__)
spin_state.register_identity(Execution, ModelThread, JoinHandle)


def _hashable(v: Any) -> Any:
    try:
        hash(v)
        return v
    except TypeError:
        return repr(v)
