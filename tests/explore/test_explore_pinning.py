"""The model threads' OS threads are kept on the CPU of the thread running the search (Linux).

Model threads run one at a time, and a wake-up across CPUs costs tens of microseconds on a virtual
machine where one on the same CPU costs a few; so each execution runs on the CPU the search is on.
The caller's own CPU set is given back after every execution.
"""

from __future__ import annotations

import os

import pytest

from velox.explore import Atomic, check, spawn
from velox.explore.rt import threads as _threads

pytestmark = pytest.mark.skipif(_threads._sched_getcpu is None, reason="no CPU affinity on this platform")


def two_threads():
    x = Atomic(0)
    hs = [spawn(lambda: x.fetch_add(1, "relaxed")) for _ in range(2)]
    for h in hs:
        h.join()


def test_the_callers_cpus_are_given_back():
    before = os.sched_getaffinity(0)
    assert check(two_threads).complete
    assert os.sched_getaffinity(0) == before


def test_workers_run_on_one_cpu_of_the_callers_set():
    allowed = os.sched_getaffinity(0)
    check(two_threads)
    workers = [w for w in _threads._Worker._idle if w.thread.native_id is not None]
    assert workers
    for w in workers:
        cpus = os.sched_getaffinity(w.thread.native_id)
        assert len(cpus) == 1 and cpus <= allowed


def test_pinning_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("VELOX_EXPLORE_PIN", "0")
    assert _threads._getcpu_function() is None


@pytest.mark.skipif(_threads._BATCH is None, reason="no SCHED_BATCH on this platform")
def test_the_callers_scheduling_policy_is_given_back():
    before = os.sched_getscheduler(0)
    assert check(two_threads).complete
    assert os.sched_getscheduler(0) == before


@pytest.mark.skipif(_threads._BATCH is None, reason="no SCHED_BATCH on this platform")
def test_workers_run_under_sched_batch():
    # A woken model thread must not preempt the one that woke it (see _Worker).
    check(two_threads)
    workers = [w for w in _threads._Worker._idle if w.thread.native_id is not None]
    assert workers
    for w in workers:
        assert os.sched_getscheduler(w.thread.native_id) == os.SCHED_BATCH


@pytest.mark.skipif(_threads._BATCH is None, reason="no SCHED_BATCH on this platform")
def test_model_threads_run_under_sched_batch_and_the_caller_gets_its_policy_back():
    seen = []

    def test():
        seen.append(os.sched_getscheduler(0))
        two_threads()

    if os.sched_getscheduler(0) != os.SCHED_OTHER:
        pytest.skip("the caller does not run under the ordinary policy")
    assert check(test).complete
    assert set(seen) == {os.SCHED_BATCH}
    assert os.sched_getscheduler(0) == os.SCHED_OTHER
