"""Stress-suite fixtures: run length, seeds, live progress and the summary.

Run length per test: ``--stress-seconds`` (registered in tests/conftest.py),
else ``$VELOX_STRESS_SECONDS``, else ``DEFAULT_SECONDS`` (a short run when
``-m stress`` is selected without a length; hours overnight). Seeds:
``$VELOX_STRESS_SEED`` pins one, otherwise each test draws one; either way it
is printed at the start and in every failure, with the command that
reproduces the run.

Progress: about once a second each running test writes a line (ops/s,
checks passed, violations) to stderr (shown with ``-s``) and, if
``$VELOX_STRESS_LOG`` names a file, appends it there (ci/stress.sh tails that
file, which also works under pytest-xdist where worker output is hidden).
Totals travel to the controller as ``user_properties`` (xdist forwards them)
and ``pytest_terminal_summary`` prints one table for the whole session.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

#: Seconds per stress test when selected without --stress-seconds or the env var.
DEFAULT_SECONDS = 10.0
_PROGRESS_EVERY = 1.0
_SUMMARY: list[dict[str, Any]] = []


def stress_seconds_from(config: pytest.Config) -> float:
    """The run length per stress test, validated (a clear error, not a crash)."""
    opt = config.getoption("--stress-seconds")
    if opt is not None:
        value, source = opt, "--stress-seconds"
    elif os.environ.get("VELOX_STRESS_SECONDS"):
        raw = os.environ["VELOX_STRESS_SECONDS"]
        try:
            value = float(raw)
        except ValueError:
            raise pytest.UsageError(f"VELOX_STRESS_SECONDS must be a number of seconds, got {raw!r}") from None
        source = "VELOX_STRESS_SECONDS"
    else:
        value, source = DEFAULT_SECONDS, "default"
    if not 0 < value <= 7 * 24 * 3600:
        raise pytest.UsageError(f"{source} must be in (0, 604800] seconds, got {value}")
    return float(value)


@pytest.fixture
def stress_seconds(request: pytest.FixtureRequest) -> float:
    return stress_seconds_from(request.config)


@pytest.fixture
def stress_seed() -> int:
    raw = os.environ.get("VELOX_STRESS_SEED")
    if raw:
        try:
            return int(raw, 0)
        except ValueError:
            raise pytest.UsageError(f"VELOX_STRESS_SEED must be an integer, got {raw!r}") from None
    return random.SystemRandom().randrange(1, 2**63)


def _emit(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
    path = os.environ.get("VELOX_STRESS_LOG")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


@dataclass
class StressTally:
    """Running totals of one stress test, printed live and in the summary."""

    name: str
    seed: int
    params: dict[str, Any]
    seconds: float
    reproduce: str
    ops: int = 0
    checks: int = 0
    violations: int = 0
    timeouts: int = 0
    slices: int = 0
    first_violation: str = ""
    extra: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    _last_print: float = field(default_factory=time.monotonic)

    def add(self, r: dict[str, Any]) -> None:
        """Add one slice's counts (a driver's result dict)."""
        self.slices += 1
        self.ops += r["ops"]
        self.checks += r["checks"]
        self.violations += r["violations"]
        self.timeouts += r.get("timeouts", 0)
        if r["violations"] and not self.first_violation:
            self.first_violation = r.get("first_violation", "") or "(no description)"
        now = time.monotonic()
        if now - self._last_print >= _PROGRESS_EVERY:
            self._last_print = now
            _emit(self.progress_line())

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def time_left(self) -> float:
        return self.seconds - self.elapsed()

    def progress_line(self) -> str:
        el = max(self.elapsed(), 1e-9)
        extra = "".join(f" {k}={v}" for k, v in self.extra.items())
        return (f"[stress] {self.name}: {el:6.1f}/{self.seconds:.0f}s {self.ops / el / 1e6:8.2f} Mops/s "
                f"ops={self.ops} checks_passed={self.checks - self.violations} violations={self.violations}"
                f" timeouts={self.timeouts}{extra}")

    def failure_message(self) -> str:
        return (f"{self.name}: {self.violations} violation(s) in {self.checks} checks over {self.ops} operations\n"
                f"first: {self.first_violation}\n"
                f"seed={self.seed} params={self.params}\n"
                f"reproduce: {self.reproduce}")


@pytest.fixture
def stress_tally(request: pytest.FixtureRequest, stress_seconds: float, stress_seed: int
                 ) -> Callable[..., StressTally]:
    """Make the test's tally: ``stress_tally(**params)``; prints the seed now
    and records the totals for the session summary when the test ends."""
    made: list[StressTally] = []

    def make(**params: Any) -> StressTally:
        nodeid = request.node.nodeid
        reproduce = (f"VELOX_STRESS_SEED={stress_seed} python -m pytest -m stress '{nodeid}' "
                     f"--stress-seconds {stress_seconds:g} -p no:xdist -s")
        t = StressTally(name=request.node.name, seed=stress_seed, params=params, seconds=stress_seconds,
                        reproduce=reproduce)
        _emit(f"[stress] {t.name}: start seed={stress_seed} seconds={stress_seconds:g} params={params}")
        made.append(t)
        return t

    yield make
    for t in made:
        _emit(t.progress_line().replace("[stress]", "[stress] done"))
        request.node.user_properties.append(("velox_stress", json.dumps({
            "name": t.name, "ops": t.ops, "checks": t.checks, "violations": t.violations,
            "timeouts": t.timeouts, "seconds": round(t.elapsed(), 1), "seed": t.seed, **t.extra})))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "teardown":  # the tally is recorded by the fixture's teardown
        return
    for key, value in getattr(report, "user_properties", ()):
        if key == "velox_stress":
            _SUMMARY.append(json.loads(value))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _SUMMARY:
        return
    tr = terminalreporter
    tr.section("velox stress summary")
    tr.write_line(f"{'test':<52} {'seconds':>8} {'operations':>14} {'checks':>14} {'violations':>10}")
    tot = {"ops": 0, "checks": 0, "violations": 0}
    for row in sorted(_SUMMARY, key=lambda r: r["name"]):
        tr.write_line(f"{row['name'][:52]:<52} {row['seconds']:>8} {row['ops']:>14} {row['checks']:>14} "
                      f"{row['violations']:>10}")
        for k in tot:
            tot[k] += row[k]
    tr.write_line(f"{'TOTAL':<52} {'':>8} {tot['ops']:>14} {tot['checks']:>14} {tot['violations']:>10}")
