"""Fixtures for the model-build tests: velox's C core compiled with -DVX_MODEL
and run under velox.explore: the explorer runs the shipping C code."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def core():
    from velox import cmodel

    return cmodel.core()
