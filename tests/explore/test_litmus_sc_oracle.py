"""An independent brute-force SC enumerator for litmus tests, and its own checks.

It runs the processes of a parsed litmus test (``thread_program``) under every
interleaving, each shared-memory operation one atomic step on a single memory,
and counts distinct executions (distinct reads-from and modification-order
graphs) per outcome. It shares nothing with the explorer engine but the
litmus interpreter, so it is an oracle for the SC verdicts and SC state sets.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import pytest

from velox.explore.litmus import (
    LitmusTest,
    Op,
    final_outcome,
    parse_litmus,
    tally,
    thread_program,
)


def _apply(op: Op, memory: dict[str, int]) -> Any:
    v = memory[op.loc] if op.loc else 0
    if op.kind in ("load", "read"):
        return v, False
    if op.kind in ("store", "write"):
        memory[op.loc] = op.value
        return None, True
    if op.kind == "fetch_add":
        memory[op.loc] = v + op.value
        return v, True
    if op.kind == "fetch_sub":
        memory[op.loc] = v - op.value
        return v, True
    if op.kind == "exchange":
        memory[op.loc] = op.value
        return v, True
    if op.kind == "cas_strong":
        if v == op.expected:
            memory[op.loc] = op.value
            return (True, v), True
        return (False, v), False
    if op.kind == "fence":
        return None, False
    raise NotImplementedError(f"SC oracle does not model {op.kind}")


def _execute(test: LitmusTest, prefix: list[int]) -> tuple[list[int], list[list[int]], Any, Any]:
    """Run one interleaving: follow ``prefix``, then always the lowest runnable thread."""
    n = len(test.processes)
    programs = [thread_program(test, pid) for pid in range(n)]
    pending: list[Op | None] = [None] * n
    finals: list[dict[str, int] | None] = [None] * n
    for pid, prog in enumerate(programs):
        try:
            pending[pid] = next(prog)
        except StopIteration as stop:
            finals[pid] = stop.value
    memory = dict(test.init)
    last_store: dict[str, Any] = {loc: ("init", loc) for loc in memory}
    mo: dict[str, list[Any]] = {loc: [] for loc in memory}
    rf: list[tuple[Any, Any]] = []
    counters = [0] * n
    trace: list[int] = []
    enabled_sets: list[list[int]] = []
    while True:
        enabled = [pid for pid in range(n) if pending[pid] is not None]
        if not enabled:
            break
        step = len(trace)
        pid = prefix[step] if step < len(prefix) else enabled[0]
        trace.append(pid)
        enabled_sets.append(enabled)
        op = pending[pid]
        assert op is not None
        event = (pid, counters[pid])
        counters[pid] += 1
        reads = op.kind not in ("store", "write", "fence")
        if reads:
            rf.append((event, last_store[op.loc]))
        result, wrote = _apply(op, memory)
        if wrote:
            mo[op.loc].append(event)
            last_store[op.loc] = event
        try:
            pending[pid] = programs[pid].send(result)
        except StopIteration as stop:
            pending[pid] = None
            finals[pid] = stop.value
    outcome = final_outcome(test, [f or {} for f in finals], memory)
    graph = (tuple(sorted(rf)), tuple(sorted((k, tuple(v)) for k, v in mo.items())))
    return trace, enabled_sets, outcome, graph


def sc_outcome_counts(test: LitmusTest) -> Counter:
    """Outcome -> number of distinct SC executions (rf/mo graphs), by exhaustive interleaving."""
    graphs: dict[Any, Any] = {}
    stack: list[list[int]] = [[]]
    while stack:
        prefix = stack.pop()
        trace, enabled_sets, outcome, graph = _execute(test, prefix)
        graphs[graph] = outcome
        for i in range(len(prefix), len(trace)):
            for alt in enabled_sets[i]:
                if alt > trace[i]:
                    stack.append(trace[:i] + [alt])
    return Counter(graphs.values())


def sc_result(test: LitmusTest):
    return tally(test, "sc", sc_outcome_counts(test))


# --------------------------------------------------------------------------
# The oracle's own checks: known SC counts, and a mutant it must reject.
# --------------------------------------------------------------------------

SB = """C SB
{ [x] = 0; [y] = 0; }
P0 (atomic_int* x, atomic_int* y) {
  atomic_store_explicit(x, 1, memory_order_relaxed);
  int r0 = atomic_load_explicit(y, memory_order_relaxed);
}
P1 (atomic_int* x, atomic_int* y) {
  atomic_store_explicit(y, 1, memory_order_relaxed);
  int r0 = atomic_load_explicit(x, memory_order_relaxed);
}
exists (0:r0=0 /\\ 1:r0=0)
"""


def test_oracle_sb_states_and_counts():
    result = sc_result(parse_litmus(SB, "SB"))
    # Under SC, SB has three outcomes; (1,1) arises from four interleavings but one rf graph.
    assert result.states == {(0, 1): 1, (1, 0): 1, (1, 1): 1}
    assert result.observation == "Never"


def test_oracle_counts_rmw_executions():
    text = """C INC
{ x = 0; }
P0 (atomic_int* x) { int r0 = atomic_fetch_add_explicit(x, 1, memory_order_relaxed); }
P1 (atomic_int* x) { int r0 = atomic_fetch_add_explicit(x, 1, memory_order_relaxed); }
forall (x=2)
"""
    result = sc_result(parse_litmus(text, "INC"))
    assert result.states == {(2,): 2}  # two mo orders of the increments
    assert result.observation == "Always"


def test_oracle_rejects_a_lost_update_mutant(monkeypatch):
    """A broken oracle whose fetch_add is a load then a separate store must be caught."""
    text = """C INC
{ x = 0; }
P0 (atomic_int* x) { int r0 = atomic_fetch_add_explicit(x, 1, memory_order_relaxed); }
P1 (atomic_int* x) { int r0 = atomic_fetch_add_explicit(x, 1, memory_order_relaxed); }
exists (x=1)
"""
    test = parse_litmus(text, "INC")
    assert sc_result(test).observation == "Never"
    real = _apply

    def torn(op: Op, memory: dict[str, int]):
        if op.kind == "fetch_add":  # mutant: the RMW reads a stale 0, as a torn load-then-store would
            memory[op.loc] = 0 + op.value
            return 0, True
        return real(op, memory)

    monkeypatch.setattr(sys.modules[__name__], "_apply", torn)
    assert sc_result(test).observation != "Never"


@pytest.mark.parametrize("weak", ["atomic_compare_exchange_weak_explicit(x, &r0, 1, memory_order_relaxed, memory_order_relaxed)"])
def test_oracle_refuses_what_it_does_not_model(weak):
    text = f"C W\n{{ x = 0; }}\nP0 (atomic_int* x) {{ int r0 = 0; int ok = {weak}; }}\nexists (0:ok=1)\n"
    with pytest.raises(NotImplementedError):
        sc_result(parse_litmus(text, "W"))
