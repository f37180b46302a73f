"""check(..., workers=n): one exploration over n forked processes that share plans, one verdict.

The tests set the warm-up to zero, so that even small explorations are handed to the workers after
their first execution (by default only explorations still running after a quarter of a second are).
"""

from __future__ import annotations

import pytest

from velox import explore
from velox.explore import Atomic, ExplorationFailure, _parallel, spawn
from velox.explore.rt.orders import UsageError
from velox_testing import shapes


@pytest.fixture
def no_warmup(monkeypatch):
    monkeypatch.setattr(_parallel, "WARMUP", 0.0)


def counter(threads: int, incs: int, weak: bool = False):
    body = shapes.cas_counter(threads, incs, weak)

    def test():
        assert body() == threads * incs

    return test


IRIW = shapes.iriw("acquire")


def ring_c():
    from velox.explore import cmodel
    from velox_testing import explore_c

    return explore_c.ring_test(cmodel.core(), 2, 3)


CASES = {"counter 2x3": lambda: counter(2, 3), "weak counter 2x2": lambda: counter(2, 2, weak=True),
         "iriw": lambda: IRIW, "C ring, capacity 2": ring_c}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("workers", [2, 3])
def test_workers_explore_the_same_graphs_as_one_process(no_warmup, name, workers):
    test = CASES[name]()
    one = explore.check(test)
    many = explore.check(test, workers=workers)
    assert many.complete, many
    assert many.workers == workers and f"{workers} worker processes" in str(many)
    # Every graph once: the parts are disjoint (no graph counted twice: distinct == executions) and
    # together the whole search (the same graphs as one process, so the same count).
    assert (many.executions, many.distinct) == (one.executions, one.distinct), (one, many)
    # A worker learns for itself which spurious failures of a weak compare-exchange lead nowhere (the
    # explorer's cache of them is per process), so it may prune a few more runs than one process does.
    assert many.blocked >= one.blocked
    if "weak" not in name:
        assert many.blocked == one.blocked


def test_a_worker_failure_is_raised_with_a_token_that_replays(no_warmup):
    def racy():
        c = Atomic(0, name="c")

        def inc():
            c.store(c.load("relaxed") + 1, "relaxed")

        hs = [spawn(inc) for _ in range(3)]
        for h in hs:
            h.join()
        assert c.load("relaxed") == 3, "lost update"

    with pytest.raises(ExplorationFailure, match="lost update") as info:
        explore.check(racy, workers=2)
    with pytest.raises(ExplorationFailure, match="lost update"):
        explore.check(racy, replay=info.value.token)


def test_a_usage_error_in_a_worker_is_raised_as_is(no_warmup):
    def body():
        x = Atomic(0, name="x")
        h = spawn(lambda: x.store(1, "relaxed"))
        if x.load("relaxed") == 1:  # not in the first execution: the main thread runs first
            x.load("release")  # not an order a load may have
        h.join()

    with pytest.raises(UsageError, match="release"):
        explore.check(body, workers=2)


def test_a_bound_shared_by_the_workers_makes_the_verdict_incomplete(no_warmup):
    stats = explore.check(counter(2, 3), workers=2, max_executions=50)
    assert not stats.complete
    assert "max_executions=50" in str(stats)
    assert 50 <= stats.explored < 496


def test_small_explorations_stay_in_process(monkeypatch):
    # Over before the warm-up ends: no process is started, and the counts are the usual ones.
    def no_processes(*a, **k):
        raise AssertionError("a small exploration started worker processes")

    monkeypatch.setattr(_parallel, "_coordinate", no_processes)
    stats = explore.check(IRIW, workers=2)
    assert stats.complete and stats.distinct == explore.check(IRIW).distinct
    assert stats.workers == 1 and "worker" not in str(stats)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_workers_are_a_clear_error(bad):
    with pytest.raises(ValueError, match="workers"):
        explore.check(IRIW, workers=bad)


def test_workers_refuse_what_they_cannot_split():
    for kw in ({"dpor": False}, {"mode": "random", "seed": 1}, {"shard": (0, 2)}):
        with pytest.raises(ValueError, match="workers"):
            explore.check(IRIW, workers=2, **kw)


def test_the_environment_sets_the_default(monkeypatch, no_warmup):
    monkeypatch.setenv("VELOX_EXPLORE_WORKERS", "2")
    test = counter(2, 3)
    assert explore.check(test).executions == 496
    assert explore.outcomes(IRIW)  # outcomes() cannot be split: it runs in one process
    monkeypatch.setenv("VELOX_EXPLORE_WORKERS", "two")
    with pytest.raises(ValueError, match="VELOX_EXPLORE_WORKERS"):
        explore.check(test)


def test_gate_catches_a_worker_that_loses_a_plan(monkeypatch, no_warmup):
    """A worker that drops one plan it is dealt explores less than the whole space: the comparison
    with one process (the first test) sees it. The mutant lives here, not in the shipping code."""
    real = _parallel._worker

    def lossy(x, test, conn, cap, search, start, index):
        real_recv = conn.recv
        dropped = []

        def recv():
            msg = real_recv()
            if msg[0] == "plans" and msg[1] and not dropped:
                dropped.append(msg[1][0])
                msg = ("plans", msg[1][1:])
            return msg

        conn.recv = recv
        return real(x, test, conn, cap, search, start, index)

    monkeypatch.setattr(_parallel, "_worker", lossy)
    test = counter(2, 3)
    one = explore.check(test)
    many = explore.check(test, workers=2)
    assert many.executions < one.executions


def test_a_worker_that_dies_is_reported(no_warmup):
    import os

    def body():
        x = Atomic(0, name="x")
        h = spawn(lambda: x.store(1, "relaxed"))
        if x.load("relaxed") == 1:  # not in the first execution, which runs in this process
            os._exit(3)  # as a crash in C code would end the worker
        h.join()

    with pytest.raises(RuntimeError, match=r"worker process \d of 2 died \(exit code 3\)"):
        explore.check(body, workers=2)
