"""Golden histories keep the checker honest: each file under histories/ has
a known verdict (hand-derived, explained in its "why"), for the order book
and the FIFO ring models. A checker that says OK to everything fails the
"illegal" ones; one that is too strict fails the "ok" ones."""

from __future__ import annotations

import glob
import os

import pytest

from velox import lincheck

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = sorted(glob.glob(os.path.join(HERE, "histories", "*.json")))


def test_there_are_both_kinds() -> None:
    kinds = {lincheck.load_golden(f).expect for f in FILES}
    assert kinds == {"ok", "illegal"}
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=lambda p: os.path.basename(p)[:-5])
def test_golden_verdict(path: str) -> None:
    g = lincheck.load_golden(path)
    res = lincheck.check_operations(g.model, g.operations)
    want = lincheck.Verdict.OK if g.expect == "ok" else lincheck.Verdict.ILLEGAL
    report = ""
    if res.offending() is not None:
        report = lincheck.render_part(g.model, res.offending(), g.init)
    assert res.verdict is want, f"{os.path.basename(path)}: {g.why}\n{report}"
    if want is lincheck.Verdict.ILLEGAL:
        bad = res.offending()
        assert bad is not None and bad.stuck, "an illegal verdict must name the operations that do not fit"
        assert "longest linearization found" in report


@pytest.mark.parametrize("path", FILES, ids=lambda p: os.path.basename(p)[:-5])
def test_verdict_does_not_depend_on_operation_order(path: str) -> None:
    """The checker sorts by time: listing the operations backwards changes nothing."""
    g = lincheck.load_golden(path)
    a = lincheck.check_operations(g.model, g.operations).verdict
    b = lincheck.check_operations(g.model, list(reversed(g.operations))).verdict
    assert a is b
