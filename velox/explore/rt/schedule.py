"""Scheduling: which thread runs next, the baton hand-off, spin loops, spawn and join.

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

from collections.abc import Callable
from typing import Any

from . import graph as g
from . import spin_state
from .failure import Failure, format_site
from .graph import Event
from .orders import NA, UsageError
from .plan import Plan
from .threads import Abort, JoinHandle, ModelThread, _tls, current_thread


class Scheduling:
    """Mixin of ``Execution``: choosing and handing over the running thread."""

    def decide(self, current: ModelThread | None) -> ModelThread | None:
        """Pick the thread that performs the next event (branching on it with dpor=False)."""
        pos = len(self.taken)
        if pos < len(self.plan):
            tid = self.plan[pos][0]
            th = self.threads[tid] if tid < len(self.threads) else None
            if th is not None and th.spinning and not th.confirmed:
                th.spinning = False  # the plan ran it on here: a wake-up of this graph's prefix
                th.forced = True
            if th is not None and not th.runnable():
                # When this execution was explored, a thread may have run here without adding an event
                # (woken from a spin loop, it returned): run it again the way the fresh run picked it.
                runnable = [t for t in self.threads if t.runnable()]
                if not runnable and self.force_wake():
                    runnable = [t for t in self.threads if t.runnable()]
                if runnable:
                    return runnable[0]
            if th is None or not th.runnable():
                self.fail(Failure(
                    "nondeterminism",
                    f"replaying event #{pos}: thread t{tid} cannot run now, but it did when this execution was "
                    "first explored. The test must be deterministic given the explorer's choices (no real "
                    "randomness, time, set/dict iteration over objects, or shared state kept between runs).",
                ))
                raise Abort()
            chosen = th
        elif self.lowest_first:
            # The lowest-numbered thread that can run (no list: this runs once per event).
            for chosen in self.threads:
                if chosen.runnable():
                    break
            else:
                return None
        else:
            runnable = [t for t in self.threads if t.runnable()]
            if not runnable:
                return None
            if self.x.rng is not None:
                chosen = self.x.rng.choice(runnable)
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

    def grant(self, nxt: ModelThread) -> None:
        """Let ``nxt`` perform the next event. A thread gets its OS thread only here, when it first runs,
        with its baton already released: starting it is then one wake-up, not two (and a thread the
        execution never runs costs nothing)."""
        self.granted = nxt
        nxt.baton.release()
        if nxt.os_thread is None:
            nxt.start_os_thread()

    def handoff(self, t: ModelThread, nxt: ModelThread) -> None:
        """Give the baton to ``nxt`` and park ``t``."""
        self.grant(nxt)
        self.wait(t)

    def schedule_away(self, t: ModelThread) -> None:
        """Let the scheduler pick who goes next; return when ``t`` is the one."""
        nxt = self.next_thread(t)
        if nxt is None:
            self.end_no_runnable()
            self.wait(t)
            raise Abort()
        if nxt is not t:
            if t.blocked_on is nxt and nxt.os_thread is None and not t.in_c:
                self.run_nested(t, nxt)
            else:
                self.handoff(t, nxt)

    def run_nested(self, t: ModelThread, target: ModelThread) -> None:
        """``t`` waits in join() for ``target``, which has not started: run it on ``t``'s OS thread.

        ``t`` cannot perform an event before ``target`` has finished, and the target's body returns
        (or unwinds) only then, so lending it ``t``'s OS thread never keeps ``t`` from running when it
        is chosen; it saves the two wake-ups of starting a pooled OS thread and coming back. The target
        may still hand the baton to other threads and wait for it like any thread. Then ``t`` waits for
        its own baton as usual (already released when the target's last act granted it to ``t``)."""
        self.granted = target
        target.baton.release()
        target.os_thread = t.os_thread  # it has its carrier: grant() must not start another OS thread
        try:
            self.thread_main(target)
        finally:
            target.exited.release()
            _tls.thread = t
        self.wait(t)

    def enter(self, t: ModelThread) -> None:
        """Called by every primitive before it acts: return when ``t`` performs the next event."""
        if self.aborted or self.ended:
            raise Abort()
        if self.granted is t:
            self.granted = None
            return
        # When decide() would pick t itself, as it mostly does, there is nothing to decide or hand over:
        # replaying, the plan names t (and t can run); fresh, with reduction, t is the lowest-numbered
        # thread that can run.
        pos = len(self.taken)
        if pos < len(self.plan):
            if (self.plan[pos][0] == t.tid and not t.finished and not t.spinning
                    and (t.blocked_on is None or t.blocked_on.finished)):
                return
        elif self.lowest_first:
            for th in self.threads:
                if th.finished or th.spinning or (th.blocked_on is not None and not th.blocked_on.finished):
                    continue
                if th is t:
                    return
                break
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
            self.grant(nxt)

    def end_no_runnable(self) -> None:
        """No thread can run: a complete execution, a blocked one, or a deadlock/livelock."""
        live = [t for t in self.threads if not t.finished]
        if not live:
            self.complete = True
            self.end()
            return
        assumed = [t for t in live if t.assumed is not None]
        if any(not self.latest(t.assumed) for t in assumed):
            # A blocked retry iteration read something older than the latest value: run on, it would have
            # read something newer; the execution without the iteration covers it (Memory.check_retry).
            if self.failure is None and self.pruned is None:
                self.pruned = "a retry iteration that changed nothing was blocked"
            self.end()
            return
        spinners = [t for t in live if t.spinning]
        lines = []
        for t in live:
            if t.assumed is not None:
                where = t.assumed[0].site
                seen = ", ".join(f"{r.loc.name}={g.describe_value(r.value)}" for r in t.assumed)
                lines.append(f"  t{t.tid} retries forever at {format_site(where)}: each iteration of its loop reads "
                             f"the latest values ({seen}), fails its compare-exchange and comes back to the same "
                             "state, and no other thread can change them")
            elif t.spinning:
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

    def op_spin(self, site: Any, op: str, given_state: Any = spin_state.NOT_GIVEN) -> None:
        t = current_thread(op)
        self.enter(t)
        e, _choice = self.new_event(t, g.SPIN, None, NA, site, op)
        self.commit(t, e, 0)
        if t.reads_since_write:
            rfs = tuple((id(r.loc), r.rf.id, r.spurious) for r in t.reads_since_write)
            state = (spin_state.snapshot(stable=self.stable_id) if given_state is spin_state.NOT_GIVEN
                     else given_state)
            if rfs == t.prev_spin_rfs:
                if state is not spin_state.UNKNOWN and state == t.prev_spin_state:
                    # Same reads, no write, and the thread's own state is provably the same: this
                    # iteration changed nothing, so every continuation of it is a continuation of the
                    # previous iteration's, already explored (the newer values were pushed as choices).
                    if not (t.forced and self.latest(t.reads_since_write)):
                        self.prune("a spin-loop iteration read exactly what the previous one read, "
                                   "and the thread's state did not change")
                    t.confirmed = True  # nothing new to read, same state: it spins forever
                else:
                    # Same reads, but a counter (or state the explorer cannot see) may have moved on:
                    # the loop may give up, and that is a real execution. Run it, up to a bound.
                    t.spin_repeats += 1
                    if t.spin_repeats > self.x.spin_bound:
                        self.x.bounded = (
                            f"spin bound: a loop at {format_site(site)} re-read the same values "
                            f"{t.spin_repeats} times with local state the explorer cannot prove unchanged "
                            f"({'state not visible' if state is spin_state.UNKNOWN else 'state changed'}); "
                            "raise VELOX_SPIN_BOUND or make the loop's exit depend only on what it reads")
                        self.prune("spin bound reached")
            else:
                t.spin_repeats = 0
            t.forced = False
            t.prev_spin_rfs = rfs
            t.prev_spin_state = state
            t.spinning = True
            t.spin_reads = list(t.reads_since_write)
            t.spin_locs = {id(r.loc) for r in t.spin_reads}
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
        t.prev_spin_rfs = None  # starting a thread is a side effect: the next spin iteration is not a repeat
        t.spurious_rec = None
        e.arg = child.tid
        self.commit(t, e, 0)
        child.view = t.view
        child.porf_view = t.porf_view
        self.threads.append(child)
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
