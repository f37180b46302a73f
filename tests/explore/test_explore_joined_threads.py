"""A thread first run because another waits in join() for it runs on the joiner's OS thread.

The joiner cannot act before the thread has finished, so nothing needs its OS thread meanwhile; the
thread may still hand the baton to others and wait for it. These tests check that the OS thread is
shared where it may be, and that executions through it are the ones RC11 allows.
"""

from __future__ import annotations

import threading

import pytest

from velox import explore
from velox.explore import Atomic, spawn, spin_hint


def test_joined_threads_run_on_the_joiners_os_thread():
    idents: list[tuple[str, int]] = []

    def body():
        def child(name):
            idents.append((name, threading.get_ident()))

        idents.append(("main", threading.get_ident()))
        a, b = spawn(child, "a"), spawn(child, "b")
        a.join()
        b.join()

    assert explore.check(body).complete
    assert len({ident for _, ident in idents}) == 1, idents


def test_a_thread_started_before_its_join_keeps_its_own_os_thread():
    # In the first execution main joins a before either ran: a runs on main's OS thread, waits there for
    # b's flag, and b starts on an OS thread of its own. (Later executions replay other orders.)
    where: dict[str, int] = {}

    def body():
        flag, data = Atomic(0, name="flag"), Atomic(0, name="data")

        def a():
            where.setdefault("a", threading.get_ident())
            while flag.load("acquire") == 0:
                spin_hint()
            return data.load("relaxed")

        def b():
            where.setdefault("b", threading.get_ident())
            data.store(42, "relaxed")
            flag.store(1, "release")

        where.setdefault("main", threading.get_ident())
        ha, hb = spawn(a), spawn(b)
        got = ha.join()
        hb.join()
        return got

    assert explore.outcomes(body) == {42}
    assert where["a"] == where["main"] != where["b"]


def test_a_joined_thread_that_waits_for_others_sees_what_rc11_allows():
    # Message passing with relaxed publication: a (run on main's OS thread) may read the flag set
    # and the data not, and both waiting and racing paths are explored.
    def relaxed_mp():
        flag, data = Atomic(0, name="flag"), Atomic(0, name="data")

        def a():
            while flag.load("relaxed") == 0:
                spin_hint()
            return data.load("relaxed")

        def b():
            data.store(1, "relaxed")
            flag.store(1, "relaxed")

        ha, hb = spawn(a), spawn(b)
        got = ha.join()
        hb.join()
        return got

    assert explore.outcomes(relaxed_mp) == {0, 1}


def test_a_failure_in_a_joined_thread_is_reported_from_it():
    def body():
        x = Atomic(0, name="x")

        def a():
            assert x.load("relaxed") == 0, "saw the store"

        ha = spawn(a)
        x.store(1, "relaxed")
        ha.join()

    try:
        explore.check(body)
    except explore.ExplorationFailure as failure:
        assert "thread t1: assertion failed: saw the store" in str(failure)
    else:
        raise AssertionError("the failing execution was not found")


def test_a_joined_thread_stuck_outside_the_explorer_is_named(monkeypatch):
    # It blocks on a real event on its joiner's OS thread: the watchdog ends the execution, and the
    # error names it and its joiner (whose OS thread it holds).
    monkeypatch.setenv("VELOX_EXPLORE_WATCHDOG", "0.5")
    release = threading.Event()

    def body():
        spawn(release.wait, 30).join()

    try:
        with pytest.raises(RuntimeError, match=r"threads t0, t1 did not stop after the execution ended"):
            explore.check(body)
    finally:
        release.set()  # let the stuck thread return, so its OS thread goes back to the pool
