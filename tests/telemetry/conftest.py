"""Shared fixtures of the telemetry tests."""

from __future__ import annotations

import pytest

from velox_testing.realcomponents import need_module


@pytest.fixture
def otel():
    """The telemetry extra (skips locally without it, fails in CI)."""
    need_module("opentelemetry.sdk.metrics", "pip install 'velox[telemetry]'")
    need_module("opentelemetry.exporter.prometheus", "pip install 'velox[telemetry]'")
