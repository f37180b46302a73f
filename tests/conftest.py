"""Shared pytest configuration: Hypothesis profiles. (The stress options, fixtures and summary come
from velox's pytest plugin, velox/pytest_plugin/stress.py.)"""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

from velox_testing.counterexamples import failing_first, store

# pytester runs a user's test files through velox's pytest plugin (tests/pytest_plugin/).
pytest_plugins = ["pytester"]

# Hypothesis's failing examples, the explorer's replay tokens and the stress
# seeds all live here (VELOX_EXAMPLE_DB: a directory by default, or Redis).
COUNTEREXAMPLES = store()
_DB = COUNTEREXAMPLES.db

# ci: the bounded default gate. nightly: far more examples, no deadline.
settings.register_profile(
    "ci", max_examples=60, stateful_step_count=40, deadline=None, database=_DB,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "nightly", max_examples=5_000, stateful_step_count=200, deadline=None, database=_DB,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("VELOX_HYPOTHESIS_PROFILE", "ci"))


# -- counterexamples: stored on failure, replayed first by the next gate ---------

def pytest_collection_modifyitems(session, config, items):
    items[:] = failing_first(items, COUNTEREXAMPLES)


@pytest.fixture(autouse=True)
def _stored_explorer_counterexample(request, monkeypatch):
    """The explorer replays a stored token for this test before exploring."""
    tokens = COUNTEREXAMPLES.load("explore", request.node.nodeid)
    if tokens and "VELOX_EXPLORE_REPLAY" not in os.environ:
        monkeypatch.setenv("VELOX_EXPLORE_FIRST", tokens[-1])


@pytest.fixture
def stress_seed(stress_seed, request):
    """A stress test that failed before gets its stored seed back first
    (unless a seed is pinned with --stress-seed or VELOX_STRESS_SEED)."""
    if request.config.getoption("--stress-seed") is not None or os.environ.get("VELOX_STRESS_SEED"):
        return stress_seed
    stored = COUNTEREXAMPLES.load("stress", request.node.nodeid)
    if stored:
        sys.stderr.write(f"[stress] {request.node.name}: replaying the stored failing seed {stored[0]}\n")
        return int(stored[0])
    return stress_seed


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call":
        return
    from velox.explore import ExplorationFailure

    seed = getattr(item, "funcargs", {}).get("stress_seed")
    if report.failed:
        exc = call.excinfo.value if call.excinfo is not None else None
        if isinstance(exc, ExplorationFailure):
            COUNTEREXAMPLES.save("explore", item.nodeid, exc.token)
        if seed is not None:
            COUNTEREXAMPLES.save("stress", item.nodeid, str(seed))
    elif report.passed and seed is not None and str(seed) in COUNTEREXAMPLES.load("stress", item.nodeid):
        COUNTEREXAMPLES.delete("stress", item.nodeid, str(seed))  # it no longer fails: fixed
