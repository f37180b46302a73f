"""Shared pytest configuration: Hypothesis profiles and the stress options."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings
from velox_testing.counterexamples import failing_first, store

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


def pytest_addoption(parser):
    parser.addoption(
        "--stress-seconds", type=float, default=None,
        help="seconds each stress test runs (default: $VELOX_STRESS_SECONDS or 10)",
    )


# -- counterexamples: stored on failure, replayed first by the next gate ---------

def pytest_collection_modifyitems(session, config, items):
    items[:] = failing_first(items, COUNTEREXAMPLES)


@pytest.fixture(autouse=True)
def _stored_explorer_counterexample(request, monkeypatch):
    """The explorer replays a stored token for this test before exploring."""
    tokens = COUNTEREXAMPLES.load("explore", request.node.nodeid)
    if tokens and "VELOX_EXPLORE_REPLAY" not in os.environ:
        monkeypatch.setenv("VELOX_EXPLORE_FIRST", tokens[-1])


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
