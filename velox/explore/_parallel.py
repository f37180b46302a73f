"""One exploration over several processes: ``check(test, workers=N)``.

The search starts in the calling process. An exploration that is not over after ``WARMUP`` seconds
(most are over much sooner, and starting processes costs milliseconds) is continued by N forked
worker processes, which inherit the test and the plans queued so far. The calling process then only
coordinates: it deals the queued plans out, and when a worker runs out of plans it asks the busy
ones to give up the shallowest plan on their stack (the root of the largest subtree they have not
started), which it hands to the idle one. Every plan is explored by exactly one process, so the
parts are disjoint and together they are the whole search; the verdict is COMPLETE only when every
worker's part was. The first failing execution a worker finds stops them all and is raised here,
with its trace and replay token.

Workers are forked (``os.fork`` through ``multiprocessing``'s fork context), so the test need not
be picklable; plans, counts and failures travel over pipes. Only an exhaustive DPOR ``check()`` is
split this way (``_explorer._check_workers``).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

from ._trace import ExplorationFailure

#: Seconds an exploration runs in the calling process before it is spread over the workers.
WARMUP = 0.25
#: How often a worker reports its counts (for the progress line), in seconds.
_REPORT_EVERY = 1.0
#: How long the coordinator waits before asking a worker that had nothing to give again, in seconds.
_ASK_AGAIN = 0.005


def _spread(index: int) -> None:
    """Keep worker ``index`` on the index-th CPU this process may use (round robin).

    The explorer keeps a search on the CPU it runs on (``rt.threads.Pinning``); forked workers start
    on their parent's CPU and would pin themselves to that same one. Letting the scheduler move them
    after a first placement was measured worse (3.6-5.6 s against 3.3-3.5 s on the strong-CAS
    counter 3 x 2 with two workers): it often put both on one CPU again."""
    from .rt import threads as _threads

    if _threads._sched_getcpu is None:  # no pinning (VELOX_EXPLORE_PIN=0, or not Linux): the OS places it
        return
    try:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) > 1:
            os.sched_setaffinity(0, {cpus[index % len(cpus)]})
    except OSError:
        pass  # not allowed (a cpuset, a container): the OS places the workers


class _Stopped(BaseException):
    """The coordinator told this worker to stop (another worker failed, or a shared bound was hit)."""


def explore_parallel(x: Any, test: Callable[[], Any], workers: int, *, name: str, model: str, mode: str,
                     dpor: bool, first: Any) -> Any:
    from ._explorer import Counts, Stats, _search

    start = time.perf_counter()
    counts = Counts()
    deadline = start + WARMUP

    def warmup() -> None:
        if time.perf_counter() >= deadline:
            x.stop = True

    search = dict(name=name, model=model, mode=mode, dpor=dpor, replay=None, token_builds=None, on_outcome=None,
                  shard=None)
    _search(x, test, counts, first=first, start=start, between=warmup, **search)
    x.stop = False
    spread = x.stack and not (x.max_executions is not None
                              and counts.executions + counts.blocked >= x.max_executions)
    if spread:
        _coordinate(x, test, workers, counts, search, start)
    wall = time.perf_counter() - start
    reason = x.bounded
    return Stats(executions=counts.executions, blocked=counts.blocked, distinct=len(counts.graphs), wall_time=wall,
                 complete=reason is None, model=model, mode=mode, dpor=dpor, incomplete_reason=reason,
                 assumptions=tuple(sorted(x.assumptions)), workers=workers if spread else 1)


def _coordinate(x: Any, test: Callable[[], Any], workers: int, counts: Any, search: dict, start: float) -> None:
    """Spread the plans left on ``x.stack`` over ``workers`` forked processes; add their counts to ``counts``."""
    ctx = multiprocessing.get_context("fork")
    cap = None if x.max_executions is None else ctx.Value("q", counts.executions + counts.blocked)
    plans = list(x.stack)  # bottom (shallowest) first
    x.stack.clear()
    conns: list[Any] = []
    procs: list[Any] = []
    try:
        for i in range(workers):
            mine, theirs = ctx.Pipe()
            p = ctx.Process(target=_worker, args=(x, test, theirs, cap, search, start, i), daemon=True,
                            name=f"velox-explore-{i}")
            p.start()
            theirs.close()
            conns.append(mine)
            procs.append(p)
        _deal(x, plans, conns, procs, counts, search["name"], start)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)
        for c in conns:
            c.close()


def _deal(x: Any, plans: list[Any], conns: list[Any], procs: list[Any], counts: Any, name: str,
          start: float) -> None:
    n = len(conns)
    for i in range(n):  # the stack's plans dealt out in turn, each worker's in stack order
        _send(conns, procs, i, ("plans", plans[i::n]), name)
    busy = {i for i in range(n) if plans[i::n]}
    queue: deque = deque()
    asked: set[int] = set()
    refused: dict[int, float] = {}
    live: dict[int, tuple[int, int]] = {}  # worker -> (executions, blocked) reported by a running worker
    last_progress = time.perf_counter()
    while True:
        idle = [i for i in range(n) if i not in busy]
        while queue and idle:
            i = idle.pop()
            _send(conns, procs, i, ("plans", [queue.popleft()]), name)
            busy.add(i)
        if not busy and not queue:
            break
        now = time.perf_counter()
        if idle:
            for i in busy - asked:
                if now - refused.get(i, 0.0) >= _ASK_AGAIN:
                    _send(conns, procs, i, ("share",), name)
                    asked.add(i)
        for c in multiprocessing.connection.wait(conns, timeout=_ASK_AGAIN):
            i = conns.index(c)
            try:
                msg = c.recv()
            except (EOFError, OSError):
                _died(procs, i, name)
            kind = msg[0]
            if kind == "shared":
                asked.discard(i)
                if msg[1]:
                    queue.extend(msg[1])
                else:
                    refused[i] = time.perf_counter()
            elif kind == "progress":
                live[i] = msg[1]
            elif kind == "idle":
                busy.discard(i)
                asked.discard(i)
            elif kind == "fail":
                _, text, fkind, token, executions, message = msg
                raise ExplorationFailure(text, kind=fkind, token=token, executions=executions,
                                         failure_message=message)
            elif kind == "error":
                exc = msg[1]
                if isinstance(exc, BaseException):
                    raise exc
                raise RuntimeError(f"velox.explore: worker process {i} failed:\n{exc}")
        now = time.perf_counter()
        if now - last_progress > 5.0:
            last_progress = now
            done = counts.executions + counts.blocked + sum(e + b for e, b in live.values())
            print(f"velox.explore: {name}: {done} executions, {n} worker processes ({len(busy)} busy), "
                  f"{now - start:.0f} s", file=sys.stderr)
    for i in range(n):
        _send(conns, procs, i, ("stop",), name)
    for i, c in enumerate(conns):
        try:
            kind, *rest = c.recv()
            while kind != "done":  # late progress reports
                kind, *rest = c.recv()
        except (EOFError, OSError):
            _died(procs, i, name)
        executions, blocked, graphs, bounded, assumptions = rest
        counts.executions += executions
        counts.blocked += blocked
        counts.graphs |= graphs
        if bounded is not None and x.bounded is None:
            x.bounded = bounded
        x.assumptions |= assumptions


def _died(procs: list[Any], i: int, name: str) -> None:
    """A worker's pipe broke: it died (a crash in C code, os._exit, the OOM killer). Say so."""
    procs[i].join(timeout=5)
    code = procs[i].exitcode
    raise RuntimeError(f"velox.explore: worker process {i} of {len(procs)} died (exit code {code}) while "
                       f"exploring {name}; its part of the exploration is lost, so there is no verdict")


def _send(conns: list[Any], procs: list[Any], i: int, msg: tuple, name: str) -> None:
    try:
        conns[i].send(msg)
    except OSError:
        _died(procs, i, name)


def _worker(x: Any, test: Callable[[], Any], conn: Any, cap: Any, search: dict, start: float, index: int) -> None:
    """A worker process: explore the plans it is given; share the shallowest one when asked."""
    from ._explorer import Counts, _search

    _spread(index)
    counts = Counts()
    x.bounded = None  # this worker's own bound, reported with its counts
    x.assumptions = set()
    reported = [time.perf_counter(), 0]

    def between() -> None:
        done = counts.executions + counts.blocked
        if cap is not None:
            with cap.get_lock():
                cap.value += 1
                if cap.value >= x.max_executions:
                    x.bounded = f"max_executions={x.max_executions}"
                    x.stop = True
        while conn.poll():
            msg = conn.recv()
            if msg[0] == "share":
                conn.send(("shared", [x.stack.pop(0)] if len(x.stack) > 1 else []))
            elif msg[0] == "stop":
                raise _Stopped()
        now = time.perf_counter()
        if now - reported[0] >= _REPORT_EVERY and done != reported[1]:
            reported[0], reported[1] = now, done
            conn.send(("progress", (counts.executions, counts.blocked)))

    try:
        while True:
            msg = conn.recv()
            if msg[0] == "stop":
                break
            if msg[0] != "plans":
                continue  # a request to share that arrived after this worker ran out of plans
            x.stack.extend(msg[1])
            if not x.stop:
                _search(x, test, counts, first=None, start=start, between=between, progress=False, **search)
            x.stack.clear()  # a shared bound stopped the search: what is left is not explored (INCOMPLETE)
            conn.send(("idle",))
        conn.send(("done", counts.executions, counts.blocked, counts.graphs, x.bounded, x.assumptions))
    except _Stopped:
        pass
    except ExplorationFailure as f:
        conn.send(("fail", str(f), f.kind, f.token, f.executions, f.failure_message))
    except BaseException as exc:  # noqa: BLE001 - reported to the coordinator, which raises it
        try:
            conn.send(("error", exc))
        except Exception:  # noqa: BLE001 - an exception that cannot be pickled: send its text
            conn.send(("error", "".join(traceback.format_exception(exc))))
