"""Model threads: real OS threads that run one at a time, passing a baton.

Every thread of a test under exploration is an OS thread, because a thread may be
deep inside C code (the model build of the C core) when it reaches a hook and must
block right there while another thread runs. Each thread owns a lock used as a
binary semaphore (its *baton*): it waits on its own baton, and the thread that
decides who runs next releases the chosen thread's baton. So exactly one thread of
the execution runs at any time and the explorer, not the OS, picks the schedule.

A thread that first runs because another waits in ``join()`` for it runs on the
joiner's OS thread instead (``Scheduling.run_nested``): the joiner cannot act
until it has finished. Not when the joiner is inside C code (a callback into
Python): the guest would run on top of the joiner's C frames, whose memory the
C front end counts as the guest's own stack.

When an execution ends (passed, failed or pruned) the explorer sets ``aborted`` and
releases every parked thread: the primitive it is parked in raises ``Abort``,
which unwinds the thread's code, and the OS thread goes back to a small pool of idle
workers (starting an OS thread costs as much as a small execution). No model thread
outlives its execution, and an idle worker runs no user code.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

_tls = threading.local()  # .thread: the ModelThread this OS thread is running, if any


def current_thread(what: str) -> ModelThread:
    """The model thread running this code, or a clear error outside an exploration."""
    t = getattr(_tls, "thread", None)
    if t is None:
        raise RuntimeError(
            f"velox.explore: {what} can only be used inside a test run by velox.explore.check(), "
            "outcomes() or outcome_counts()"
        )
    return t


class Abort(BaseException):
    """Raised inside a model thread to unwind it when its execution is over.

    A BaseException so that a test's ``except Exception`` does not swallow it.
    """


class ModelThread:
    """One thread of the test being explored."""

    __slots__ = (
        "acq_pending",
        "after_failed_cas",
        "args",
        "assumed",
        "baton",
        "blocked_on",
        "cas_state",
        "children",
        "confirmed",
        "events",
        "exe",
        "exited",
        "finished",
        "fn",
        "forced",
        "in_c",
        "last_spurious",
        "os_thread",
        "path",
        "porf_view",
        "prev_spin_rfs",
        "prev_spin_state",
        "reads_since_write",
        "rel_fence_view",
        "result",
        "retry_mark",
        "rs_view",
        "spin_locs",
        "spin_reads",
        "spin_repeats",
        "spinning",
        "spurious_rec",
        "spurious_since_write",
        "started",
        "tid",
        "view",
    )

    def __init__(self, exe: Any, tid: int, path: tuple[int, ...], fn: Callable[..., Any],
                 args: tuple[Any, ...]) -> None:
        self.exe = exe
        self.tid = tid
        self.path = path  # (0,) for the main thread, parent path + (k,) for its k-th child
        self.fn = fn
        self.args = args
        self.baton = threading.Lock()
        self.baton.acquire()
        self.os_thread: _Worker | None = None
        self.in_c = 0  # calls into C code under way (cmodel): C frames of this thread are on the stack
        self.exited = threading.Lock()  # released when the body has returned
        self.exited.acquire()
        self.started = False
        self.finished = False
        self.result: Any = None
        self.blocked_on: ModelThread | None = None  # waiting in join() for this thread
        self.spinning = False  # blocked in a spin loop for the rest of the execution
        self.spin_reads: list[Any] = []  # the reads of the spin iteration that blocked it
        self.view = 0  # hb-prefix of this thread's next event (bitset of stamps)
        self.porf_view = 0  # (po ∪ rf)+-prefix of its next event
        self.acq_pending = 0  # what an acquire fence here would synchronise with
        self.rel_fence_view = 0  # hb-prefix of its last release fence (and the fence)
        self.rs_view: dict[int, int] = {}  # per location: release heads this thread's next write continues
        self.events: list[Any] = []
        self.children = 0
        self.reads_since_write: list[Any] = []
        self.spurious_since_write = False
        self.spin_locs: set[int] = set()  # locations whose next write by another thread wakes it
        self.prev_spin_rfs: tuple | None = None  # what the last blocked iteration read
        self.prev_spin_state: Any = None  # the thread's state at that iteration's hint (spin_state.snapshot)
        self.spin_repeats = 0  # iterations in a row that re-read the same values with changed/unknown state
        self.forced = False  # woken with nothing new written, to see whether its loop progresses
        self.confirmed = False  # re-ran with nothing new and read the same latest values: spins forever
        self.last_spurious: dict[int, int] = {}  # per location: spurious failures in a row of this thread's CASes
        self.spurious_rec: tuple | None = None  # (location, state, event) of a spurious failure, no write since
        self.cas_state: Any = None  # the thread's state at its current compare-exchange
        self.after_failed_cas = False  # its last atomic event was a failed compare-exchange (check_retry)
        self.retry_mark: tuple | None = None  # (read, state) at the first read after a failed CAS, and where
        self.assumed: list | None = None  # the retry iteration that changed nothing: blocked for good

    def runnable(self) -> bool:
        """True when the thread can perform an event now."""
        if self.finished or self.spinning:
            return False
        return self.blocked_on is None or self.blocked_on.finished

    def start_os_thread(self) -> None:
        """Run this thread on a pooled OS thread; it waits for its baton before running any user code."""
        _Worker.run(self)

    def wait_exited(self, timeout: float) -> bool:
        """Wait until the thread's body has returned (its OS thread is back in the pool)."""
        if self.os_thread is None:
            return True
        if self.exited.acquire(timeout=timeout):
            self.exited.release()
            return True
        return False


def _getcpu_function() -> Callable[[], int] | None:
    """glibc's sched_getcpu (the CPU the calling thread runs on), or None where there is none."""
    if not hasattr(os, "sched_setaffinity") or os.environ.get("VELOX_EXPLORE_PIN", "1") == "0":
        return None
    try:
        fn = ctypes.CDLL(None).sched_getcpu
    except (OSError, AttributeError):
        return None
    fn.restype = ctypes.c_int
    fn.argtypes = []
    return fn


_sched_getcpu = _getcpu_function()

# SCHED_BATCH: a woken thread does not preempt the thread that woke it. At a hand-off the thread that
# releases the next one's baton goes on to park (dropping the GIL) before the woken one runs, so the
# woken one finds the GIL free: one context switch per hand-off instead of three (woken thread
# preempts, finds the GIL held, sleeps again, the waker parks). Only threads with the ordinary policy
# are switched (and switched back): leaving it is always allowed, real-time policies are left alone.
_BATCH = getattr(os, "SCHED_BATCH", None) if _sched_getcpu is not None else None
_OTHER = getattr(os, "SCHED_OTHER", None)


def _to_batch() -> bool:
    """Put the calling thread under SCHED_BATCH if it runs under SCHED_OTHER; True if it was switched."""
    if _BATCH is None:
        return False
    try:
        if os.sched_getscheduler(0) != _OTHER:
            return False
        os.sched_setscheduler(0, _BATCH, os.sched_param(0))
    except (OSError, AttributeError):
        return False
    return True


def _to_other() -> None:
    """Give the calling thread back the ordinary policy (after ``_to_batch`` returned True)."""
    try:
        os.sched_setscheduler(0, _OTHER, os.sched_param(0))
    except (OSError, AttributeError):
        pass


class _Worker:
    """A pooled OS thread that runs model threads one after another.

    Starting an OS thread costs about 0.1 ms here, as much as a whole small execution, so the OS
    threads are reused across executions. An idle worker is parked on its own lock and runs no
    user code; at most ``MAX_IDLE`` idle workers are kept.

    Model threads run one at a time, so nothing is gained by spreading them over CPUs, and waking a
    thread parked on another CPU is slow on virtual machines (tens of microseconds against a few on
    the same CPU, measured here): on Linux the workers are kept on the CPU of the thread running the
    search, following it when the scheduler moves it (``Pinning`` lets it move every 10 ms), and they
    (and the search's thread while pinned) run under SCHED_BATCH, so that a hand-off wakes the next thread without
    it preempting the one that woke it (``VELOX_EXPLORE_PIN=0`` leaves them unpinned, with their policy).
    """

    MAX_IDLE = 32
    _idle: ClassVar[list[_Worker]] = []
    _pool_lock = threading.Lock()
    _cpu: ClassVar[int | None] = None  # the CPU the workers are kept on

    @classmethod
    def follow(cls) -> Any:
        """Keep the pooled workers, and the calling thread (the search's) until ``unfollow``, on the CPU the
        calling thread runs on. Called around each execution: between two, the scheduler may move the search
        (to balance the machine's load), and the workers follow it. Returns what ``unfollow`` restores."""
        if _sched_getcpu is None:
            return None
        cpu = _sched_getcpu()
        if cpu < 0:
            return None
        if cpu != cls._cpu:
            cls._cpu = cpu
            with cls._pool_lock:
                idle = list(cls._idle)
            for worker in idle:
                worker.pin(cpu)
        try:
            saved = os.sched_getaffinity(0)
            os.sched_setaffinity(0, {cpu})
        except (OSError, ValueError):
            return None
        return saved, _to_batch()

    @staticmethod
    def unfollow(saved: Any) -> None:
        """Give the calling thread back the CPUs (and the scheduling policy) ``follow`` took from it."""
        if saved is not None:
            cpus, batch = saved
            if batch:
                _to_other()
            try:
                os.sched_setaffinity(0, cpus)
            except (OSError, ValueError):
                pass

    def pin(self, cpu: int, tid: int | None = None) -> None:
        """Keep this worker on ``cpu`` (``tid`` 0: called by the worker itself)."""
        tid = self.thread.native_id if tid is None else tid
        if tid is None:
            return
        try:
            os.sched_setaffinity(tid, {cpu})
        except (OSError, ValueError):
            pass  # not allowed (a cpuset, a container): it runs wherever the OS puts it

    @classmethod
    def busy(cls) -> int:
        """Pooled OS threads currently running a model thread (0 between explorations)."""
        with cls._pool_lock:
            alive = sum(1 for t in threading.enumerate() if t.name == "velox-explore-worker")
            return alive - len(cls._idle)

    def __init__(self) -> None:
        self.go = threading.Lock()
        self.go.acquire()
        self.job: ModelThread | None = None
        self.thread = threading.Thread(target=self.loop, name="velox-explore-worker", daemon=True)
        self.thread.start()

    @classmethod
    def forget_after_fork(cls) -> None:
        """A forked child has none of the parent's threads: drop the pool (registered at import)."""
        cls._idle = []
        cls._pool_lock = threading.Lock()
        cls._cpu = None

    @classmethod
    def run(cls, mt: ModelThread) -> _Worker:
        with cls._pool_lock:
            worker = cls._idle.pop() if cls._idle else None
        if worker is None:
            worker = cls()
        worker.job = mt
        mt.os_thread = worker  # before it can run: whoever cleans the execution up must wait for it
        worker.go.release()
        return worker

    def loop(self) -> None:
        cpu = _Worker._cpu
        if cpu is not None:
            self.pin(cpu, 0)
        _to_batch()  # a pooled worker only ever runs model threads
        while True:
            self.go.acquire()
            mt = self.job
            if mt is None:
                return
            try:
                mt.exe.thread_main(mt)
            finally:
                self.job = None
                keep = False
                with self._pool_lock:
                    if len(self._idle) < self.MAX_IDLE:
                        self._idle.append(self)
                        keep = True
                mt.exited.release()
            if not keep:
                return


os.register_at_fork(after_in_child=_Worker.forget_after_fork)


class Pinning:
    """Keeps the search's thread and the pooled workers on one CPU (``_Worker.follow``) for a window of
    executions, then gives the CPUs back so that the scheduler can move the search, and pins again at
    the next execution. Re-pinning at every execution cost about 4 us (four system calls), as much as
    an event; a 10 ms window keeps that out of small executions."""

    WINDOW = 0.01  # seconds

    __slots__ = ("saved", "since")

    def __init__(self) -> None:
        self.saved: Any = None
        self.since: float | None = None

    def before_execution(self) -> None:
        if self.since is None:
            self.saved = _Worker.follow()
            self.since = time.perf_counter()

    def after_execution(self, now: float) -> None:
        if self.since is not None and now - self.since >= self.WINDOW:
            self.release()

    def release(self) -> None:
        """Give the search's thread back its CPUs and scheduling policy (at the end of an exploration)."""
        if self.since is not None:
            _Worker.unfollow(self.saved)
            self.saved = self.since = None


class JoinHandle:
    """Handle to a spawned thread: ``join()`` waits for it and returns its result."""

    __slots__ = ("_thread",)

    def __init__(self, thread: ModelThread) -> None:
        self._thread = thread

    def join(self) -> Any:
        """Wait (as a scheduled event) until the thread has finished; return its result."""
        import sys

        f = sys._getframe(1)
        return current_thread("join()").exe.op_join(self._thread, (f.f_code.co_filename, f.f_lineno))

    def __repr__(self) -> str:
        return f"<JoinHandle t{self._thread.tid}>"
