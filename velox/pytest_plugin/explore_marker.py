"""The ``explore`` marker: a test body run under ``velox.explore.check``.

::

    @pytest.mark.explore(max_preemptions=2)
    def test_message_passing():
        data, flag = explore.Cell(0), explore.Atomic(0)
        ...                       # spawn threads, join them, assert

The marked test *is* the body ``check`` re-runs once per execution, so it
builds its shared state itself. Fixtures are set up once, before the
exploration, and every execution sees the same objects: pass factories or
read-only things through them, not state the threads change.

Keywords of the marker are keywords of ``check`` (``model``,
``max_executions``, ``max_preemptions``, ``mode``, ``seed``, ``dpor``,
``workers``) plus
``incomplete``: what a bounded exploration that found no failure becomes,
``"fail"`` (the default: a bounded run is not a pass) or ``"skip"`` (reported
as skipped with the explorer's INCOMPLETE line). The command-line options fill
in whatever the marker leaves unset, so a test that needs a model keeps it.
"""

from __future__ import annotations

import argparse
import inspect
from typing import Any

import pytest

CHECK_KEYWORDS = ("model", "max_executions", "max_preemptions", "mode", "seed", "dpor", "workers")
INCOMPLETE_POLICIES = ("fail", "skip")
_REPLAY_KEY = pytest.StashKey[str]()


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _preemptions(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("velox-explore", "velox.explore (tests marked @pytest.mark.explore)")
    group.addoption("--explore-model", choices=("rc11", "sc"), default=None,
                    help="memory model of explored tests whose marker names none (default: rc11)")
    group.addoption("--explore-max-executions", type=_count, default=None, metavar="N",
                    help="stop each exploration after N executions; a stopped exploration is INCOMPLETE, "
                         "which fails the test unless --explore-incomplete=skip")
    group.addoption("--explore-max-preemptions", type=_preemptions, default=None, metavar="N",
                    help="explore only schedules with at most N preemptions (INCOMPLETE, as above)")
    group.addoption("--explore-workers", type=_count, default=None, metavar="N",
                    help="spread each exploration still running after a quarter of a second over N processes "
                         "of this host (check(..., workers=N)); --explore-shards splits across hosts instead")
    group.addoption("--explore-incomplete", choices=INCOMPLETE_POLICIES, default=None,
                    help="what an INCOMPLETE exploration (a bound hit, no failure found) is: "
                         "fail (default) or skip, with the explorer's reason")
    group.addoption("--explore-replay", default=None, metavar="TOKEN",
                    help="re-run exactly the execution a failure report printed (its 'replay token'); "
                         "only the test the token was recorded for runs")
    # --explore-shards N is velox.explore.pytest_shards' option (loaded with this plugin); marked tests
    # are split by it in pytest_generate_tests below.


def configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "explore(model=, max_executions=, max_preemptions=, mode=, seed=, dpor=, workers=, incomplete=): run the test "
        "body under velox.explore.check, once per execution the memory model allows",
    )
    token = config.getoption("--explore-replay", None)
    if token:
        from velox.explore._trace import decode_token

        try:
            _, name, _ = decode_token(token)
        except ValueError as exc:
            raise pytest.UsageError(f"--explore-replay: {exc}") from None
        config.stash[_REPLAY_KEY] = name


def _command_line_keywords(config: pytest.Config) -> dict[str, Any]:
    options = {
        "model": config.getoption("--explore-model"),
        "max_executions": config.getoption("--explore-max-executions"),
        "max_preemptions": config.getoption("--explore-max-preemptions"),
        "workers": config.getoption("--explore-workers"),
    }
    return {k: v for k, v in options.items() if v is not None}


def recorded_name(item: pytest.Function) -> str:
    """The name a replay token records for a marked test (module and test, with its parameters)."""
    return f"{item.module.__name__}.{item.getmodpath()}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """With ``--explore-shards N`` (N > 1), a marked test becomes N items, each exploring one part."""
    if metafunc.definition.get_closest_marker("explore") is None or "_explore_shard" in metafunc.fixturenames:
        return
    from velox.explore.pytest_shards import _shards

    n = _shards(metafunc.config)
    if n > 1:
        metafunc.fixturenames.append("_explore_shard")  # a parameter the test function does not take
        metafunc.parametrize("_explore_shard", [(i, n) for i in range(n)], ids=[f"shard{i}of{n}" for i in range(n)])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``--explore-replay``, keep only the test the token was recorded for."""
    name = config.stash.get(_REPLAY_KEY, None)
    if name is None:
        return
    keep = [it for it in items if isinstance(it, pytest.Function) and it.get_closest_marker("explore") is not None
            and recorded_name(it) == name]
    if not keep:
        raise pytest.UsageError(
            f"--explore-replay: the token was recorded for test {name!r}, which is not among the collected "
            "tests marked explore (run pytest on the file the failure came from)")
    config.hook.pytest_deselected(items=[it for it in items if it not in keep])
    items[:] = keep


def _marker_keywords(item: pytest.Function, marker: pytest.Mark) -> tuple[dict[str, Any], str]:
    if marker.args:
        _usage(f"{item.nodeid}: @pytest.mark.explore takes keywords only, got {marker.args!r}")
    kw = dict(marker.kwargs)
    incomplete = kw.pop("incomplete", None)
    unknown = sorted(set(kw) - set(CHECK_KEYWORDS))
    if unknown:
        _usage(f"{item.nodeid}: unknown @pytest.mark.explore keyword(s) {unknown}; "
                                f"known: {list(CHECK_KEYWORDS) + ['incomplete']}")
    incomplete = incomplete or item.config.getoption("--explore-incomplete") or "fail"
    if incomplete not in INCOMPLETE_POLICIES:
        _usage(f"{item.nodeid}: explore(incomplete=...) must be one of {INCOMPLETE_POLICIES}, "
                                f"got {incomplete!r}")
    keywords = {**_command_line_keywords(item.config), **kw}
    if "workers" not in kw and (keywords.get("mode", "exhaustive") != "exhaustive" or keywords.get("dpor") is False):
        keywords.pop("workers", None)  # --explore-workers spreads the explorations that can be spread
    return keywords, incomplete


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    marker = pyfuncitem.get_closest_marker("explore")
    if marker is None:
        return None
    __tracebackhide__ = True
    keywords, incomplete = _marker_keywords(pyfuncitem, marker)
    function = pyfuncitem.obj
    if inspect.iscoroutinefunction(function) or inspect.isgeneratorfunction(function):
        _usage(f"{pyfuncitem.nodeid}: an explored test must be a plain function, not a coroutine or generator")
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}

    def body() -> None:
        __tracebackhide__ = True
        function(**args)

    # check() names the test in its replay tokens by module and qualified name: make that recorded_name(item).
    body.__module__ = pyfuncitem.module.__name__
    body.__qualname__ = body.__name__ = pyfuncitem.getmodpath()
    replay = pyfuncitem.config.stash.get(_REPLAY_KEY, None) and pyfuncitem.config.getoption("--explore-replay")
    callspec = getattr(pyfuncitem, "callspec", None)
    shard = callspec.params.get("_explore_shard") if callspec is not None else None
    if shard is not None and not replay:
        keywords["shard"] = tuple(shard)
        keywords.pop("workers", None)  # the shards are the split: each explores its part in one process
    stats = run_explored(body, keywords, incomplete, pyfuncitem.nodeid, replay)
    if shard is not None and stats is not None:
        _record_shard(pyfuncitem, tuple(shard), stats)
    return True


def _record_shard(item: pytest.Function, shard: tuple[int, int], stats: Any) -> None:
    """This shard's Stats, in the form velox.explore.pytest_shards combines into one verdict per test."""
    import json

    from velox.explore.pytest_shards import _KEY

    item.user_properties.append((_KEY, json.dumps({
        "shard": list(shard), "executions": stats.executions, "blocked": stats.blocked,
        "distinct": stats.distinct, "wall_time": stats.wall_time, "complete": stats.complete,
        "reason": stats.incomplete_reason, "model": stats.model, "assumptions": list(stats.assumptions)})))


def run_explored(body: Any, keywords: dict[str, Any], incomplete: str, nodeid: str, replay: str | None) -> Any:
    """``check(body, **keywords)`` as a test outcome: pass when complete, the failure without velox's frames."""
    __tracebackhide__ = True
    from velox import explore
    from velox.explore._trace import decode_token

    if replay:
        keywords = {**keywords, "model": decode_token(replay)[0], "replay": replay}
        keywords.pop("workers", None)  # one execution: nothing to spread
    try:
        stats = explore.check(body, **keywords)
    except explore.ExplorationFailure as failure:
        failure.add_note(f"replay it under pytest with\n    pytest '{nodeid}' --explore-replay {failure.token}")
        failure.__traceback__ = None  # the explorer's own frames say nothing about the test
        raise failure from None
    if replay:
        _skip(f"the replayed execution passed ({stats}); run without --explore-replay to explore them all")
    if not stats.complete:
        if incomplete == "skip":
            _skip(str(stats))
        pytest.fail(f"{stats}\n(a bounded exploration is not a pass: raise the bound, or mark the test "
                    "explore(incomplete='skip') / run with --explore-incomplete=skip to report it as skipped)",
                    pytrace=False)
    return stats


def _skip(reason: str) -> None:
    """Skip, reported at the test's own location (not the plugin's)."""
    __tracebackhide__ = True
    raise pytest.skip.Exception(reason, _use_item_location=True)


def _usage(message: str) -> None:
    """Fail the test over a misuse of the marker (the message alone, no traceback)."""
    __tracebackhide__ = True
    pytest.fail(message, pytrace=False)
