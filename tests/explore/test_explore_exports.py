"""The public surface of velox.explore is a contract others build on: pin names and signatures."""

from __future__ import annotations

import inspect

from velox import explore
from velox.explore.rt import orders as _orders
from velox.explore.rt import runtime as _runtime


def test_public_names():
    assert sorted(explore.__all__) == sorted([
        "Atomic", "Cell", "ExplorationFailure", "JoinHandle", "Stats", "check", "choose", "combine", "fence",
        "outcome_counts", "outcomes", "spawn", "spin_hint", "yield_now",
    ])
    for name in explore.__all__:
        assert getattr(explore, name) is not None


def test_check_signature():
    params = inspect.signature(explore.check).parameters
    assert list(params) == ["test", "model", "max_preemptions", "max_executions", "mode", "seed", "replay", "dpor",
                            "shard", "workers"]
    assert params["model"].default == "rc11" and params["mode"].default == "exhaustive" and params["dpor"].default


def test_stats_fields_and_failure_type():
    fields = explore.Stats.__dataclass_fields__
    for name in ("executions", "blocked", "wall_time", "complete"):
        assert name in fields
    assert issubclass(explore.ExplorationFailure, AssertionError)


def test_runtime_functions():
    for name, args in {
        "rt_init": ["key", "value", "name", "site"], "rt_load": ["key", "order", "site"],
        "rt_store": ["key", "value", "order", "site"], "rt_rmw": ["key", "fn", "order", "site"],
        "rt_cas": ["key", "expected", "desired", "weak", "success", "failure", "site"],
        "rt_fence": ["order", "site"], "rt_spin": ["site"], "rt_cell": ["key", "is_write", "site"],
        "rt_choose": ["n"],
    }.items():
        got = list(inspect.signature(getattr(_runtime, name)).parameters)
        assert got[:len(args)] == args, name


def test_order_numbers_match_c():
    assert (_orders.RELAXED, _orders.ACQUIRE, _orders.RELEASE, _orders.ACQ_REL, _orders.SEQ_CST) == (0, 2, 3, 4, 5)
    assert _orders.parse("consume", "load") == _orders.ACQUIRE
