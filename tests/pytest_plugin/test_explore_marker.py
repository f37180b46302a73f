"""The ``explore`` marker as a user meets it: a test file of theirs, run by
pytest with velox installed (the plugin comes from the ``pytest11`` entry
point, nothing to configure). Passing, failing with a clean trace and a
replay token, replaying that one execution, bounded runs, bad options."""

from __future__ import annotations

import re

import pytest

# Imported here, before pytester snapshots sys.modules: the in-process runs below would otherwise import
# the explorer afresh each time while the ``velox`` package keeps its first ``velox.explore`` attribute.
import velox.explore  # noqa: F401

USER_TESTS = '''
import pytest
from velox import explore


def publish(order):
    data, flag = explore.Atomic(0), explore.Atomic(0)

    def producer():
        data.store(42, "relaxed")
        flag.store(1, order)

    def consumer():
        while flag.load("acquire" if order == "release" else "relaxed") == 0:
            explore.spin_hint()
        return data.load("relaxed")

    c = explore.spawn(consumer)
    explore.spawn(producer).join()
    assert c.join() == 42


@pytest.mark.explore
def test_release_publishes():
    publish("release")


@pytest.mark.explore
def test_relaxed_publish():
    publish("relaxed")
'''

STORE_BUFFERING = '''
import pytest
from velox import explore


def both_zero():
    x, y = explore.Atomic(0), explore.Atomic(0)

    def left():
        x.store(1, "relaxed")
        return y.load("relaxed")

    def right():
        y.store(1, "relaxed")
        return x.load("relaxed")

    a, b = explore.spawn(left), explore.spawn(right)
    assert (a.join(), b.join()) != (0, 0)


@pytest.mark.explore
def test_sb_cli_model():
    both_zero()


@pytest.mark.explore(model="rc11")
def test_sb_marker_model():
    both_zero()
'''


def _token(output: str) -> str:
    m = re.search(r"--explore-replay (vx1\.\S+)", output)
    assert m, output
    return m.group(1)


def _trace_rows(output: str) -> list[str]:
    return [ln.strip() for ln in output.splitlines() if re.match(r"\s*>?\d+\s+t\d+\s", ln)]


def test_passing_and_failing_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    # The failure is the explorer's, by its public name, with the user's line in the trace and the traceback.
    result.stdout.fnmatch_lines([
        "*_ test_relaxed_publish _*",
        "E   velox.explore.ExplorationFailure: velox.explore found a failing execution (assertion)*",
        "*ASSERTION: thread t0: assertion failed: assert 0 == 42*",
        '*File "*test_user.py", line *, in publish',
        "*pytest 'test_user.py::test_relaxed_publish' --explore-replay vx1.*",
        "FAILED test_user.py::test_relaxed_publish - velox.explore.ExplorationFailure*",
    ])
    assert "test_user.py:10" in out  # the relaxed store of data, named by file:line in the trace table
    # None of velox's own frames: not the plugin's, not the explorer's, not the runtime's.
    frames = re.findall(r'File "([^"]+)"', out)
    assert frames and all(f.endswith("test_user.py") for f in frames), frames
    assert "velox/explore/" not in out and "pytest_plugin" not in out


def test_replay_runs_only_that_execution(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    first = pytester.runpytest("-p", "no:cacheprovider")
    token = _token(first.stdout.str())
    replay = pytester.runpytest("-p", "no:cacheprovider", "--explore-replay", token)
    replay.assert_outcomes(failed=1, deselected=1)
    out = replay.stdout.str()
    assert "failing execution (assertion) after 1 execution " in out  # straight to it
    assert _trace_rows(out) == _trace_rows(first.stdout.str())  # the very same execution
    assert _token(out) == token


def test_replay_token_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    bad = pytester.runpytest("-p", "no:cacheprovider", "--explore-replay", "vx1.not-a-token")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--explore-replay: corrupt velox.explore replay token*"])
    token = _token(pytester.runpytest("-p", "no:cacheprovider").stdout.str())
    pytester.makepyfile(test_other="import pytest\n@pytest.mark.explore\ndef test_other():\n    pass\n")
    elsewhere = pytester.runpytest("-p", "no:cacheprovider", "test_other.py", "--explore-replay", token)
    assert elsewhere.ret == pytest.ExitCode.USAGE_ERROR
    elsewhere.stderr.fnmatch_lines(["*recorded for test 'test_user.test_relaxed_publish'*"])


def test_bounded_exploration_is_not_a_pass(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    bounded = pytester.runpytest("-p", "no:cacheprovider", "-k", "release", "--explore-max-executions", "1")
    bounded.assert_outcomes(failed=1, deselected=1)
    bounded.stdout.fnmatch_lines(["*INCOMPLETE (max_executions=1)*this is not a pass*"])
    skipped = pytester.runpytest("-p", "no:cacheprovider", "-k", "release", "-rs", "--explore-max-executions", "1",
                                 "--explore-incomplete=skip")
    skipped.assert_outcomes(skipped=1, deselected=1)
    skipped.stdout.fnmatch_lines(["SKIPPED [[]1[]] test_user.py:*: velox.explore: INCOMPLETE (max_executions=1)*"])
    # The same bound, complete for the test it is enough for: a pass.
    enough = pytester.runpytest("-p", "no:cacheprovider", "-k", "release", "--explore-max-executions", "100000")
    enough.assert_outcomes(passed=1, deselected=1)


def test_model_from_command_line_and_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sb=STORE_BUFFERING)
    rc11 = pytester.runpytest("-p", "no:cacheprovider")
    rc11.assert_outcomes(failed=2)  # relaxed store buffering: (0, 0) is allowed
    sc = pytester.runpytest("-p", "no:cacheprovider", "--explore-model", "sc")
    sc.assert_outcomes(passed=1, failed=1)  # the marker's own model wins over the option
    sc.stdout.fnmatch_lines(["FAILED test_sb.py::test_sb_marker_model - *"])


def test_fixtures_and_parameters(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fix='''
        import pytest
        from velox import explore

        @pytest.fixture
        def counter_factory():
            return lambda: explore.Atomic(0)

        @pytest.mark.explore
        @pytest.mark.parametrize("threads", [1, 2, 3])
        def test_counts(counter_factory, threads):
            n = counter_factory()
            handles = [explore.spawn(lambda: n.fetch_add(1, "relaxed")) for _ in range(threads)]
            for h in handles:
                h.join()
            assert n.load("relaxed") == threads
            assert threads < 3, "three threads"
    ''')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    token = _token(result.stdout.str())
    replay = pytester.runpytest("-p", "no:cacheprovider", "--explore-replay", token)
    replay.assert_outcomes(failed=1, deselected=2)  # the parameter is part of the test's name
    replay.stdout.fnmatch_lines(["FAILED test_fix.py::test_counts[[]3[]] - *"])


def test_marker_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bad='''
        import pytest

        @pytest.mark.explore(max_executoins=10)
        def test_typo():
            pass

        @pytest.mark.explore(incomplete="ignore")
        def test_policy():
            pass
    ''')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*unknown @pytest.mark.explore keyword(s) ?'max_executoins'?; known: *",
                                 "*explore(incomplete=...) must be one of ('fail', 'skip'), got 'ignore'*"])
    bad = pytester.runpytest("-p", "no:cacheprovider", "--explore-max-executions", "0")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--explore-max-executions*expected a number >= 1, got 0*"])


def test_shards_split_a_marked_test(pytester: pytest.Pytester) -> None:
    # --explore-shards comes with the plugin (velox.explore.pytest_shards): a marked test becomes one item
    # per shard, each exploring its part, and one combined verdict per test ends the run.
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "-v", "--explore-shards=3")
    result.assert_outcomes(passed=3, failed=3)
    result.stdout.fnmatch_lines([
        "*test_user.py::test_release_publishes[[]shard2of3[]] PASSED*",
        "*velox.explore combined verdicts*",
        "test_user.py::test_relaxed_publish[[]shard[]]: FAILED*",
        "test_user.py::test_release_publishes[[]shard[]]: COMPLETE: no failing execution among *",
    ])
    # The replay of a shard's failure runs that one item.
    token = _token(result.stdout.str())
    replay = pytester.runpytest("-p", "no:cacheprovider", "--explore-shards=3", "--explore-replay", token)
    replay.assert_outcomes(failed=1, deselected=5)


COUNTER = '''
import os

import pytest
from velox import explore
from velox.explore import _parallel

_parallel.WARMUP = 0.0  # hand even this small exploration to the worker processes


def count(threads):
    with open("pids.txt", "a") as f:  # which processes ran the executions
        f.write(f"{os.getpid()}\\n")
    c = explore.Atomic(0)

    def worker():
        cur = c.load("relaxed")
        while not c.compare_exchange_strong(cur, cur + 1, "relaxed", "relaxed")[0]:
            cur = c.load("relaxed")

    hs = [explore.spawn(worker) for _ in range(threads)]
    for h in hs:
        h.join()
    return c.load("relaxed")


@pytest.mark.explore(workers=2)
def test_marker_workers():
    assert count(3) == 3


@pytest.mark.explore
def test_option_workers():
    assert count(3) == 3


@pytest.mark.explore(mode="random", seed=1, max_executions=20, incomplete="skip")
def test_random_walks():
    assert count(2) == 2


@pytest.mark.explore
def test_lost_update():
    c = explore.Atomic(0)

    def inc():
        c.store(c.load("relaxed") + 1, "relaxed")

    hs = [explore.spawn(inc) for _ in range(2)]
    for h in hs:
        h.join()
    assert c.load("relaxed") == 2
'''


def test_workers_from_marker_and_command_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_counter=COUNTER)
    marker = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "marker")
    marker.assert_outcomes(passed=1, deselected=3)
    pids = (pytester.path / "pids.txt").read_text().split()
    assert len(set(pids)) == 3, pids  # pytest's process (the first execution) and two workers
    (pytester.path / "pids.txt").unlink()
    run = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "option or lost", "--explore-workers", "2")
    run.assert_outcomes(passed=1, failed=1, deselected=2)
    assert len(set((pytester.path / "pids.txt").read_text().split())) == 3
    run.stdout.fnmatch_lines(["FAILED test_counter.py::test_lost_update - *"])
    token = _token(run.stdout.str())
    # A random walk cannot be spread: the option leaves it to one process (a marker asking for it is an error).
    walks = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "random", "--explore-workers", "2")
    walks.assert_outcomes(skipped=1, deselected=3)
    # The replay runs the one execution, in this process, with the workers option still given.
    replay = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--explore-workers", "2", "--explore-replay", token)
    replay.assert_outcomes(failed=1)
    bad = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--explore-workers", "0")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
