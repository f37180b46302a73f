"""The mutant catalogue stays applicable: every edit's text is found exactly
once in today's sources (so a refactor cannot silently turn a mutant into the
correct code), a missing text fails loudly, and mutating never touches the
shipping sources. No compiler runs here; tests/stateful/test_mutants_caught.py
builds and hunts the mutants."""

from __future__ import annotations

from pathlib import Path

import pytest

from velox_testing.catalogue import (
    GATES,
    MUTANTS,
    Edit,
    Mutant,
    MutantRotError,
    apply_edits,
    for_gate,
    table,
)
from velox_testing.mutants import mutant_sources, shipping_sources


@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutant_applies_to_current_sources(name: str) -> None:
    before = shipping_sources()
    mutated = mutant_sources(name)
    changed = {f for f in mutated if mutated[f] != before[f]}
    assert changed == {e.file for e in MUTANTS[name].edits}
    assert shipping_sources() == before, "building the mutated copy must not touch velox/_native/"


def test_missing_text_fails_loudly() -> None:
    rotten = Mutant(name="rotten", description="targets code that is gone", caught_by=(),
                    edits=(Edit(file="vx_ring.c", old="this text is not in the ring", new="x"),))
    with pytest.raises(MutantRotError, match="contains the text to replace 0 times"):
        apply_edits(rotten, shipping_sources())


def test_ambiguous_text_fails_loudly() -> None:
    ambiguous = Mutant(name="ambiguous", description="matches twice", caught_by=(),
                       edits=(Edit(file="vx_ring.c", old="return", new="return"),))
    with pytest.raises(MutantRotError, match="need exactly 1"):
        apply_edits(ambiguous, shipping_sources())


def test_missing_file_fails_loudly() -> None:
    gone = Mutant(name="gone", description="file removed", caught_by=(), edits=(Edit(file="vx_gone.c", old="a", new="b"),))
    with pytest.raises(MutantRotError, match="not in velox/_native"):
        apply_edits(gone, shipping_sources())


def test_unknown_mutant_name() -> None:
    with pytest.raises(KeyError, match="no mutant 'nope'"):
        mutant_sources("nope")


def test_every_stateful_machine_has_mutants() -> None:
    for gate in ("ring", "mpmc", "book", "bundle"):
        assert for_gate(gate), f"no mutant proves the {gate} machine can fail"


def test_every_gate_is_named_and_has_mutants() -> None:
    named = {g for m in MUTANTS.values() for g in m.caught_by}
    assert named <= set(GATES), f"gates without a test in GATES: {named - set(GATES)}"
    assert set(GATES) <= named, f"gates no mutant proves can fail: {set(GATES) - named}"


def test_docs_table_is_derived_from_the_catalogue() -> None:
    """docs/mutants.md carries the table ``python -m velox_testing.catalogue
    --table`` prints, so the gate map has one source."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "mutants.md").read_text()
    assert table() in docs, "docs/mutants.md is stale: paste `python -m velox_testing.catalogue --table` into it"
