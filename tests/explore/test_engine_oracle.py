"""The engine against the brute-force RC11 oracle (rc11_oracle.py), on seeded random programs.

For every program, the engine's outcome_counts (outcome -> number of distinct
execution graphs) must equal the oracle's exactly: same outcomes (soundness and
completeness) and the same number of graphs per outcome (each graph explored and
counted once). Checked with DPOR on and off, under rc11 and sc. The mutant tests
at the bottom show the comparison catches a broken engine.
"""

from __future__ import annotations

import random

import pytest
from rc11_oracle import engine_test, oracle_counts, random_op

from velox import explore
from velox.explore.rt import execution as _execution
from velox.explore.rt import psc as _psc

SEED = 20261125
ORDERS_LD = ("relaxed", "acquire", "seq_cst")
ORDERS_ST = ("relaxed", "release", "seq_cst")
ORDERS_RMW = ("relaxed", "acquire", "release", "acq_rel", "seq_cst")
ORDERS_F = ("acquire", "release", "acq_rel", "seq_cst")


def cas_orders(rng: random.Random) -> tuple[str, str]:
    """A compare-exchange's (success, failure) orders: failure is relaxed, acquire
    (when success acquires) or seq_cst (when success is)."""
    success = rng.choice(ORDERS_RMW)
    failure = rng.choice([f for f in ("relaxed", "acquire", "seq_cst")
                          if f == "relaxed" or (f == "acquire" and success in ("acquire", "acq_rel", "seq_cst"))
                          or success == "seq_cst"])
    return success, failure


ORDERS = {"ld": ORDERS_LD, "st": ORDERS_ST, "rmw": ORDERS_RMW, "fence": ORDERS_F, "cas": cas_orders}


def random_program(rng: random.Random) -> tuple:
    """A small straight-line program: 2-3 threads of 1-2 operations on 1-2 locations."""
    nthreads = rng.choice((2, 2, 3))
    nlocs = rng.choice((1, 2, 2))
    threads = []
    value = 1
    for _ in range(nthreads):
        ops = []
        for _ in range(rng.choice((1, 2, 2))):
            kind = rng.choice(("ld", "ld", "st", "st", "faa", "xchg", "cas", "fence"))
            op, value = random_op(rng, kind, rng.randrange(nlocs), value, ORDERS)
            ops.append(op)
        threads.append(tuple(ops))
    return tuple(threads)


# Classic shapes first (they exercise psc, 2+2W and RMW atomicity for sure), then random ones.
CLASSIC = {
    "SB+sc": ((("st", 0, 1, "seq_cst"), ("ld", 1, "seq_cst")), (("st", 1, 1, "seq_cst"), ("ld", 0, "seq_cst"))),
    "SB+rlx": ((("st", 0, 1, "relaxed"), ("ld", 1, "relaxed")), (("st", 1, 1, "relaxed"), ("ld", 0, "relaxed"))),
    "2+2W+rlx": ((("st", 0, 1, "relaxed"), ("st", 1, 2, "relaxed")), (("st", 1, 1, "relaxed"), ("st", 0, 2, "relaxed"))),
    "2+2W+sc": ((("st", 0, 1, "seq_cst"), ("st", 1, 2, "seq_cst")), (("st", 1, 1, "seq_cst"), ("st", 0, 2, "seq_cst"))),
    "MP+rel+acq": ((("st", 0, 1, "relaxed"), ("st", 1, 1, "release")), (("ld", 1, "acquire"), ("ld", 0, "relaxed"))),
    "LB": ((("ld", 0, "relaxed"), ("st", 1, 1, "relaxed")), (("ld", 1, "relaxed"), ("st", 0, 1, "relaxed"))),
    "CAS+CAS": ((("cas", 0, 0, 1, "relaxed", "relaxed"),), (("cas", 0, 0, 2, "relaxed", "relaxed"),)),
    "FAA+FAA+ld": ((("faa", 0, 1, "relaxed"),), (("faa", 0, 1, "relaxed"),), (("ld", 0, "relaxed"),)),
    "S+fences": ((("st", 0, 2, "relaxed"), ("fence", "seq_cst"), ("st", 1, 1, "relaxed")),
                 (("ld", 1, "relaxed"), ("fence", "seq_cst"), ("st", 0, 1, "relaxed"))),
    "R+sc": ((("st", 0, 1, "seq_cst"), ("st", 1, 1, "seq_cst")), (("st", 1, 2, "seq_cst"), ("ld", 0, "seq_cst"))),
    "MP+fences": ((("st", 0, 1, "relaxed"), ("fence", "release"), ("st", 1, 1, "relaxed")),
                  (("ld", 1, "relaxed"), ("fence", "acquire"), ("ld", 0, "relaxed"))),
    "RS+rmw": ((("st", 0, 1, "relaxed"), ("st", 1, 1, "release")), (("faa", 1, 1, "relaxed"),),
               (("ld", 1, "acquire"), ("ld", 0, "relaxed"))),
}


def programs(n: int) -> list[tuple[str, tuple]]:
    rng = random.Random(SEED)
    out = list(CLASSIC.items())
    out += [(f"random{i}", random_program(rng)) for i in range(n)]
    return out


PROGRAMS = programs(40)


def disagreement(program: tuple, model: str, dpor: bool) -> str | None:
    """None when engine and oracle agree exactly, else a description of the difference."""
    want = oracle_counts(program, model)
    got = explore.outcome_counts(engine_test(program, explore), model=model, dpor=dpor)
    if dict(got) == dict(want):
        return None
    missing = {k: v for k, v in want.items() if got.get(k) != v}
    extra = {k: v for k, v in got.items() if want.get(k) != v}
    return f"program {program} under {model} (dpor={dpor}): oracle-only/different {missing}, engine-only/different {extra}"


@pytest.mark.parametrize("name, program", PROGRAMS, ids=[n for n, _ in PROGRAMS])
def test_engine_matches_oracle_rc11(name, program):
    print(f"oracle program seed {SEED}: {name} = {program}")
    assert disagreement(program, "rc11", True) is None


@pytest.mark.parametrize("name, program", PROGRAMS[:24], ids=[n for n, _ in PROGRAMS[:24]])
def test_engine_without_dpor_matches_oracle(name, program):
    assert disagreement(program, "rc11", False) is None


@pytest.mark.parametrize("name, program", PROGRAMS[:24], ids=[n for n, _ in PROGRAMS[:24]])
def test_engine_matches_oracle_sc(name, program):
    assert disagreement(program, "sc", True) is None


def test_oracle_itself_gives_the_published_verdicts():
    """The oracle is a checker too: it must forbid what RC11 forbids and allow what it allows."""
    def seen(name, model, pred):
        return any(pred(outcome) for outcome in oracle_counts(CLASSIC[name], model))

    both_zero = lambda o: o[0] == ((0,), (0,))
    assert seen("SB+rlx", "rc11", both_zero)
    assert not seen("SB+sc", "rc11", both_zero)
    assert not seen("SB+rlx", "sc", both_zero)
    assert not seen("MP+rel+acq", "rc11", lambda o: o[0] == ((), (1, 0)))
    assert not seen("LB", "rc11", lambda o: o[0] == ((1,), (1,)))
    assert seen("2+2W+rlx", "rc11", lambda o: o[1] == (1, 1))
    assert not seen("2+2W+sc", "rc11", lambda o: o[1] == (1, 1))
    assert not seen("CAS+CAS", "rc11", lambda o: o[0] == ((0,), (0,)))


# ---------------------------------------------------------------- mutants
def _caught(monkeypatch_ctx, names) -> list[str]:
    return [n for n in names if disagreement(CLASSIC[n], "rc11", True) is not None]


def test_gate_catches_an_engine_without_psc(monkeypatch):
    monkeypatch.setattr(_psc.ScOrder, "add", lambda self, e: True)
    assert _caught(monkeypatch, ["SB+sc", "2+2W+sc", "R+sc"])


def test_gate_catches_an_engine_without_revisits(monkeypatch):
    monkeypatch.setattr(_execution.Execution, "push_revisits", lambda self, w: None)
    assert _caught(monkeypatch, ["SB+rlx", "MP+rel+acq", "2+2W+rlx"])


def test_gate_catches_an_engine_ignoring_read_coherence(monkeypatch):
    monkeypatch.setattr(_execution.Execution, "read_options",
                        lambda self, t, loc: list(range(len(loc.mo) - 1, -1, -1)))
    assert _caught(monkeypatch, ["MP+rel+acq", "RS+rmw", "FAA+FAA+ld"])


def test_gate_catches_an_engine_whose_release_does_not_synchronise(monkeypatch):
    real = _execution.Execution.apply_write

    def no_release(self, t, e, after):
        real(self, t, e, after)
        e.msg = 0

    monkeypatch.setattr(_execution.Execution, "apply_write", no_release)
    assert _caught(monkeypatch, ["MP+rel+acq", "MP+fences", "RS+rmw"])


# ---------------------------------------------------------------- optimality
def duplicated(program: tuple, model: str = "rc11", cap: int | None = None) -> int:
    """Executions that rebuilt a graph already explored (0 for an optimal search)."""
    stats = explore.check(engine_test(program, explore), model=model, max_executions=cap)
    return stats.executions - stats.distinct


@pytest.mark.parametrize("name, program", PROGRAMS, ids=[n for n, _ in PROGRAMS])
def test_dpor_builds_each_graph_exactly_once(name, program):
    assert duplicated(program) == 0


def test_gate_catches_revisits_without_the_maximality_condition(monkeypatch):
    monkeypatch.setattr(_execution.Execution, "maximal", lambda self, r, w, keep, w_is_rmw: True)
    # Without the condition (and without a record of graphs seen) duplicates multiply: cap the runs.
    programs = dict(PROGRAMS)
    assert sum(duplicated(programs[n], cap=300) for n in ("random10", "random15", "random32")) > 0


def test_gate_catches_a_maximality_condition_that_drops_rmw_revisits(monkeypatch):
    real = _execution.Execution.maximal
    monkeypatch.setattr(_execution.Execution, "maximal",
                        lambda self, r, w, keep, w_is_rmw: False if w_is_rmw else real(self, r, w, keep, w_is_rmw))
    assert _caught(monkeypatch, ["CAS+CAS", "FAA+FAA+ld", "RS+rmw"])
