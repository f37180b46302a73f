"""The exploration driver: ``check``, ``outcomes`` and ``outcome_counts``.

A depth-first search over plans (see ``rt/execution.py``): pop a plan, re-run the
test from scratch following it, let the execution push the alternatives it meets,
repeat until no plan is left. Each distinct complete execution graph is counted
once for ``outcome_counts`` even if reached twice. Bounds (executions,
preemptions) and random mode make a run *incomplete*; its ``Stats`` say so and
never read as a pass.

Knobs: ``VELOX_MAX_PREEMPTIONS``, ``VELOX_MAX_EXECUTIONS``, ``VELOX_SEED``,
``VELOX_EXPLORE_REPLAY`` (a replay token: run only that execution),
``VELOX_EXPLORE_FIRST`` (a replay token explored before everything else, as a
gate replays stored counterexamples first), ``VELOX_MAX_STEPS`` (operations per
thread per execution, default 2000) default the keywords of the same names;
``VELOX_SPIN_BOUND`` (default 5) is how many spin-loop iterations in a row may
re-read the same values while the thread's state changes (or cannot be seen)
before the exploration stops there and says INCOMPLETE. ``VELOX_EXPLORE_WATCHDOG``
(default 60) is how many seconds without a new event make an execution a hang;
``VELOX_EXPLORE_PIN=0`` stops keeping the model threads on the search's CPU; ``VELOX_EXPLORE_WORKERS``
(default 1) defaults ``check(..., workers=)``.
"""

from __future__ import annotations

import collections
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._trace import ExplorationFailure, decode_token, decode_token_builds, encode_token, failure_report
from .rt.execution import Execution
from .rt.plan import Plan
from .rt.threads import Pinning

_MODELS = ("rc11", "sc")
_MODES = ("exhaustive", "random")
_PROGRESS_SECONDS = 5.0


@dataclass(frozen=True)
class Stats:
    """What an exploration did. ``complete`` is False for bounded, random and replayed runs."""

    executions: int  #: complete executions run (a graph reached twice counts twice)
    blocked: int  #: pruned executions (an inconsistent choice, or blocked in a spin loop on a stale value)
    distinct: int  #: distinct complete execution graphs
    wall_time: float  #: seconds
    complete: bool  #: True only when every execution was explored
    model: str = "rc11"  #: the memory model, "rc11" or "sc"
    mode: str = "exhaustive"  #: "exhaustive" or "random"
    dpor: bool = True  #: whether partial-order reduction was on
    seed: int | None = None  #: the seed of a random-mode run
    incomplete_reason: str | None = None  #: why the run is incomplete (the bound hit), None when complete
    assumptions: tuple[str, ...] = ()  #: what a COMPLETE verdict assumed (e.g. about code it cannot see into)
    shard: tuple[int, int] | None = None  #: (index, count): this run explored one disjoint part of the space
    workers: int = 1  #: processes that explored it (check(..., workers=n), when the search outlived its warm-up)

    @property
    def explored(self) -> int:
        """Executions run, complete or not."""
        return self.executions + self.blocked

    @property
    def executions_per_second(self) -> float:
        """Executions run (complete or not) per second of wall time."""
        return self.explored / self.wall_time if self.wall_time > 0 else float("inf")

    def __str__(self) -> str:
        what = (f"{self.executions} executions ({self.distinct} distinct graphs), {self.blocked} blocked/pruned, "
                f"{self.wall_time:.3f} s [{self.model}, {self.mode}{', dpor' if self.dpor else ''}"
                f"{'' if self.seed is None else f', seed={self.seed}'}"
                f"{f', {self.workers} worker processes' if self.workers > 1 else ''}]")
        if self.shard is not None and self.shard[1] > 1:
            part = f"shard {self.shard[0]} of {self.shard[1]}"
            what = f"{what} [{part}]"
            if self.complete:
                return (f"velox.explore: SHARD COMPLETE: no failing execution among {what}; the verdict is "
                        "COMPLETE only when every shard is (velox.explore.combine)")
        if self.complete:
            assumed = "".join(f"; assuming {a}" for a in self.assumptions)
            return f"velox.explore: COMPLETE: no failing execution among {what}{assumed}"
        return (f"velox.explore: INCOMPLETE ({self.incomplete_reason}): no failure found in {what}, "
                "but not every execution was explored: this is not a pass")


def _test_name(test: Callable[[], Any]) -> str:
    """A name for the test, recorded in replay tokens so VELOX_EXPLORE_REPLAY only replays that test."""
    qual = getattr(test, "__qualname__", None) or repr(test)
    name = getattr(test, "__name__", None)
    if name and not qual.endswith(name):
        qual = f"{qual}[{name}]"
    return f"{getattr(test, '__module__', '?')}.{qual}"


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


class _Explorer:
    """State shared by the executions of one exploration."""

    def __init__(self, model: str, dpor: bool, mode: str, max_preemptions: int | None,
                 max_executions: int | None, seed: int | None) -> None:
        if model not in _MODELS:
            raise ValueError(f"model must be one of {_MODELS}, got {model!r}")
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        for name, value in (("max_preemptions", max_preemptions), ("max_executions", max_executions)):
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be a non-negative int or None, got {value!r}")
        self.model = model
        self.dpor = dpor
        self.mode = mode
        self.max_preemptions = max_preemptions
        self.max_executions = max_executions
        self.max_steps = _env_int("VELOX_MAX_STEPS") or 2000
        spin_bound = _env_int("VELOX_SPIN_BOUND")
        self.spin_bound = 5 if spin_bound is None else spin_bound
        self.watchdog = float(os.environ.get("VELOX_EXPLORE_WATCHDOG", "60"))
        # Retry iterations that change nothing are blocked (Memory.check_retry); 0 explores every one.
        self.block_retries = os.environ.get("VELOX_EXPLORE_BLOCK_RETRIES", "1").strip() != "0"
        self.seed = seed
        self.rng = random.Random(seed) if mode == "random" else None
        self.stack: list[Plan] = []
        self.seen: set[int] = set()
        self.bounded: str | None = None
        self.assumptions: set[str] = set()  # restrictions a COMPLETE verdict relies on (stated in Stats)
        # Thread states (at a weak compare-exchange) whose spurious failure was seen to lead straight back
        # to the same state with no event in between: the failure is never explored from them again.
        self.pointless_spurious: set = set()
        self.replaying = False
        self.races = "raise"
        self.stop = False  # set between executions to end the search early (a parallel worker's shared bound)

    def push(self, plan: Plan) -> None:
        """Queue a plan unless it was queued before."""
        if self.replaying or self.rng is not None:
            return
        if self.dpor:
            # The search builds each graph once (revisit.py): no record of what was queued is needed.
            self.stack.append(plan)
            return
        # A 64-bit hash stands for the plan: long runs keep memory flat, and a collision (odds about
        # n^2 / 2^65 for n plans, 3e-8 at a million) would only skip one duplicate-looking plan.
        key = hash(plan.key())
        if key in self.seen:
            return
        self.seen.add(key)
        self.stack.append(plan)


def _check_shard(shard: Any, mode: str, dpor: bool, replay: str | None) -> tuple[int, int] | None:
    if shard is None:
        return None
    if (not isinstance(shard, tuple) or len(shard) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                                                  for v in shard)):
        raise ValueError(f"shard must be a pair (index, count) of ints, got {shard!r}")
    i, n = shard
    if n < 1 or not 0 <= i < n:
        raise ValueError(f"shard=(index, count) needs count >= 1 and 0 <= index < count, got {shard!r}")
    if mode != "exhaustive" or not dpor or replay is not None:
        raise ValueError("shard= splits an exhaustive DPOR exploration; it cannot be combined with "
                         "mode='random', dpor=False or replay=")
    return (i, n)


# Sharding: every shard runs the top of the search tree identically (the *shared* plans: the first
# run and the first few plans it and its shared descendants push); each later plan pushed by a shared
# run is owned by one shard, round robin, and a plan's descendants belong to its owner. Every shard
# makes the same assignment, so the owned subtrees are disjoint and, with the shared top, the whole
# tree; only shard 0 counts the shared runs.
_SHARED_PER_SHARD = 2


def _check_workers(workers: Any, mode: str, dpor: bool, replay: str | None, shard: Any, on_outcome: Any) -> int:
    explicit = workers is not None
    if workers is None:
        workers = _env_int("VELOX_EXPLORE_WORKERS") or 1
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive int (processes exploring in parallel), got {workers!r}")
    if workers == 1:
        return 1
    if not hasattr(os, "fork"):
        raise ValueError("workers > 1 needs os.fork (Linux, macOS); use shard= with separate processes instead")
    if mode != "exhaustive" or not dpor or replay is not None or shard is not None or on_outcome is not None:
        if not explicit:
            return 1  # VELOX_EXPLORE_WORKERS applies to the explorations that can be split this way
        raise ValueError("workers= splits an exhaustive DPOR check(); it cannot be combined with mode='random', "
                         "dpor=False, replay= or shard=, nor used by outcomes()/outcome_counts()")
    return workers


def _explore(test: Callable[[], Any], *, model: str, max_preemptions: int | None, max_executions: int | None,
             mode: str, seed: int | None, replay: str | None, dpor: bool,
             on_outcome: Callable[[Any, bool, bool], None] | None, races: str = "raise",
             shard: tuple[int, int] | None = None, workers: int | None = None) -> Stats:
    if not callable(test):
        raise TypeError(f"velox.explore: test must be a callable taking no arguments, got {test!r}")
    shard = _check_shard(shard, mode, dpor, replay)
    workers = _check_workers(workers, mode, dpor, replay, shard, on_outcome)
    name = _test_name(test)
    if max_preemptions is None:
        max_preemptions = _env_int("VELOX_MAX_PREEMPTIONS")
    if max_executions is None:
        max_executions = _env_int("VELOX_MAX_EXECUTIONS")
    if replay is None:
        env = os.environ.get("VELOX_EXPLORE_REPLAY")
        if env:
            try:
                _, token_name, _ = decode_token(env)
            except ValueError as exc:
                raise ValueError(f"VELOX_EXPLORE_REPLAY: {exc} (unset the variable to explore normally)") from None
            if token_name == name:
                replay = env
    if mode == "random":
        if seed is None:
            seed = _env_int("VELOX_SEED")
        if seed is None:
            seed = random.randrange(2**32)
        if max_executions is None:
            max_executions = 1000
        print(f"velox.explore: random mode, seed={seed} (re-run with VELOX_SEED={seed} or seed={seed})",
              file=sys.stderr)
    x = _Explorer(model, dpor, mode, max_preemptions, max_executions, seed)
    if races not in ("raise", "flag"):
        raise ValueError(f"races must be 'raise' (a data race fails the test) or 'flag', got {races!r}")
    x.races = races
    first = None
    if replay is None:
        env = os.environ.get("VELOX_EXPLORE_FIRST")
        if env:
            try:
                token_model, token_name, items = decode_token(env)
            except ValueError as exc:
                raise ValueError(f"VELOX_EXPLORE_FIRST: {exc} (unset the variable to explore normally)") from None
            if token_name == name and token_model == model and not (shard is not None and shard[1] > 1):
                first = Plan(items)
    token_builds: list[str] | None = None
    if replay is not None:
        token_model, token_name, items, token_builds = decode_token_builds(replay)
        if token_model != model:
            raise ValueError(f"replay token was recorded with model={token_model!r}, not {model!r}")
        if token_name != name:
            raise ValueError(f"replay token was recorded for the test {token_name}, not {name}")
        x.replaying = True
        x.rng = None
        x.stack.append(Plan(items))
    else:
        x.stack.append(Plan([]))
        if first is not None:
            # A counterexample stored by an earlier run: its execution goes
            # first; if it no longer fails, exploration carries on as usual.
            x.stack.append(first)
    if workers > 1:
        from ._parallel import explore_parallel

        return explore_parallel(x, test, workers, name=name, model=model, mode=mode, dpor=dpor, first=first)
    start = time.perf_counter()
    counts = Counts()
    _search(x, test, counts, name=name, model=model, mode=mode, dpor=dpor, replay=replay, first=first,
            token_builds=token_builds, on_outcome=on_outcome, shard=shard, start=start)
    wall = time.perf_counter() - start
    reason = x.bounded
    if replay is not None:
        reason = "replayed one execution"
    return Stats(executions=counts.executions, blocked=counts.blocked, distinct=len(counts.graphs), wall_time=wall,
                 complete=reason is None, model=model, mode=mode, dpor=dpor, seed=x.seed if mode == "random" else None,
                 incomplete_reason=reason, assumptions=tuple(sorted(x.assumptions)), shard=shard)


class Counts:
    """What a search has explored so far (a worker's part, with ``workers=``)."""

    __slots__ = ("blocked", "executions", "graphs")

    def __init__(self) -> None:
        self.executions = 0  # complete executions
        self.blocked = 0  # pruned or blocked ones
        self.graphs: set[int] = set()  # hashes of the distinct complete graphs


def _search(x: _Explorer, test: Callable[[], Any], counts: Counts, *, name: str, model: str, mode: str, dpor: bool,
            replay: str | None, first: Plan | None, token_builds: list[str] | None,
            on_outcome: Callable[[Any, bool, bool], None] | None, shard: tuple[int, int] | None, start: float,
            between: Callable[[], None] | None = None, progress: bool = True) -> None:
    """Run executions until ``x.stack`` is empty (or a bound stops the search); raise on a failure.

    ``between`` runs after every execution (a parallel worker shares plans there and stops at a bound)."""
    max_executions = x.max_executions
    last_progress = start
    graphs = counts.graphs
    sharded = shard is not None and shard[1] > 1
    shared_left = _SHARED_PER_SHARD * shard[1] if sharded else 0
    next_owner = 0
    pinning = Pinning()  # the model threads run on the search's CPU, re-chosen every few ms (rt/threads.py)
    try:
        while True:
            if x.rng is not None:
                if counts.executions + counts.blocked >= max_executions:
                    x.bounded = f"random mode, {max_executions} walks"
                    break
                plan = Plan([])
            else:
                if not x.stack or x.stop:
                    break
                if max_executions is not None and counts.executions + counts.blocked >= max_executions:
                    x.bounded = f"max_executions={max_executions}"
                    break
                plan = x.stack.pop()
                if sharded and plan.owner is not None and plan.owner != shard[0]:
                    continue  # another shard's subtree
            queued = len(x.stack)
            exe = Execution(x, plan)
            exe.shared_run = sharded and plan.owner is None
            # The stored counterexample's execution is an extra one: it queues no
            # plans, so the search below is exactly the usual one.
            x.replaying = replay is not None or plan is first
            pinning.before_execution()
            exe.run(test)
            x.replaying = replay is not None
            if token_builds is not None and sorted(exe.identities) != token_builds:
                raise ValueError(
                    f"replay token was recorded with the C build{'s' if len(token_builds) != 1 else ''} "
                    f"{', '.join(token_builds) or '(none)'}, but this run of {name} uses "
                    f"{', '.join(sorted(exe.identities)) or '(none)'}: the token belongs to another build variant "
                    "(other sources, flags or defines); re-run the exploration with this build for a new token")
            if sharded:
                for child in x.stack[queued:]:
                    if plan.owner is not None:
                        child.owner = plan.owner
                    elif shared_left > 0:
                        shared_left -= 1
                    else:
                        child.owner = next_owner
                        next_owner = (next_owner + 1) % shard[1]
            mine = not sharded or plan.owner == shard[0] or (plan.owner is None and shard[0] == 0)
            if exe.failure is not None and exe.failure.kind == "usage" and exe.failure.exc is not None:
                raise exe.failure.exc
            if replay is not None:
                _check_replay_fits(exe, plan)
            if plan is first and (exe.failure is None or exe.failure.kind == "nondeterminism"):
                if exe.failure is not None:
                    print(f"velox.explore: {name}: the stored counterexample (VELOX_EXPLORE_FIRST) no longer fits the "
                          "test; exploring as usual", file=sys.stderr)
                continue  # not counted: the search proper explores this execution again if it exists
            if exe.failure is not None:
                token = encode_token(model, name, exe.taken, sorted(exe.identities))
                n = counts.executions + counts.blocked + 1
                header = (f"velox.explore found a failing execution ({exe.failure.kind}) after {n} execution"
                          f"{'s' if n != 1 else ''} [model={model}, mode={mode}{', dpor' if dpor else ''}"
                          f"{'' if x.seed is None or x.rng is None else f', seed={x.seed}'}]:")
                text = failure_report(exe, exe.failure, token, n, header)
                raise ExplorationFailure(text, kind=exe.failure.kind, token=token, executions=n,
                                         failure_message=exe.failure.message)
            if not mine:
                pass
            elif exe.complete:
                counts.executions += 1
                key = exe.graph_hash()
                new = key not in graphs
                if new:
                    graphs.add(key)
                if on_outcome is not None:
                    on_outcome(exe.result, new, exe.raced)
            else:
                counts.blocked += 1
            exe.dispose()
            if between is not None:
                between()
            now = time.perf_counter()
            pinning.after_execution(now)
            if progress and now - last_progress > _PROGRESS_SECONDS:
                last_progress = now
                print(f"velox.explore: {name}: {counts.executions + counts.blocked} executions, {len(x.stack)} plans "
                      f"queued, {now - start:.0f} s", file=sys.stderr)
    finally:
        pinning.release()


def combine(parts: list[Stats]) -> Stats:
    """One verdict from the shards of one exploration (``check(..., shard=(i, n))`` for every i).

    COMPLETE only when every one of the n shards is there, each complete; counts are summed (the
    shards are disjoint). A failure in any shard was already raised by that shard's ``check``.
    """
    if not parts:
        raise ValueError("combine() needs the Stats of every shard")
    counts = {p.shard[1] if p.shard else 1 for p in parts}
    if len(counts) != 1:
        raise ValueError(f"combine(): the parts come from explorations split differently: {sorted(counts)}")
    n = counts.pop()
    seen = sorted(p.shard[0] if p.shard else 0 for p in parts)
    if len(set(seen)) != len(seen):
        raise ValueError(f"combine(): a shard appears twice: {seen}")
    missing = sorted(set(range(n)) - set(seen))
    reasons = [f"shard {p.shard[0] if p.shard else 0}: {p.incomplete_reason}" for p in parts if not p.complete]
    if missing:
        reasons.append(f"shards {missing} of {n} missing")
    first = parts[0]
    return Stats(executions=sum(p.executions for p in parts), blocked=sum(p.blocked for p in parts),
                 distinct=sum(p.distinct for p in parts), wall_time=max(p.wall_time for p in parts),
                 complete=not reasons, model=first.model, mode=first.mode, dpor=first.dpor,
                 incomplete_reason="; ".join(reasons) or None,
                 assumptions=tuple(sorted({a for p in parts for a in p.assumptions})))


def _check_replay_fits(exe: Execution, plan: Plan) -> None:
    """A replay that diverged from its token, or ended without failing, is the
    token's fault (edited, truncated, or from another version of the test):
    say so instead of replaying a different execution or reporting INCOMPLETE."""
    f = exe.failure
    taken = [(tid, choice) for tid, choice, _ in exe.taken[:len(plan.items)]]
    wanted = [(tid, choice) for tid, choice, _ in plan.items]
    if f is not None and f.kind == "nondeterminism" or taken != wanted:
        where = next((i for i, (a, b) in enumerate(zip(taken, wanted)) if a != b), len(taken))
        raise ValueError(f"replay token does not fit this test: it has {len(wanted)} choices and the test "
                         f"diverged from them at choice {where}"
                         + (f" ({f.message})" if f is not None and f.kind == "nondeterminism" else "")
                         + "; was the token recorded from another version of the test?")
    if f is None:
        raise ValueError(f"replay token does not fit this test: its {len(wanted)} choices replayed without the "
                         "failure it recorded (the token was cut short, or the test changed since)")


def check(test: Callable[[], Any], *, model: str = "rc11", max_preemptions: int | None = None,
          max_executions: int | None = None, mode: str = "exhaustive", seed: int | None = None,
          replay: str | None = None, dpor: bool = True, shard: tuple[int, int] | None = None,
          workers: int | None = None) -> Stats:
    """Run ``test()`` under every execution the memory model allows; raise on the first failure.

    ``test`` builds fresh shared state (``Atomic``, ``Cell``), starts threads with
    ``spawn``, joins them and asserts. Returns ``Stats``; raises ``ExplorationFailure``
    with a trace table and a replay token if any execution fails (assertion, exception
    in a thread, data race, deadlock, livelock).

    ``shard=(i, n)`` explores only the i-th of n disjoint parts of the space (every part runs the first
    few executions, then keeps every n-th queued plan); ``combine()`` of the n results is the verdict.

    ``workers=n`` (default ``$VELOX_EXPLORE_WORKERS`` or 1) spreads an exploration that is still running
    after a quarter of a second over n forked processes that share the remaining plans on demand, and
    returns their combined verdict (``_parallel.py``).
    """
    return _explore(test, model=model, max_preemptions=max_preemptions, max_executions=max_executions, mode=mode,
                    seed=seed, replay=replay, dpor=dpor, on_outcome=None, shard=shard, workers=workers)


class OutcomeCounts(collections.Counter):
    """Outcome -> number of distinct execution graphs; ``racy`` holds outcomes of graphs with a data race."""

    def __init__(self) -> None:
        super().__init__()
        self.racy: set = set()


def outcome_counts(test: Callable[[], Any], *, model: str = "rc11", races: str = "raise",
                   **kw: Any) -> OutcomeCounts:
    """Map each value ``test()`` can return to the number of distinct consistent execution graphs returning it.

    ``races="raise"`` (default) fails on a data race like ``check``; ``races="flag"`` keeps exploring
    (plain reads may then read any coherent store, as herd7 does) and records the outcomes of racy
    executions in the result's ``racy`` set (herd7's Undef).
    """
    counts = OutcomeCounts()

    def record(result: Any, new: bool, raced: bool) -> None:
        if new:
            counts[result] += 1
            if raced:
                counts.racy.add(result)

    stats = _explore(test, model=model, max_preemptions=kw.pop("max_preemptions", None),
                     max_executions=kw.pop("max_executions", None), mode=kw.pop("mode", "exhaustive"),
                     seed=kw.pop("seed", None), replay=kw.pop("replay", None), dpor=kw.pop("dpor", True),
                     on_outcome=record, races=races, shard=kw.pop("shard", None))
    if kw:
        raise TypeError(f"unexpected keyword arguments: {sorted(kw)}")
    if not stats.complete:
        print(f"{stats}", file=sys.stderr)
    return counts


def outcomes(test: Callable[[], Any], *, model: str = "rc11", **kw: Any) -> set:
    """The set of values ``test()`` returns over all consistent executions."""
    return set(outcome_counts(test, model=model, **kw))
