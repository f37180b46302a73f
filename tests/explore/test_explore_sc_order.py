"""The SC axiom (psc acyclic) kept incrementally: same verdicts as the full check, and a cost per step
that lets a runaway seq_cst loop reach the step bound instead of the watchdog.

The explorer adds psc's edges as each event is added (rt/psc.py) instead of recomputing the whole
relation at every step. ``psc.VERIFY`` makes every step also recompute it from scratch with the
relation-by-relation transcription (``psc.psc_edges``) and compare edge by edge; the tests below run
random seq_cst-heavy programs that way, and check against the brute-force RC11 oracle besides.
"""

from __future__ import annotations

import random

import pytest
from rc11_oracle import engine_test, oracle_counts, random_op

from velox import explore
from velox.explore import Atomic, ExplorationFailure, check, fence, spawn
from velox.explore.rt import psc

SEED = 20270113


def test_runaway_seq_cst_loop_hits_the_step_bound(monkeypatch):
    """A loop of seq_cst operations that never ends is a step-bound failure that says how to raise the bound
    (it used to reach the 60 s watchdog first and read as a hang: every step re-derived all of psc)."""
    monkeypatch.delenv("VELOX_MAX_STEPS", raising=False)
    monkeypatch.delenv("VELOX_EXPLORE_WATCHDOG", raising=False)

    def test():
        x = Atomic(0, name="x")
        y = Atomic(0, name="y")

        def a():
            while True:  # no spin_hint(): t2 never runs, so this never ends
                x.store(1, "seq_cst")
                if y.load("seq_cst") == 1:
                    return

        def b():
            y.store(1, "seq_cst")

        ha, hb = spawn(a), spawn(b)
        ha.join()
        hb.join()

    with pytest.raises(ExplorationFailure) as info:
        check(test)
    assert info.value.kind == "step bound"
    message = info.value.failure_message
    assert "step bound" in message and "2000" in message
    assert "VELOX_MAX_STEPS" in message


def test_runaway_seq_cst_fence_loop_hits_the_step_bound(monkeypatch):
    """The same with seq_cst fences between relaxed accesses (fences are psc nodes too)."""
    monkeypatch.setenv("VELOX_MAX_STEPS", "600")
    monkeypatch.delenv("VELOX_EXPLORE_WATCHDOG", raising=False)

    def test():
        x = Atomic(0, name="x")

        def a():
            while x.load("relaxed") == 0:
                fence("seq_cst")

        h = spawn(a)
        fence("seq_cst")
        h.join()

    with pytest.raises(ExplorationFailure) as info:
        check(test)
    assert info.value.kind == "step bound" and "VELOX_MAX_STEPS" in info.value.failure_message


# ------------------------------------------------------------ incremental == full
ORDERS_LD = ("relaxed", "acquire", "seq_cst", "seq_cst")
ORDERS_ST = ("relaxed", "release", "seq_cst", "seq_cst")
ORDERS_RMW = ("relaxed", "acq_rel", "seq_cst", "seq_cst")
ORDERS_F = ("acquire", "release", "seq_cst", "seq_cst")


ORDERS = {"ld": ORDERS_LD, "st": ORDERS_ST, "rmw": ORDERS_RMW, "fence": ORDERS_F,
          "cas": lambda rng: rng.choice((("relaxed", "relaxed"), ("seq_cst", "relaxed"), ("seq_cst", "seq_cst")))}


def sc_program(rng: random.Random, max_threads: int = 3, max_ops: int = 3) -> tuple:
    """A straight-line program weighted towards seq_cst accesses and fences (oracle_counts' format)."""
    threads = []
    value = 1
    nlocs = rng.choice((1, 2, 2, 3))
    for _ in range(rng.randint(2, max_threads)):
        ops = []
        for _ in range(rng.randint(1, max_ops)):
            kind = rng.choice(("ld", "ld", "st", "st", "faa", "cas", "fence", "fence"))
            op, value = random_op(rng, kind, rng.randrange(nlocs), value, ORDERS)
            ops.append(op)
        threads.append(tuple(ops))
    return tuple(threads)


@pytest.fixture
def verified(monkeypatch):
    """Every step also recomputes psc from scratch and compares it with the incremental edges."""
    monkeypatch.setattr(psc, "VERIFY", True)


SMALL = [sc_program(random.Random(SEED + i), max_threads=3, max_ops=2) for i in range(30)]


@pytest.mark.parametrize("program", SMALL, ids=[f"small{i}" for i in range(len(SMALL))])
def test_incremental_psc_matches_the_oracle(verified, program):
    for model in ("rc11", "sc"):
        want = oracle_counts(program, model)
        got = explore.outcome_counts(engine_test(program, explore), model=model)
        assert dict(got) == dict(want), f"{program} under {model}"


LARGER = [sc_program(random.Random(SEED * 7 + i), max_threads=3, max_ops=4) for i in range(12)]


@pytest.mark.parametrize("program", LARGER, ids=[f"larger{i}" for i in range(len(LARGER))])
def test_incremental_psc_matches_the_full_check(verified, program):
    """Programs too big for the oracle: every step of every execution agrees edge by edge with the full check,
    with and without reduction (without it, reads and mo places are chosen in every order)."""
    explore.outcome_counts(engine_test(program, explore), model="rc11")
    explore.outcome_counts(engine_test(program, explore), model="rc11", dpor=False, max_executions=300)


def test_verify_mode_catches_a_missing_edge(monkeypatch):
    """The comparison is not vacuous: an incremental order that forgets the out-edges of a new event (a
    seq_cst read of a stale store, a store placed before others in mo) is caught."""
    monkeypatch.setattr(psc, "VERIFY", True)
    monkeypatch.setattr(psc.ScOrder, "out_edges", lambda self, e, z, zeco: 0)
    program = ((("st", 0, 1, "seq_cst"), ("ld", 1, "seq_cst")), (("st", 1, 1, "seq_cst"), ("ld", 0, "seq_cst")))
    with pytest.raises(ExplorationFailure) as info:
        explore.outcome_counts(engine_test(program, explore))
    assert "psc" in info.value.failure_message
