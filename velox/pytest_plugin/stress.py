"""Stress tests: how long each runs, its seed, live progress and the summary.

A stress test is marked ``@pytest.mark.stress`` and takes its run length from
the ``stress_seconds`` fixture (directly or through ``stress_tally``); the
plugin refuses a selected stress test that does not, because nothing could
then bound the session. Long work that cannot honour a time budget (an
exhaustive exploration, say) gets a marker of its own.

Run length per test, first found wins:

* ``--stress-seconds S``: every stress test runs S seconds;
* ``--stress-budget T`` (``8h``, ``90m``, ``600``): the whole session's
  length. The tests run in ``ceil(tests / workers)`` rounds over the
  pytest-xdist workers, and each gets an equal share of what is left of T
  after a reserve for start-up, builds and each test's setup
  (``share_of_budget``), so the session ends within T;
* ``$VELOX_STRESS_SECONDS``, then ``$VELOX_STRESS_BUDGET``, the same;
* ``DEFAULT_SECONDS`` per test.

Seeds: ``--stress-seed`` or ``$VELOX_STRESS_SEED`` pins one, otherwise each
test draws one; either way it is printed at the start and in every failure,
with the command that reproduces the run.

Progress: about once a second each running tally writes a line (ops/s,
checks passed, violations) to stderr (shown with ``-s``) and, if
``$VELOX_STRESS_LOG`` names a file, appends it there (that also works under
pytest-xdist, where worker output is hidden). Totals travel to the controller
as ``user_properties`` (xdist forwards them) and the terminal summary prints
one table for the whole session.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

#: Seconds per stress test when selected without a length or a budget.
DEFAULT_SECONDS = 10.0
#: Longest accepted run length or budget: a week.
MAX_SECONDS = 7 * 24 * 3600.0
#: Kept back from a --stress-budget: a share of it (a loaded machine starts everything slower)...
RESERVE_FRACTION = 0.05
#: ...the session's start-up (collection, pytest-xdist workers, native builds inside tests)...
STARTUP_SECONDS = 120.0
#: ...and each test's setup, teardown and the overrun of its last slice.
PER_TEST_SECONDS = 5.0
#: The shortest share of a budget a stress test may get.
MIN_SHARE_SECONDS = 1.0
_PROGRESS_EVERY = 1.0
_LENGTH_KEY = pytest.StashKey[float]()
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str, what: str) -> float:
    """Seconds from ``"3600"``, ``"90s"``, ``"45m"``, ``"8h"`` or ``"1.5d"``; ValueError otherwise."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([smhd]?)\s*", str(text))
    if not m:
        raise ValueError(f"{what} must be a duration like 3600, 90s, 45m or 8h, got {text!r}")
    value = float(m.group(1)) * _UNITS[m.group(2)]
    if not 0 < value <= MAX_SECONDS:
        raise ValueError(f"{what} must be more than 0 and at most {MAX_SECONDS:.0f} seconds (a week), got {text!r}")
    return value


def _duration_option(what: str) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            return parse_duration(text, what)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return convert


def _seed_option(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None


def addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("velox-stress", "velox stress tests (select with -m stress)")
    group.addoption("--stress-seconds", type=_duration_option("--stress-seconds"), default=None, metavar="S",
                    help=f"seconds each stress test runs (default: $VELOX_STRESS_SECONDS, else a share of "
                         f"--stress-budget, else {DEFAULT_SECONDS:g})")
    group.addoption("--stress-budget", type=_duration_option("--stress-budget"), default=None, metavar="T",
                    help="wall-clock length of the whole stress session (3600, 90m, 8h; default: "
                         "$VELOX_STRESS_BUDGET): each selected stress test gets an equal share, counting "
                         "pytest-xdist workers, so the run ends within T")
    group.addoption("--stress-seed", type=_seed_option, default=None, metavar="N",
                    help="seed every stress test with N (default: $VELOX_STRESS_SEED, else a fresh seed per "
                         "test, printed)")


def configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "stress: a long run sized by the stress_seconds fixture (--stress-seconds per test, or a "
        "--stress-budget for the session); select with -m stress",
    )
    config.pluginmanager.register(StressSession(config), "velox-stress-session")


def _env_duration(name: str) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_duration(raw, name)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def _length_settings(config: pytest.Config) -> tuple[str, float, str]:
    """("seconds" | "budget", value, where it came from), command line first, then the environment."""
    seconds, budget = config.getoption("--stress-seconds"), config.getoption("--stress-budget")
    if seconds is not None and budget is not None:
        raise pytest.UsageError("give --stress-seconds (per test) or --stress-budget (the whole run), not both")
    if seconds is not None:
        return "seconds", seconds, "--stress-seconds"
    if budget is not None:
        return "budget", budget, "--stress-budget"
    env_seconds, env_budget = _env_duration("VELOX_STRESS_SECONDS"), _env_duration("VELOX_STRESS_BUDGET")
    if env_seconds is not None and env_budget is not None:
        raise pytest.UsageError("VELOX_STRESS_SECONDS and VELOX_STRESS_BUDGET are both set: unset one")
    if env_seconds is not None:
        return "seconds", env_seconds, "VELOX_STRESS_SECONDS"
    if env_budget is not None:
        return "budget", env_budget, "VELOX_STRESS_BUDGET"
    return "seconds", DEFAULT_SECONDS, "default"


def share_of_budget(budget: float, tests: int, workers: int) -> float:
    """Seconds per test so that ``tests`` equal tests on ``workers`` workers end within ``budget``.

    The tests run in ``ceil(tests / workers)`` rounds; what is left of the budget after the reserve
    (``RESERVE_FRACTION``, ``STARTUP_SECONDS``, ``PER_TEST_SECONDS`` a round) is split over them.
    ValueError when that leaves less than ``MIN_SHARE_SECONDS`` a test.
    """
    rounds = max(1, math.ceil(tests / max(1, workers)))
    share = (budget * (1 - RESERVE_FRACTION) - STARTUP_SECONDS - rounds * PER_TEST_SECONDS) / rounds
    if share < MIN_SHARE_SECONDS:
        least = (STARTUP_SECONDS + rounds * (PER_TEST_SECONDS + MIN_SHARE_SECONDS)) / (1 - RESERVE_FRACTION)
        raise ValueError(f"a budget of {budget:g} s is too short for {tests} stress test(s) on {workers} "
                         f"worker(s): it needs at least {math.ceil(least)} s (start-up, then {rounds} round(s) "
                         "of tests), or use --stress-seconds")
    return share


class StressSession:
    """Per-session state: the run length once collection is known, and the summary rows."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.rows: list[dict[str, Any]] = []
        self.refused: dict[str, str] = {}  # nodeid -> why (stress tests nothing can bound, under xdist)

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        why = self.refused.get(item.nodeid)
        if why:
            pytest.fail(why, pytrace=False)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Once the selection is final: every stress test bounded, and the run length fixed."""
        config = session.config
        stress = [it for it in session.items if it.get_closest_marker("stress") is not None]
        if not stress:
            return
        unbounded = [it for it in stress if "stress_seconds" not in getattr(it, "fixturenames", ())]
        if unbounded:
            fix = "request stress_seconds or stress_tally, or give it a marker of its own instead of stress"
            if not os.environ.get("PYTEST_XDIST_WORKER"):
                raise pytest.UsageError(
                    "these tests are marked stress but take no run length from the stress_seconds fixture, so "
                    f"--stress-seconds/--stress-budget cannot bound them ({fix}):\n  "
                    + "\n  ".join(it.nodeid for it in unbounded))
            # A usage error in an xdist worker only shows as a lost worker: fail each such test instead.
            for it in unbounded:
                self.refused[it.nodeid] = (
                    f"{it.nodeid} is marked stress but takes no run length from the stress_seconds fixture, so "
                    f"--stress-seconds/--stress-budget cannot bound it ({fix})")
            stress = [it for it in stress if it not in unbounded]
            if not stress:
                return
        kind, value, source = _length_settings(config)
        if kind == "budget":
            workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
            try:
                seconds = share_of_budget(value, len(stress), workers)
            except ValueError as exc:
                raise pytest.UsageError(f"{source}: {exc}") from None
            note = (f"{source} {value:g} s over {len(stress)} stress tests on {workers} worker(s): "
                    f"{seconds:.1f} s per test")
        else:
            seconds, note = value, f"{value:g} s per stress test ({source})"
        config.stash[_LENGTH_KEY] = seconds
        _emit(f"[stress] {note}")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":  # the tally is recorded by the fixture's teardown
            return
        for key, value in getattr(report, "user_properties", ()):
            if key == "velox_stress":
                self.rows.append(json.loads(value))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.rows:
            return
        tr = terminalreporter
        tr.section("velox stress summary")
        tr.write_line(f"{'test':<52} {'seconds':>8} {'operations':>14} {'checks':>14} {'violations':>10}")
        tot = {"ops": 0, "checks": 0, "violations": 0}
        for row in sorted(self.rows, key=lambda r: r["name"]):
            tr.write_line(f"{row['name'][:52]:<52} {row['seconds']:>8} {row['ops']:>14} {row['checks']:>14} "
                          f"{row['violations']:>10}")
            for k in tot:
                tot[k] += row[k]
        tr.write_line(f"{'TOTAL':<52} {'':>8} {tot['ops']:>14} {tot['checks']:>14} {tot['violations']:>10}")


def stress_seconds_from(config: pytest.Config) -> float:
    """The run length per stress test (a clear usage error, never a crash, on a bad setting)."""
    if _LENGTH_KEY in config.stash:
        return config.stash[_LENGTH_KEY]
    kind, value, _ = _length_settings(config)  # a test not marked stress, or collected elsewhere
    if kind == "budget":  # a stress fixture requested outside a collected stress test: the whole budget
        return share_of_budget(value, 1, 1)
    return value


@pytest.fixture
def stress_seconds(request: pytest.FixtureRequest) -> float:
    """Seconds this stress test runs: ``--stress-seconds``, a share of ``--stress-budget``, or the default."""
    return stress_seconds_from(request.config)


@pytest.fixture
def stress_seed(request: pytest.FixtureRequest) -> int:
    """This test's seed: ``--stress-seed``, else ``$VELOX_STRESS_SEED``, else a fresh one (printed by the tally)."""
    opt = request.config.getoption("--stress-seed")
    if opt is not None:
        return opt
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
        """Add one slice's counts (a dict with ``ops``, ``checks``, ``violations``, optional
        ``timeouts`` and ``first_violation``)."""
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
        """Seconds since the tally was made."""
        return time.monotonic() - self.started

    def time_left(self) -> float:
        """Seconds of this test's run length still to go (negative once over)."""
        return self.seconds - self.elapsed()

    def progress_line(self) -> str:
        """One line: elapsed time, throughput, checks passed, violations."""
        el = max(self.elapsed(), 1e-9)
        extra = "".join(f" {k}={v}" for k, v in self.extra.items())
        return (f"[stress] {self.name}: {el:6.1f}/{self.seconds:.0f}s {self.ops / el / 1e6:8.2f} Mops/s "
                f"ops={self.ops} checks_passed={self.checks - self.violations} violations={self.violations}"
                f" timeouts={self.timeouts}{extra}")

    def failure_message(self) -> str:
        """The counts, the first violation, the seed and the command that reproduces the run."""
        return (f"{self.name}: {self.violations} violation(s) in {self.checks} checks over {self.ops} operations\n"
                f"first: {self.first_violation}\n"
                f"seed={self.seed} params={self.params}\n"
                f"reproduce: {self.reproduce}")


@pytest.fixture
def stress_tally(request: pytest.FixtureRequest, stress_seconds: float, stress_seed: int
                 ) -> Iterator[Callable[..., StressTally]]:
    """Make the test's tally: ``stress_tally(**params)`` prints the seed now and records the totals for the
    session summary when the test ends."""
    made: list[StressTally] = []

    def make(**params: Any) -> StressTally:
        nodeid = request.node.nodeid
        reproduce = (f"python -m pytest -m stress '{nodeid}' --stress-seed {stress_seed} "
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
