"""A pytest plugin that spreads one exploration over many test items (and so over xdist workers).

Enable it with ``-p velox.explore.pytest_shards`` (or ``pytest_plugins`` in a root conftest). A test
that asks for the ``explore_check`` fixture is collected ``--explore-shards=N`` times (default 1, or
``$VELOX_EXPLORE_SHARDS``), as ``test[shard0of3]``, ``test[shard1of3]``...; each item explores one
disjoint part (``velox.explore.check(..., shard=(i, N))``). pytest-xdist then runs the items on its
workers, on this host or others (``-n``, ``--dist``, ``--tx``), and the plugin prints one combined
verdict per test at the end: COMPLETE only when all N parts ran and each was complete.

    def test_book_three_threads(explore_check):
        stats = explore_check(book_body)
        assert stats.complete, stats          # this shard's part

A failing execution fails the item of the shard that found it, with its trace and replay token.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from . import _explorer

_KEY = "velox_explore_shard"
_ID = re.compile(r"shard(\d+)of(\d+)")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--explore-shards", type=int, default=None,
        help="split each exploration that uses the explore_check fixture into N disjoint shards, one test "
             "item each, so pytest-xdist can run them in parallel; a combined verdict is printed per test "
             "(default: $VELOX_EXPLORE_SHARDS or 1)")


def _shards(config: pytest.Config) -> int:
    n = config.getoption("--explore-shards")
    if n is None:
        raw = os.environ.get("VELOX_EXPLORE_SHARDS", "1").strip() or "1"
        try:
            n = int(raw)
        except ValueError:
            raise pytest.UsageError(f"VELOX_EXPLORE_SHARDS must be an integer, got {raw!r}") from None
    if n < 1:
        raise pytest.UsageError(f"--explore-shards must be >= 1, got {n}")
    return n


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "explore_check" in metafunc.fixturenames:
        n = _shards(metafunc.config)
        metafunc.parametrize("_explore_shard", [(i, n) for i in range(n)],
                             ids=[f"shard{i}of{n}" for i in range(n)])


@pytest.fixture
def _explore_shard() -> tuple[int, int]:
    return (0, 1)  # replaced by the parametrization above


@pytest.fixture
def explore_check(request: pytest.FixtureRequest, _explore_shard: tuple[int, int]) -> Any:
    """``explore_check(test, **kw)``: ``velox.explore.check`` on this item's shard; records its Stats."""
    def run(test: Any, **kw: Any) -> _explorer.Stats:
        if "shard" in kw:
            raise TypeError("explore_check chooses the shard itself (--explore-shards)")
        stats = _explorer.check(test, shard=_explore_shard if _explore_shard[1] > 1 else None, **kw)
        request.node.user_properties.append((_KEY, json.dumps({
            "shard": list(_explore_shard), "executions": stats.executions, "blocked": stats.blocked,
            "distinct": stats.distinct, "wall_time": stats.wall_time, "complete": stats.complete,
            "reason": stats.incomplete_reason, "model": stats.model,
            "assumptions": list(stats.assumptions)})))
        return stats

    return run


class _Verdicts:
    def __init__(self) -> None:
        self.parts: dict[str, list[dict]] = {}
        self.failed: dict[str, list[int]] = {}

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        m = _ID.search(report.nodeid)
        base = _ID.sub("shard", report.nodeid) if m else report.nodeid
        for key, value in report.user_properties:
            if key == _KEY:
                self.parts.setdefault(base, []).append(json.loads(value))
        if report.failed and m:
            self.failed.setdefault(base, []).append(int(m.group(1)))

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.parts and not self.failed:
            return
        terminalreporter.section("velox.explore combined verdicts")
        for base in sorted(set(self.parts) | set(self.failed)):
            terminalreporter.write_line(f"{base}: {self.verdict(base)}")

    def verdict(self, base: str) -> str:
        parts = self.parts.get(base, [])
        if self.failed.get(base):
            return f"FAILED (shard {sorted(self.failed[base])})"
        stats = [_explorer.Stats(executions=p["executions"], blocked=p["blocked"], distinct=p["distinct"],
                                 wall_time=p["wall_time"], complete=p["complete"], model=p["model"],
                                 incomplete_reason=p["reason"], assumptions=tuple(p["assumptions"]),
                                 shard=tuple(p["shard"]) if p["shard"][1] > 1 else None) for p in parts]
        try:
            combined = _explorer.combine(stats)
        except ValueError as exc:
            return f"INCOMPLETE ({exc})"
        return str(combined).replace("velox.explore: ", "", 1)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_Verdicts(), "velox-explore-verdicts")
