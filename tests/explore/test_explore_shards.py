"""check(..., shard=(i, n)): n disjoint parts whose union is the whole exploration, one combined verdict."""

from __future__ import annotations

import collections

import pytest

from velox import explore
from velox.explore import Atomic, ExplorationFailure, _explorer, spawn
from velox_testing import shapes


def counter(threads: int, incs: int, weak: bool = False):
    return shapes.cas_counter(threads, incs, weak)


def sb():
    x, y = Atomic(0, name="x"), Atomic(0, name="y")

    def a():
        x.store(1, "relaxed")
        return y.load("relaxed")

    def b():
        y.store(1, "relaxed")
        return x.load("relaxed")

    p, q = spawn(a), spawn(b)
    return p.join(), q.join()


# The weak counter: spurious failures, and what one execution learns about them (which ones lead
# nowhere) changes what later ones push; a shard's part teaches it other things than another's, and
# that must not change the shared top of the tree every shard runs (5 and 7 shards once lost and
# doubled graphs here).
@pytest.mark.parametrize("n", [1, 2, 3, 5, 7])
@pytest.mark.parametrize("name, test", [("counter2x2", counter(2, 2)), ("sb", sb),
                                        ("weak counter 2x3", counter(2, 3, weak=True))])
def test_shards_are_disjoint_and_cover_the_space(name, test, n):
    whole = explore.outcome_counts(test)
    parts = [explore.outcome_counts(test, shard=(i, n)) for i in range(n)]
    total = collections.Counter()
    for p in parts:
        total.update(p)
    assert dict(total) == dict(whole)  # every graph once: no part misses one, no two share one
    stats = [explore.check(test, shard=(i, n)) for i in range(n)]
    verdict = explore.combine(stats)
    assert verdict.complete
    assert verdict.executions == explore.check(test).executions
    if 1 < n <= 5 and name == "counter2x2":
        assert all(s.executions > 0 for s in stats), [str(s) for s in stats]  # the work is really spread


def test_a_missing_or_incomplete_shard_makes_the_verdict_incomplete():
    test = counter(2, 2)
    stats = [explore.check(test, shard=(i, 3)) for i in range(3)]
    partial = explore.combine(stats[:2])
    assert not partial.complete and "missing" in partial.incomplete_reason
    bounded = explore.check(test, shard=(2, 3), max_executions=1)
    assert not explore.combine(stats[:2] + [bounded]).complete
    assert "SHARD COMPLETE" in str(stats[0]) and "not" not in str(stats[0]).split("SHARD COMPLETE")[0]


def test_a_failure_is_found_by_the_shard_that_owns_it():
    def racy():
        c = Atomic(0, name="c")

        def inc():
            c.store(c.load("relaxed") + 1, "relaxed")

        a, b = spawn(inc), spawn(inc)
        a.join()
        b.join()
        assert c.load("relaxed") == 2, "lost update"

    failed = 0
    for i in range(3):
        try:
            explore.check(racy, shard=(i, 3))
        except ExplorationFailure as exc:
            assert "lost update" in str(exc)
            failed += 1
    assert failed >= 1


@pytest.mark.parametrize("bad", [(3, 3), (-1, 2), (0, 0), (1,), "0/2", (True, 2)])
def test_bad_shards_are_a_clear_error(bad):
    with pytest.raises(ValueError, match="shard"):
        explore.check(sb, shard=bad)


def test_shard_refuses_modes_it_cannot_split():
    with pytest.raises(ValueError, match="shard"):
        explore.check(sb, shard=(0, 2), dpor=False)
    with pytest.raises(ValueError, match="shard"):
        explore.check(sb, shard=(0, 2), mode="random", seed=1)


def test_gate_catches_overlapping_shards(monkeypatch):
    """A split that gives one subtree to two shards double-counts graphs: the disjointness check sees it."""
    test = counter(2, 2)
    whole = explore.outcome_counts(test)
    real = _explorer._explore

    def leaky(*a, **k):
        if k.get("shard") == (1, 2):
            k["shard"] = (0, 2)  # shard 1 explores shard 0's part
        return real(*a, **k)

    monkeypatch.setattr(_explorer, "_explore", leaky)
    total = collections.Counter()
    for i in range(2):
        total.update(explore.outcome_counts(test, shard=(i, 2)))
    assert dict(total) != dict(whole)


# ------------------------------------------------------------------ the pytest option
PLUGIN_TEST = '''
from velox.explore import Atomic, spawn


def body():
    c = Atomic(0, name="c")

    def worker():
        for _ in range(2):
            cur = c.load("relaxed")
            while not c.compare_exchange_strong(cur, cur + 1, "relaxed", "relaxed")[0]:
                cur = c.load("relaxed")

    hs = [spawn(worker) for _ in range(2)]
    for h in hs:
        h.join()
    assert c.load("relaxed") == {want}


def test_counter(explore_check):
    stats = explore_check(body)
    assert stats.complete, stats
'''


def _run_plugin(tmp_path, want: int, *args: str) -> tuple[int, str]:
    import os
    import subprocess
    import sys

    (tmp_path / "test_sharded.py").write_text(PLUGIN_TEST.format(want=want))
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "velox.explore.pytest_shards", "-p", "no:cacheprovider", "-q",
         "-o", "addopts=", "--rootdir", str(tmp_path), str(tmp_path / "test_sharded.py"), *args],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def test_pytest_option_spreads_one_exploration_over_xdist_workers(tmp_path):
    code, out = _run_plugin(tmp_path, 4, "--explore-shards=3", "-n", "2")
    assert code == 0, out
    assert "3 passed" in out, out
    ns: dict = {}
    exec(PLUGIN_TEST.format(want=4), ns)
    whole = explore.check(ns["body"]).executions
    assert f"COMPLETE: no failing execution among {whole} executions" in out, out


def test_pytest_option_reports_the_failing_shard(tmp_path):
    code, out = _run_plugin(tmp_path, 3, "--explore-shards=2")
    assert code != 0
    assert "FAILED (shard" in out, out
