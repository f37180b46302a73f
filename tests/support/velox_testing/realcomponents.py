"""Real components for the telemetry and report tests (Prometheus, promtool,
Chromium, the OpenTelemetry packages): skipped locally when missing
(naming what to install), required in CI (env CI=true)."""

from __future__ import annotations

import importlib
import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def need_module(module: str, install: str):
    """Import ``module``, or skip (fail in CI) naming what to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        msg = f"{module} is not installed ({install})"
        if IN_CI:
            pytest.fail(msg + "; CI must install it (.ci/run)")
        pytest.skip(msg)


def need_binary(name: str, package: str) -> str:
    """Path of the executable ``name``, or skip (fail in CI) naming the Debian package."""
    path = shutil.which(name)
    if path is None:
        msg = f"{name} not found (Debian package {package}; .ci/run installs it)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path
