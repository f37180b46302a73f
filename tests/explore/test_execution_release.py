"""A finished execution is freed by reference counting: the search breaks its cycles (``Execution.dispose``),
so no execution's graph is left for the cyclic garbage collector, which used to traverse every one of them
again and again (about a tenth of an exploration's time)."""

from __future__ import annotations

import gc

import pytest

from velox import explore
from velox.explore.rt.execution import Execution
from velox_testing.shapes import cas_counter, iriw


def _cyclic_garbage(test, **kw) -> dict[str, int]:
    """Objects of the engine that only the cyclic collector would have freed, by type, after one check()."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        explore.check(test, **kw)
        gc.collect()
        found: dict[str, int] = {}
        for o in gc.garbage:
            name = type(o).__name__
            if name in ("Execution", "ModelThread", "Event", "Loc"):
                found[name] = found.get(name, 0) + 1
        return found
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()


@pytest.mark.parametrize("test", [cas_counter(2, 2, True), cas_counter(2, 3, False), iriw("acquire")],
                         ids=["weak-counter", "strong-counter", "iriw"])
def test_finished_executions_leave_no_cyclic_garbage(test):
    assert _cyclic_garbage(test) == {}


def test_mutant_without_dispose_leaves_every_execution_to_the_collector(monkeypatch):
    monkeypatch.setattr(Execution, "dispose", lambda self: None)
    found = _cyclic_garbage(cas_counter(2, 3, False))
    assert found.get("Execution", 0) > 400 and found.get("Event", 0) > 4000, found  # of 496 executions
