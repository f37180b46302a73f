"""Proof that the stateful gate can fail: each machine, run against a
deliberately wrong native build from velox_testing.catalogue, finds a
failure; run against the unmutated build made by the same builder, it passes.

Each run uses the machines' own example and step budget (the loaded profile,
scaled as in the machine modules) with a fixed seed
(``derandomize``) and no example database (a saved counterexample would make
the hunt trivially short), in a forked child because some mutants write out
of bounds. The number of examples until the first failure is printed, for the
report (``pytest -s`` shows it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest
from _lockstep import scaled_settings
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from test_book_machine import book_machine
from test_bundle_machine import bundle_machine
from test_mpmc_machine import mpmc_machine
from test_ring_machine import ring_machine

from velox_testing.catalogue import for_gate
from velox_testing.mutants import build_core_mutant, prebuild, run_isolated

MACHINES: dict[str, Callable[[Any], Any]] = {"ring": ring_machine, "mpmc": mpmc_machine, "book": book_machine,
                                             "bundle": bundle_machine}
HUNT_CAP = 300
CASES = [(gate, m.name) for gate in MACHINES for m in for_gate(gate)]


@pytest.fixture(scope="module", autouse=True)
def _built() -> None:
    """Build every mutant this module hunts (and the control) up front, two
    compilers at a time; cached builds make this instant."""
    prebuild([None] + sorted({m for _, m in CASES}), jobs=2)


def _hunt(gate: str, mutant: str | None) -> dict[str, Any]:
    """Build ``mutant`` (None: unmutated), run the gate's machine on it in a
    child process; returns what happened."""
    module = build_core_mutant(mutant)
    # The shipping machines' budget, capped so that the nightly profile does
    # not spend an hour re-running controls the shipping machines already run.
    budget = scaled_settings(3)
    max_examples = min(budget.max_examples, HUNT_CAP)

    def run() -> dict[str, Any]:
        machine = MACHINES[gate](module)
        hunt = settings(max_examples=max_examples, stateful_step_count=budget.stateful_step_count,
                        database=None, derandomize=True, deadline=None, phases=[Phase.generate],
                        suppress_health_check=list(HealthCheck), print_blob=False)
        try:
            run_state_machine_as_test(machine, settings=hunt)
        except AssertionError as exc:
            return {"caught": True, "after": machine.first_failure_at, "examples": machine.examples,
                    "why": str(exc).splitlines()[0][:300]}
        return {"caught": False, "examples": machine.examples}

    res = run_isolated(run)
    if not res["ok"]:
        # A crash or an unexpected exception in the child: report it as is.
        return {"caught": res["error"].startswith("crashed"), "why": res["error"], "after": None,
                "traceback": res.get("traceback", "")}
    return res["value"]


@pytest.mark.parametrize("gate,mutant", CASES, ids=[f"{g}-{m}" for g, m in CASES])
def test_machine_catches_mutant(gate: str, mutant: str) -> None:
    res = _hunt(gate, mutant)
    print(f"\n{gate} machine vs {mutant}: caught={res['caught']} after {res.get('after')} examples: "
          f"{res.get('why')}", file=sys.stderr)
    assert res["caught"], (
        f"the {gate} machine did not catch mutant {mutant} within the ci budget "
        f"({res.get('examples')} examples): the gate is too weak for this bug\n{res.get('traceback', '')}")


@pytest.mark.parametrize("gate", list(MACHINES))
def test_machine_passes_unmutated_build(gate: str) -> None:
    """Control: the builder itself changes nothing, so the hunt must come up empty."""
    res = _hunt(gate, None)
    assert not res["caught"] and "traceback" not in res, (
        f"the {gate} machine failed on the unmutated build: {res.get('why')}\n{res.get('traceback', '')}")
    assert res["examples"] >= min(scaled_settings(3).max_examples, HUNT_CAP) // 2, f"the control ran only {res['examples']} examples"


def test_falsifying_program_replays() -> None:
    """Hypothesis's report is the replayable artifact: the falsifying program
    it prints for a caught mutant, run as printed, fails again."""
    module = build_core_mutant("ring_overwrites_when_full")

    def run() -> dict[str, Any]:
        machine = ring_machine(module)
        try:
            run_state_machine_as_test(machine, settings=settings(
                max_examples=200, database=None, derandomize=True, deadline=None,
                suppress_health_check=list(HealthCheck), print_blob=False))
        except AssertionError as exc:
            # Hypothesis puts the program in the exception's notes; versions
            # differ in the header line around it, so take it from the
            # machine's constructor line to its teardown.
            notes = "\n".join(getattr(exc, "__notes__", [])) + "\n" + str(exc)
            start = notes.find(f"state = {machine.__name__}()")
            end = notes.find("state.teardown()", start)
            if start < 0 or end < 0:
                return {"program": None, "notes": notes[-2000:]}
            return {"program": notes[start:end + len("state.teardown()")] + "\n", "name": machine.__name__}
        return {"program": None}

    res = run_isolated(run)
    assert res["ok"] and res["value"]["program"], res
    program, name = res["value"]["program"], res["value"]["name"]
    assert program.startswith(f"state = {name}()\n") and "state.teardown()" in program, program

    def replay() -> str:
        try:
            exec(program, {name: ring_machine(module)})  # noqa: S102 - Hypothesis's own output
        except AssertionError as exc:
            return str(exc).splitlines()[0]
        return "replayed without failing"

    replayed = run_isolated(replay)
    assert replayed["ok"] and replayed["value"].startswith("native and model disagree"), (replayed, program)
