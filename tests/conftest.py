"""Shared pytest configuration: Hypothesis profiles. (The stress options, fixtures and summary come
from velox's pytest plugin, velox/pytest_plugin/stress.py.)"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

# pytester runs a user's test files through velox's pytest plugin (tests/pytest_plugin/).
pytest_plugins = ["pytester"]

_DB = DirectoryBasedExampleDatabase(
    os.environ.get("VELOX_HYPOTHESIS_DB", os.path.join(os.path.dirname(__file__), "..", ".hypothesis", "examples"))
)

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
