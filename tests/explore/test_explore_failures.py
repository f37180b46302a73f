"""Every failure kind the explorer reports, its trace, replay, bounds and usage errors.

Each test provokes one failure on purpose, so each detector is shown to fire.
"""

from __future__ import annotations

import threading
import time

import pytest

from velox import explore
from velox.explore import (
    Atomic,
    Cell,
    ExplorationFailure,
    check,
    spawn,
    spin_hint,
    yield_now,
)
from velox.explore.rt import runtime as rt


def racy_counter():
    c = Cell(0, name="counter")

    def bump():
        c.set(c.get() + 1)

    a, b = spawn(bump), spawn(bump)
    a.join()
    b.join()


def stale_message():
    data, flag = Atomic(0, name="data"), Atomic(0, name="flag")

    def writer():
        data.store(42, "relaxed")
        flag.store(1, "relaxed")  # BUG: should be release

    def reader():
        if flag.load("acquire") == 1:
            assert data.load("relaxed") == 42, "saw the flag but not the data"

    w, r = spawn(writer), spawn(reader)
    w.join()
    r.join()


def test_assertion_failure_has_a_trace_table_and_a_replay_token():
    with pytest.raises(ExplorationFailure) as info:
        check(stale_message)
    err = info.value
    text = str(err)
    assert isinstance(err, AssertionError) and err.kind == "assertion"
    assert "saw the flag but not the data" in text
    for column in ("thread", "operation", "location", "order", "value", "reads-from", "site"):
        assert column in text
    assert "test_explore_failures.py:" in text  # user call sites
    assert err.token.startswith("vx1.") and err.token in text


def test_data_race_names_both_accesses():
    with pytest.raises(ExplorationFailure) as info:
        check(racy_counter)
    err = info.value
    assert err.kind == "data race"
    assert "counter" in err.failure_message
    assert err.failure_message.count("test_explore_failures.py:") == 2


def test_properly_synchronised_cell_is_not_a_race():
    def test():
        c, flag = Cell(0, name="c"), Atomic(0, name="flag")

        def writer():
            c.set(7)
            flag.store(1, "release")

        def reader():
            while flag.load("acquire") == 0:
                spin_hint()
            return c.get()

        w, r = spawn(writer), spawn(reader)
        w.join()
        return r.join()

    assert explore.outcomes(test) == {7}


def test_deadlock_is_reported():
    def test():
        handles = []

        def a():
            handles[1].join()

        def b():
            handles[0].join()

        handles.append(spawn(a))
        handles.append(spawn(b))
        handles[0].join()

    with pytest.raises(ExplorationFailure) as info:
        check(test)
    assert info.value.kind == "deadlock"
    assert "waits in join()" in info.value.failure_message


def test_livelock_is_reported_not_explored_forever():
    def test():
        go = Atomic(0, name="go")

        def waiter():
            while go.load("acquire") == 0:  # nobody ever sets go
                yield_now()

        spawn(waiter).join()

    with pytest.raises(ExplorationFailure) as info:
        check(test)
    assert info.value.kind == "livelock"
    assert "spins forever" in info.value.failure_message and "go=0" in info.value.failure_message


def test_spin_without_hint_hits_the_step_bound(monkeypatch):
    monkeypatch.setenv("VELOX_MAX_STEPS", "50")

    def test():
        go = Atomic(0)

        def waiter():
            while go.load("relaxed") == 0:
                pass

        spawn(waiter).join()

    with pytest.raises(ExplorationFailure) as info:
        check(test)
    assert info.value.kind == "step bound"
    assert "spin_hint()" in info.value.failure_message


def test_a_long_execution_that_keeps_adding_events_is_not_a_hang(monkeypatch):
    """The watchdog measures time without a new event, not the length of the execution."""
    monkeypatch.setenv("VELOX_EXPLORE_WATCHDOG", "1")

    def test():
        x = Atomic(0)
        for i in range(100):  # about 2 s in all, each step far inside the watchdog
            x.store(i, "relaxed")
            time.sleep(0.02)

    assert check(test).complete


def test_exception_in_a_thread_fails_the_test():
    def test():
        spawn(lambda: 1 / 0).join()

    with pytest.raises(ExplorationFailure) as info:
        check(test)
    assert info.value.kind == "exception" and "ZeroDivisionError" in info.value.failure_message


def test_replay_token_reruns_the_failing_execution(monkeypatch):
    with pytest.raises(ExplorationFailure) as first:
        check(stale_message)
    with pytest.raises(ExplorationFailure) as again:
        check(stale_message, replay=first.value.token)
    assert again.value.executions == 1
    assert again.value.failure_message == first.value.failure_message
    monkeypatch.setenv("VELOX_EXPLORE_REPLAY", first.value.token)
    with pytest.raises(ExplorationFailure) as env:
        check(stale_message)
    assert env.value.executions == 1
    # The token names its test: another test ignores it and explores normally.
    assert check(racy_counter_fixed).complete


def racy_counter_fixed():
    c = Atomic(0)
    hs = [spawn(lambda: c.fetch_add(1, "relaxed")) for _ in range(2)]
    for h in hs:
        h.join()
    assert c.load("relaxed") == 2


def test_bad_replay_token_is_a_clear_error():
    with pytest.raises(ValueError, match="not a velox.explore replay token"):
        check(racy_counter_fixed, replay="garbage")
    with pytest.raises(ValueError, match="corrupt"):
        check(racy_counter_fixed, replay="vx1.@@@")


def test_random_mode_reports_incomplete_and_its_seed(capsys):
    stats = check(racy_counter_fixed, mode="random", seed=7, max_executions=20)
    assert not stats.complete and stats.seed == 7
    assert "INCOMPLETE" in str(stats) and "not a pass" in str(stats)
    assert "seed=7" in capsys.readouterr().err


def test_random_mode_finds_a_bug_and_names_the_seed():
    with pytest.raises(ExplorationFailure) as info:
        check(stale_message, mode="random", seed=3, max_executions=500)
    assert "seed=3" in str(info.value)


def test_bounded_runs_are_incomplete():
    assert not check(stale_message_fixed, max_executions=1).complete
    stats = check(store_buffering, max_preemptions=0)  # SB needs a revisit: the bound cuts it
    assert not stats.complete and "max_preemptions=0" in str(stats)
    assert check(store_buffering, max_preemptions=1).complete
    assert check(stale_message_fixed).complete


def store_buffering():
    x, y = Atomic(0), Atomic(0)
    a = spawn(lambda: (x.store(1, "relaxed"), y.load("relaxed")))
    b = spawn(lambda: (y.store(1, "relaxed"), x.load("relaxed")))
    return a.join(), b.join()


def stale_message_fixed():
    data, flag = Atomic(0), Atomic(0)

    def writer():
        data.store(42, "relaxed")
        flag.store(1, "release")

    def reader():
        if flag.load("acquire") == 1:
            assert data.load("relaxed") == 42

    w, r = spawn(writer), spawn(reader)
    w.join()
    r.join()


@pytest.mark.parametrize("call, message", [
    (lambda a: a.load("release"), "not valid for a load"),
    (lambda a: a.load("acq_rel"), "not valid for a load"),
    (lambda a: a.store(1, "acquire"), "not valid for a store"),
    (lambda a: a.compare_exchange_strong(0, 1, "release", "release"), "failure order 'release' is invalid"),
    (lambda a: a.load("sequential"), "unknown memory order"),
    (lambda a: a.load(9), "C number 0-5"),
])
def test_invalid_orders_raise_value_error(call, message):
    def test():
        call(Atomic(0))

    with pytest.raises(ValueError, match=message):
        check(test)


def test_primitives_outside_an_exploration_are_a_clear_error():
    with pytest.raises(RuntimeError, match="only be used inside a test run by velox.explore.check"):
        Atomic(0)


def test_check_runs_many_times_and_leaves_no_threads_running():
    """OS threads are pooled across executions; after check() none is running test code."""
    from velox.explore.rt.threads import _Worker

    for _ in range(3):
        with pytest.raises(ExplorationFailure):
            check(racy_counter)
        check(racy_counter_fixed)
    assert _Worker.busy() == 0
    workers = [t for t in threading.enumerate() if t.name == "velox-explore-worker"]
    assert len(workers) <= _Worker.MAX_IDLE


def test_runtime_api_with_c_style_keys_sites_and_int_orders():
    """The low-level runtime the model build of the C core calls: int keys, int orders, site strings."""
    def test():
        rt.rt_init(0x1000, 0, "tail", "vx_ring.c:10")

        def producer():
            rt.rt_cell(0x2000, True, "vx_ring.c:80")  # C memory: race-checked only
            rt.rt_store(0x1000, 1, 0, "vx_ring.c:83")  # relaxed: the seeded bug

        def consumer():
            if rt.rt_load(0x1000, 2, "vx_ring.c:100") == 1:
                rt.rt_cell(0x2000, False, "vx_ring.c:104")

        p, c = rt.rt_spawn(producer), rt.rt_spawn(consumer)
        p.join()
        c.join()

    with pytest.raises(ExplorationFailure) as info:
        check(test)
    text = str(info.value)
    assert info.value.kind == "data race"
    assert "vx_ring.c:80" in text and "vx_ring.c:104" in text


def test_runtime_rmw_cas_fence_and_choose():
    def test():
        rt.rt_init("k", 5)
        old = rt.rt_rmw("k", lambda v: v * 2, "acq_rel", "x.c:1")
        ok, seen = rt.rt_cas("k", 10, 11, False, 5, 2, "x.c:2")
        rt.rt_fence(5, "x.c:3")
        return old, ok, seen, rt.rt_choose(3)

    assert explore.outcomes(test) == {(5, True, 10, 0), (5, True, 10, 1), (5, True, 10, 2)}
