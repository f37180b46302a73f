"""The RC11 oracle's own checks (the oracle is ``rc11_oracle.py``): published verdicts, counts, races, a mutant."""

from __future__ import annotations

import rc11_oracle
from rc11_oracle import rc11_result

from velox.explore.litmus import LitmusTest, parse_litmus

# --------------------------------------------------------------------------
# The oracle's own checks
# --------------------------------------------------------------------------

def _t(body: str, cond: str, init: str = "{ [x] = 0; [y] = 0; }") -> LitmusTest:
    return parse_litmus(f"C T\n{init}\n{body}\n{cond}\n", "T")


P = "P{} (atomic_int* x, atomic_int* y) {{ {} }}"


def test_oracle_sb_relaxed_allows_0_0_and_sc_forbids_it():
    rlx = _t(P.format(0, "atomic_store_explicit(x, 1, memory_order_relaxed); int r0 = atomic_load_explicit(y, memory_order_relaxed);")
             + P.format(1, "atomic_store_explicit(y, 1, memory_order_relaxed); int r0 = atomic_load_explicit(x, memory_order_relaxed);"),
             "exists (0:r0=0 /\\ 1:r0=0)")
    assert rc11_result(rlx).observation == "Sometimes"
    assert rc11_result(rlx).states == {(0, 0): 1, (0, 1): 1, (1, 0): 1, (1, 1): 1}
    sc = parse_litmus(str(open(__file__.replace("test_litmus_rc11_oracle.py", "litmus/SB+sc.litmus")).read()), "SB+sc")
    assert rc11_result(sc).observation == "Never"


def test_oracle_counts_2_plus_2w_mo_orders():
    t = _t(P.format(0, "atomic_store_explicit(x, 1, memory_order_relaxed); atomic_store_explicit(y, 2, memory_order_relaxed);")
           + P.format(1, "atomic_store_explicit(y, 1, memory_order_relaxed); atomic_store_explicit(x, 2, memory_order_relaxed);"),
           "exists (x=1 /\\ y=1)")
    r = rc11_result(t)
    assert r.states == {(1, 1): 1, (1, 2): 1, (2, 1): 1, (2, 2): 1}  # four mo combinations, each once


def test_oracle_flags_a_data_race_and_not_a_synchronised_access():
    racy = _t("P0 (int* x, atomic_int* y) { *x = 1; atomic_store_explicit(y, 1, memory_order_relaxed); }\n"
              "P1 (int* x, atomic_int* y) { int r0 = atomic_load_explicit(y, memory_order_acquire); int r1 = *x; }",
              "exists (1:r0=1 /\\ 1:r1=0)")
    assert rc11_result(racy).undef
    fine = _t("P0 (int* x, atomic_int* y) { *x = 1; atomic_store_explicit(y, 1, memory_order_release); }\n"
              "P1 (int* x, atomic_int* y) { int r0 = atomic_load_explicit(y, memory_order_acquire); int r1 = 2; if (r0 == 1) { r1 = *x; } }",
              "exists (1:r0=1 /\\ 1:r1=0)")
    assert not rc11_result(fine).undef


def test_oracle_mutant_without_psc_is_caught(monkeypatch):
    """Dropping the SC axiom must flip SB+sc: the oracle's own gate can fail."""
    mod = rc11_oracle
    sc = parse_litmus(open(__file__.replace("test_litmus_rc11_oracle.py", "litmus/SB+sc.litmus")).read(), "SB+sc")
    real = mod._acyclic
    calls = {"n": 0}

    def no_psc(r):
        calls["n"] += 1
        return True if calls["n"] % 2 == 0 else real(r)  # the 2nd acyclicity check is psc

    monkeypatch.setattr(mod, "_acyclic", no_psc)
    assert rc11_result(sc).observation == "Sometimes"
