"""Counterexamples survive: Hypothesis examples, explorer replay tokens and
stress seeds are stored in one example database (a directory by default, a
real Redis server with VELOX_EXAMPLE_DB=redis://...), and the next run
replays them first. The Redis tests start Debian's redis-server; never a mock."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from velox.explore import ExplorationFailure, check
from velox_testing.counterexamples import Counterexamples, example_database, failing_first
from velox_testing.shapes import mp_checked

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    exe = shutil.which("redis-server")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is missing: .ci/run installs the Debian package redis-server")
        pytest.skip("redis-server not installed (Debian package redis-server)")
    port = _free_port()
    p = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path), "--save", "",
                          "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        p.kill()
        pytest.fail("redis-server did not answer within 10 s")
    yield f"redis://127.0.0.1:{port}/0"
    p.terminate()
    p.wait(10)


def test_default_is_the_directory_database(monkeypatch, tmp_path):
    monkeypatch.delenv("VELOX_EXAMPLE_DB", raising=False)
    monkeypatch.setenv("VELOX_HYPOTHESIS_DB", str(tmp_path / "db"))
    db = example_database()
    assert isinstance(db, DirectoryBasedExampleDatabase)
    db.save(b"k", b"v")
    assert list(example_database().fetch(b"k")) == [b"v"]


def test_bad_url_named(monkeypatch):
    monkeypatch.setenv("VELOX_EXAMPLE_DB", "mysql://x")
    with pytest.raises(ValueError, match="VELOX_EXAMPLE_DB must be a redis:// URL"):
        example_database()


def _falsify(db, calls: list[int]) -> None:
    @settings(database=db, max_examples=200, derandomize=False)
    @given(st.integers(0, 10_000))
    def prop(x):
        calls.append(x)
        assert x < 7_000

    with pytest.raises(AssertionError):
        prop()


def test_hypothesis_examples_shared_through_a_real_redis(redis_url, monkeypatch):
    monkeypatch.setenv("VELOX_EXAMPLE_DB", redis_url)
    first: list[int] = []
    _falsify(example_database(), first)  # a "nightly machine" finds the counterexample
    assert first[-1] >= 7_000
    # Another machine (a new connection, nothing shared but the server) replays it first.
    second: list[int] = []
    _falsify(example_database(), second)
    assert second[0] == 7_000, f"the stored counterexample was not replayed first: {second[:5]}"
    import redis

    assert any(k.startswith(b"velox-hypothesis:") for k in redis.Redis.from_url(redis_url).keys())


def test_tokens_and_seeds_shared_through_a_real_redis(redis_url, monkeypatch):
    monkeypatch.setenv("VELOX_EXAMPLE_DB", redis_url)
    a = Counterexamples(example_database())
    a.save("explore", "tests/x.py::test_a", "vx1.abc")
    a.save("stress", "tests/y.py::test_b", "12345")
    b = Counterexamples(example_database())  # a second client
    assert b.load("explore", "tests/x.py::test_a") == ["vx1.abc"]
    assert b.load("stress", "tests/y.py::test_b") == ["12345"]
    b.delete("stress", "tests/y.py::test_b", "12345")
    assert a.load("stress", "tests/y.py::test_b") == []


def test_failing_tests_ordered_first(tmp_path):
    store = Counterexamples(DirectoryBasedExampleDatabase(str(tmp_path)))

    class Item:
        def __init__(self, nodeid):
            self.nodeid = nodeid

    items = [Item(f"t::{i}") for i in range(5)]
    store.save("stress", "t::3", "99")
    store.save("explore", "t::1", "vx1.x")
    assert [i.nodeid for i in failing_first(items, store)] == ["t::1", "t::3", "t::0", "t::2", "t::4"]


# -- the explorer replays a stored token first ---------------------------------

#: a relaxed message pass (fails), and the same test fixed with release/acquire
buggy = mp_checked("relaxed", "relaxed")
fixed = mp_checked("release", "acquire")


def test_stored_token_is_explored_first(monkeypatch):
    with pytest.raises(ExplorationFailure) as found:
        check(buggy)
    assert found.value.executions > 1
    monkeypatch.setenv("VELOX_EXPLORE_FIRST", found.value.token)
    with pytest.raises(ExplorationFailure) as again:
        check(buggy)
    assert again.value.executions == 1  # the stored execution came first


def test_stored_token_that_no_longer_fails_lets_exploration_finish(monkeypatch):
    with pytest.raises(ExplorationFailure) as found:
        check(buggy)
    token = found.value.token
    # The same test name, now fixed (mp_checked gives both bodies one name).
    assert fixed.__qualname__ == buggy.__qualname__
    monkeypatch.setenv("VELOX_EXPLORE_FIRST", token)
    stats = check(fixed)
    assert stats.complete


def test_gate_stores_and_replays_across_sessions(tmp_path):
    """End to end through pytest: a failing explorer test and a failing stress
    test store their token and seed; the next session runs them first and
    replays them."""
    tests = tmp_path / "tests"
    tests.mkdir()
    shutil.copy(ROOT / "tests" / "conftest.py", tests / "conftest.py")
    (tests / "stress").mkdir()
    (tests / "test_a_passes.py").write_text("def test_ok():\n    pass\n")
    (tests / "test_z_explore.py").write_text(textwrap.dedent('''
        from velox.explore import Atomic, check, spawn

        def body():
            data, flag = Atomic(0), Atomic(0)
            def writer():
                data.store(1, "relaxed")
                flag.store(1, "relaxed")
            t = spawn(writer)
            if flag.load("relaxed") == 1:
                assert data.load("relaxed") == 1
            t.join()

        def test_explore():
            check(body)
    '''))
    (tests / "stress" / "test_z_stress.py").write_text(textwrap.dedent('''
        import os
        def test_stress(stress_seed):
            print("SEED", stress_seed)
            assert os.environ.get("FIXED") == "1"
    '''))
    env = dict(os.environ, VELOX_HYPOTHESIS_DB=str(tmp_path / "db"), PYTHONPATH=str(ROOT / "tests" / "support"))
    env.pop("VELOX_EXAMPLE_DB", None)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-s", "-m", "not nothing", str(tests),
           "--rootdir", str(tmp_path)]
    first = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert "2 failed, 1 passed" in first.stdout, first.stdout + first.stderr
    seed = next(ln.split()[1] for ln in first.stdout.splitlines() if ln.startswith("SEED"))
    second = subprocess.run([c for c in cmd if c != "-q"] + ["-v"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    order = [ln.split("::")[0].rsplit("/", 1)[-1] for ln in second.stdout.splitlines() if "::" in ln
             and (" PASSED" in ln or " FAILED" in ln)]
    assert order[-1] == "test_a_passes.py", second.stdout  # the stored failures ran first
    assert f"replaying the stored failing seed {seed}" in second.stdout + second.stderr
    assert "after 1 execution " in second.stdout, second.stdout  # the explorer replayed its token first
    env["FIXED"] = "1"
    third = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert f"SEED {seed}" in third.stdout  # replayed, passes now, and is forgotten
    fourth = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert f"SEED {seed}" not in fourth.stdout
