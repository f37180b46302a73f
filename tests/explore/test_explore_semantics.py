"""Memory-model semantics through the Python API: the classic shapes, each with its RC11 verdict.

The herd-format suite (tests/explore/litmus/) covers far more; these pin the engine's
own API (spawn/join, Atomic, fence, compare_exchange_weak) and model="sc".
"""

from __future__ import annotations

import pytest

from velox.explore import Atomic, fence, outcome_counts, outcomes, spawn, spin_hint
from velox_testing.shapes import iriw, mp, sb


def test_store_buffering_relaxed_allows_both_zero():
    assert (0, 0) in outcomes(sb("relaxed"))


def test_store_buffering_seq_cst_forbids_both_zero():
    assert outcomes(sb("seq_cst")) == {(0, 1), (1, 0), (1, 1)}


def test_store_buffering_release_acquire_allows_both_zero():
    assert (0, 0) in outcomes(sb("release", "acquire"))


def test_store_buffering_relaxed_is_forbidden_under_model_sc():
    assert (0, 0) not in outcomes(sb("relaxed"), model="sc")


def test_message_passing_release_acquire_forbids_stale_data():
    assert outcomes(mp("release", "acquire")) == {(0, 0), (0, 1), (1, 1)}


def test_message_passing_relaxed_allows_stale_data():
    assert (1, 0) in outcomes(mp("relaxed", "relaxed"))
    assert (1, 0) in outcomes(mp("release", "relaxed"))


def test_load_buffering_is_forbidden():
    def test():
        x, y = Atomic(0), Atomic(0)

        def t1():
            r = x.load("relaxed")
            y.store(1, "relaxed")
            return r

        def t2():
            r = y.load("relaxed")
            x.store(1, "relaxed")
            return r

        a, b = spawn(t1), spawn(t2)
        return a.join(), b.join()

    assert (1, 1) not in outcomes(test)


def test_iriw_acquire_allows_disagreement_seq_cst_forbids_it():
    disagree = ((1, 0), (1, 0))
    assert disagree in outcomes(iriw("acquire"))
    assert disagree not in outcomes(iriw("seq_cst"))


def test_2_plus_2w_relaxed_allows_both_first_stores_last():
    def test():
        x, y = Atomic(0, name="x"), Atomic(0, name="y")

        def t1():
            x.store(1, "relaxed")
            y.store(2, "relaxed")

        def t2():
            y.store(1, "relaxed")
            x.store(2, "relaxed")

        a, b = spawn(t1), spawn(t2)
        a.join()
        b.join()
        return x.load("relaxed"), y.load("relaxed")

    assert (1, 1) in outcomes(test)


def test_coherence_read_read():
    def test():
        x = Atomic(0)
        w = spawn(lambda: (x.store(1, "relaxed"), x.store(2, "relaxed")))
        r = spawn(lambda: (x.load("relaxed"), x.load("relaxed")))
        w.join()
        return r.join()

    seen = outcomes(test)
    assert all(a <= b for a, b in seen)  # never a newer then an older store
    assert (2, 1) not in seen and (0, 2) in seen


def test_fetch_add_is_atomic_and_every_graph_counted_once():
    def test():
        n = Atomic(0)
        hs = [spawn(lambda: n.fetch_add(1, "relaxed")) for _ in range(2)]
        olds = tuple(sorted(h.join() for h in hs))
        return olds, n.load("relaxed")

    counts = outcome_counts(test)
    assert set(counts) == {((0, 1), 2)}
    assert counts[((0, 1), 2)] == 2  # two modification orders


def test_strong_cas_exactly_one_winner():
    def test():
        x = Atomic(0)
        hs = [spawn(lambda v=v: x.compare_exchange_strong(0, v, "acq_rel", "acquire")[0]) for v in (1, 2)]
        return tuple(h.join() for h in hs)

    assert outcomes(test) == {(True, False), (False, True)}


def test_weak_cas_may_fail_spuriously():
    def test():
        x = Atomic(0)
        return spawn(lambda: x.compare_exchange_weak(0, 1, "relaxed", "relaxed")).join()

    assert outcomes(test) == {(True, 0), (False, 0)}


def test_fences_make_message_passing_work():
    def test():
        data, flag = Atomic(0), Atomic(0)

        def writer():
            data.store(1, "relaxed")
            fence("release")
            flag.store(1, "relaxed")

        def reader():
            f = flag.load("relaxed")
            fence("acquire")
            return f, data.load("relaxed")

        w, r = spawn(writer), spawn(reader)
        w.join()
        return r.join()

    assert (1, 0) not in outcomes(test)


def test_release_sequence_continues_through_an_rmw():
    def test():
        data, flag = Atomic(0), Atomic(0)

        def writer():
            data.store(1, "relaxed")
            flag.store(1, "release")

        def bumper():
            flag.fetch_add(1, "relaxed")

        def reader():
            f = flag.load("acquire")
            return f, data.load("relaxed")

        ts = [spawn(writer), spawn(bumper), spawn(reader)]
        return ts[2].join() if all(t.join() is not None or True for t in ts[:2]) else None

    # reading 2 means reading the RMW that read the release store: synchronised, data is 1
    assert (2, 0) not in outcomes(test)


@pytest.mark.parametrize("model", ["rc11", "sc"])
def test_dpor_and_baseline_count_the_same_graphs(model):
    for test in (sb("relaxed"), mp("release", "acquire"), sb("seq_cst")):
        assert outcome_counts(test, model=model) == outcome_counts(test, model=model, dpor=False)


def mp_spin():
    data, flag = Atomic(0, name="data"), Atomic(0, name="flag")

    def writer():
        data.store(1, "relaxed")
        flag.store(1, "release")
        data.store(2, "relaxed")
        flag.store(2, "release")

    def reader():
        while flag.load("acquire") == 0:
            spin_hint()
        return data.load("relaxed")

    w, r = spawn(writer), spawn(reader)
    w.join()
    return r.join()


def handshake():
    a, b = Atomic(0, name="a"), Atomic(0, name="b")

    def left():
        a.store(1, "release")
        while b.load("acquire") == 0:
            spin_hint()
        return a.load("relaxed")

    def right():
        while a.load("acquire") == 0:
            spin_hint()
        b.store(1, "release")
        return 1

    x, y = spawn(left), spawn(right)
    return x.join(), y.join()


@pytest.mark.parametrize("test", [mp_spin, handshake])
def test_spin_loops_dpor_and_baseline_count_the_same_graphs(test):
    """Spin loops (waiting, woken by writes) give the same graphs with and without reduction."""
    with_dpor = outcome_counts(test)
    assert with_dpor == outcome_counts(test, dpor=False)
    assert sum(with_dpor.values()) > 1
