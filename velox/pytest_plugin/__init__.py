"""velox's pytest plugin, registered as ``velox`` through the ``pytest11`` entry point.

Installing velox makes it active in every pytest run of that environment
(``-p no:velox`` turns it off). It gives a project's own tests what velox's
tests use:

* the ``explore`` marker (``explore_marker.py``): ``@pytest.mark.explore``
  runs the test body under :func:`velox.explore.check`, once per execution
  the memory model allows, with the ``--explore-*`` options; a failing
  execution fails the test with :class:`velox.explore.ExplorationFailure`
  (its trace table and replay token), and ``--explore-replay TOKEN`` re-runs
  exactly that execution;
* ``--explore-shards N`` (``velox.explore.pytest_shards``, loaded with this
  plugin): each explored test, marked or using the ``explore_check``
  fixture, becomes N items exploring disjoint parts, for pytest-xdist to
  spread, with one combined verdict per test at the end;
* the ``stress`` marker and its budget (``stress.py``): ``--stress-seconds``
  per test or ``--stress-budget`` for the whole session, seeds
  (``--stress-seed``), the ``stress_seconds``, ``stress_seed`` and
  ``stress_tally`` fixtures, live progress lines and a summary table.

The explorer's own modules are imported by the shard plugin; the runtime
starts only when an explored test runs.
"""

from __future__ import annotations

import pytest

from . import explore_marker, stress

# The sharding plugin (--explore-shards, the explore_check fixture, the combined verdicts) comes with
# this one; "-p velox.explore.pytest_shards" on a command line or in a conftest stays harmless.
pytest_plugins = ["velox.explore.pytest_shards"]


def pytest_addoption(parser: pytest.Parser) -> None:
    explore_marker.addoption(parser)
    stress.addoption(parser)


def pytest_configure(config: pytest.Config) -> None:
    explore_marker.configure(config)
    stress.configure(config)


pytest_pyfunc_call = explore_marker.pytest_pyfunc_call
pytest_collection_modifyitems = explore_marker.pytest_collection_modifyitems
pytest_generate_tests = explore_marker.pytest_generate_tests

stress_seconds = stress.stress_seconds
stress_seed = stress.stress_seed
stress_tally = stress.stress_tally
