"""Every explorer mutant of the catalogue (velox_testing.catalogue, gate "explore") is
caught by the explorer running the mutated C code, with a trace that names the
C operation by file and line; the unmutated code passes the same tests.

These are the ordering bugs x86 hides: no run on this machine can show them,
only the explorer's RC11 semantics can."""

from __future__ import annotations

import pytest

from velox import explore
from velox_testing.explore_c import BID, book_test, mpmc_test, ring_test
from velox_testing.model_mutants import build_model_mutant
from velox_testing.mutants import run_isolated

# The test that exposes each mutant, and the C file its trace must name.
RING_CAP2 = ("ring", dict(capacity=2))
SCENARIOS = {
    # The per-item fast paths are inline functions of vx_ring.h.
    "ring_publish_relaxed": (RING_CAP2, "vx_ring.h"),
    "ring_observe_relaxed": (RING_CAP2, "vx_ring.h"),
    "ring_cache_never_refreshed": (RING_CAP2, "vx_ring.h"),
    # Capacity 4: mask 4 sends indices 0-3 to slot 0 (overwrites) and never past the slots.
    "ring_mask_off_by_one": (("ring", dict(capacity=4)), "vx_ring.h"),
    "book_update_load_store": (("book_contended", {}), "vx_book.c"),
    "mpmc_publish_relaxed": (("mpmc", {}), "vx_mpmc.c"),
    "book_hint_cas_relaxed": (("book_hint_race", {}), "vx_book.c"),
    "book_hint_skip_when_high": (("book_hint_race", {}), "vx_book.c"),
    "book_hint_overwritten": (("book_hint_raise", {}), "vx_book.c"),
    "book_owner_queries_clear": (("book_owner_race", {}), "vx_book.c"),
}


def make_test(m, scenario):
    kind, kw = scenario
    if kind == "ring":
        return ring_test(m, kw["capacity"], 3)
    if kind == "mpmc":
        return mpmc_test(m, 2, [1, 1], 1)
    if kind == "book_contended":
        # Two threads add to the same level at once: a lost update breaks conservation.
        return book_test(m, [[("add", BID, 101, 1)], [("add", BID, 101, 2)]])
    if kind == "book_hint_race":
        # One thread empties a level and queries (clearing the stale bit)
        # while another refills it: the clear must not lose the refill.
        return book_test(m, [[("add", BID, 102, 1), ("remove", BID, 102, 1), ("best", BID, 0, 0)],
                             [("add", BID, 102, 1)]])
    if kind == "book_hint_raise":
        # Adds in descending order: the best must stay the highest level.
        return book_test(m, [[("add", BID, 102, 1), ("add", BID, 101, 1)], [("add", BID, 103, 1)]])
    if kind == "book_owner_race":
        # The single writer empties a level and fills its neighbour in the same word while another
        # thread queries: a query that wrote the word would race the writer's plain load and store.
        return book_test(m, [[("owner_add", BID, 102, 1), ("owner_remove", BID, 102, 1), ("owner_add", BID, 101, 1)],
                             [("best", BID, 0, 0)]])
    raise KeyError(kind)


def _one_mutant_per_scenario() -> list[str]:
    """Mutants sharing a scenario need the shipping code explored only once."""
    first: dict[str, str] = {}
    for name in sorted(SCENARIOS):
        first.setdefault(repr(SCENARIOS[name][0]), name)
    return sorted(first.values())


@pytest.mark.parametrize("name", _one_mutant_per_scenario())
def test_shipping_code_passes(core, name):
    scenario, _ = SCENARIOS[name]
    stats = explore.check(make_test(core, scenario))
    assert stats.complete, stats


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_mutant_caught(name):
    from velox_testing.catalogue import for_gate

    assert name in {m.name for m in for_gate("explore")}
    scenario, cfile = SCENARIOS[name]
    m = build_model_mutant(name)

    def explore_mutant():
        try:
            explore.check(make_test(m, scenario))
        except explore.ExplorationFailure as e:
            return str(e)
        return None

    # In a forked child: a mutant may corrupt memory (the C code really runs).
    result = run_isolated(explore_mutant, timeout=240)
    assert result["ok"], result.get("traceback") or result["error"]
    report = result["value"]
    assert report is not None, f"the explorer passed mutant {name}"
    assert cfile + ":" in report, f"the trace does not name {cfile}:\n{report}"
    print(report.splitlines()[0])


def test_every_explore_mutant_has_a_scenario():
    from velox_testing.catalogue import for_gate

    assert {m.name for m in for_gate("explore")} == set(SCENARIOS)
