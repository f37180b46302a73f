"""The stress options as a user meets them: a per-test length, a session
budget split over the selected tests and the xdist workers, pinned seeds,
and a refusal to run a stress test that nothing can bound. The last test
holds velox's own overnight selection to the same rule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from velox.pytest_plugin.stress import RESERVE_FRACTION, parse_duration, share_of_budget

ROOT = Path(__file__).resolve().parents[2]

STRESS_TESTS = '''
import json, os
import pytest

@pytest.mark.stress
@pytest.mark.parametrize("shard", range(5))
def test_shard(shard, stress_seconds, stress_seed):
    with open(os.environ["LENGTHS"], "a") as f:
        f.write(json.dumps([shard, stress_seconds, stress_seed]) + "\\n")

def test_quick():
    pass
'''


def _lengths(path: Path) -> list[tuple[int, float, int]]:
    return [tuple(json.loads(ln)) for ln in path.read_text().splitlines()]


@pytest.fixture
def lengths(pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytester.makepyfile(test_long=STRESS_TESTS)
    out = tmp_path / "lengths.jsonl"
    monkeypatch.setenv("LENGTHS", str(out))
    for name in ("VELOX_STRESS_SECONDS", "VELOX_STRESS_BUDGET", "VELOX_STRESS_SEED", "PYTEST_XDIST_WORKER_COUNT"):
        monkeypatch.delenv(name, raising=False)
    return out


def test_per_test_seconds_and_default(pytester: pytest.Pytester, lengths: Path) -> None:
    pytester.runpytest("-m", "stress", "--stress-seconds", "90s").assert_outcomes(passed=5, deselected=1)
    assert {s for _, s, _ in _lengths(lengths)} == {90.0}
    lengths.unlink()
    pytester.runpytest("-m", "stress").assert_outcomes(passed=5, deselected=1)
    assert {s for _, s, _ in _lengths(lengths)} == {10.0}


def test_budget_is_split_over_tests_and_workers(pytester: pytest.Pytester, lengths: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    result = pytester.runpytest("-m", "stress", "--stress-budget", "1h")
    result.assert_outcomes(passed=5, deselected=1)
    # One worker, five tests one after another: 95% of the hour, less 120 s of start-up and 5 s a test,
    # split five ways.
    assert [s for _, s, _ in _lengths(lengths)] == [pytest.approx((3420 - 120 - 5 * 5) / 5)] * 5
    result.stderr.fnmatch_lines(["*--stress-budget 3600 s over 5 stress tests on 1 worker(s)*"])
    lengths.unlink()
    # Two xdist workers (as a worker sees them): ceil(5 / 2) = 3 rounds.
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    monkeypatch.setenv("VELOX_STRESS_BUDGET", "600")
    pytester.runpytest("-m", "stress").assert_outcomes(passed=5, deselected=1)
    assert [s for _, s, _ in _lengths(lengths)] == [pytest.approx((570 - 120 - 3 * 5) / 3)] * 5


def test_budget_arithmetic() -> None:
    # 29 tests on 2 workers: 15 rounds; 8 h less 5%, less start-up and 5 s a round, split 15 ways.
    assert share_of_budget(8 * 3600, 29, 2) == pytest.approx((27360 - 120 - 15 * 5) / 15)
    assert share_of_budget(8 * 3600, 29, 2) * 15 + 15 * 5 + 120 <= 8 * 3600 * (1 - RESERVE_FRACTION) + 1e-6
    assert share_of_budget(200, 4, 4) == share_of_budget(200, 1, 1) == pytest.approx(190 - 125)
    with pytest.raises(ValueError, match=r"too short for 29 stress test\(s\) on 2 worker\(s\): it needs at least 222 s"):
        share_of_budget(221, 29, 2)  # (120 + 15 * (5 + 1)) / 0.95 = 221.05
    assert share_of_budget(222, 29, 2) >= 1.0
    assert [parse_duration(t, "x") for t in ("3600", "90s", "45m", "8h", "1.5d")] == [3600, 90, 2700, 28800, 129600]


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--stress-seconds", "0"], {}, "*--stress-seconds must be more than 0*"),
    (["--stress-budget", "8 hours"], {}, "*--stress-budget must be a duration like 3600, 90s, 45m or 8h*"),
    (["--stress-budget", "2m"], {}, "*--stress-budget: a budget of 120 s is too short for 5 stress test(s)*"),
    (["--stress-seconds", "10", "--stress-budget", "1h"], {}, "*--stress-seconds (per test) or --stress-budget*"),
    ([], {"VELOX_STRESS_SECONDS": "soon"}, "*VELOX_STRESS_SECONDS must be a duration*"),
    ([], {"VELOX_STRESS_SECONDS": "10", "VELOX_STRESS_BUDGET": "1h"}, "*both set: unset one*"),
    (["--stress-seed", "x"], {}, "*--stress-seed*expected an integer seed*"),
])
def test_bad_settings_are_usage_errors(pytester: pytest.Pytester, lengths: Path, monkeypatch: pytest.MonkeyPatch,
                                       args: list[str], env: dict[str, str], message: str) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    result = pytester.runpytest("-m", "stress", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_seed_is_pinned_and_printed(pytester: pytest.Pytester, lengths: Path) -> None:
    pytester.makepyfile(test_tally='''
        import pytest

        @pytest.mark.stress
        def test_counts(stress_tally):
            tally = stress_tally(size=4)
            tally.add({"ops": 10, "checks": 10, "violations": 1, "first_violation": "lost record 7"})
            assert not tally.violations, tally.failure_message()
    ''')
    result = pytester.runpytest("-m", "stress", "--stress-seed", "1234", "--stress-seconds", "5")
    result.assert_outcomes(passed=5, failed=1, deselected=1)
    assert {seed for _, _, seed in _lengths(lengths)} == {1234}
    result.stdout.fnmatch_lines([
        "*first: lost record 7*",
        "*reproduce: python -m pytest -m stress 'test_tally.py::test_counts' --stress-seed 1234 --stress-seconds 5*",
        "*[[]stress[]] test_counts: start seed=1234 seconds=5 params={'size': 4}*",
        "*velox stress summary*",
        "test_counts * 10 * 10 * 1",
    ])


def test_unbounded_stress_test_is_refused(pytester: pytest.Pytester, lengths: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # This test may itself run in a pytest-xdist worker: the inner run starts as a plain session.
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    pytester.makepyfile(test_forever='''
        import pytest

        @pytest.mark.stress
        def test_until_done():
            pass
    ''')
    result = pytester.runpytest("-m", "stress", "--stress-budget", "8h")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*these tests are marked stress but take no run length from the stress_seconds*",
                                 "*test_forever.py::test_until_done"])
    assert "test_long.py" not in result.stderr.str()  # the bounded ones are fine
    # In a pytest-xdist worker a usage error would only show as a lost worker: the test errors instead,
    # saying why, and the budget is shared by the others.
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    worker = pytester.runpytest("-m", "stress", "--stress-budget", "600")
    worker.assert_outcomes(passed=5, errors=1, deselected=1)
    worker.stdout.fnmatch_lines(["*test_forever.py::test_until_done is marked stress but takes no run length*"])
    assert [s for _, s, _ in _lengths(lengths)] == [pytest.approx((570 - 120 - 5 * 5) / 5)] * 5
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    # Not selected, not a problem: the default gate deselects stress tests.
    pytester.runpytest("-m", "not stress").assert_outcomes(passed=1, deselected=6)


def test_velox_overnight_command_is_bounded() -> None:
    """The README's overnight command names a budget, and every test it selects in velox's own suite
    takes its length from that budget (the exhaustive explorations have their own marker), so it
    ends within the time the README states."""
    readme = (ROOT / "README.md").read_text()
    (row,) = [ln for ln in readme.splitlines() if ln.startswith("| `python -m pytest -m stress")]
    command = row.split("`")[1].split()
    budget = command[command.index("--stress-budget") + 1]
    hours = parse_duration(budget, "budget") / 3600
    assert f"ends within {hours:g} hours" in row, row
    workers = int(command[command.index("-n") + 1])
    args = [a for i, a in enumerate(command[3:], 3) if a != "-n" and command[i - 1] != "-n"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VELOX_STRESS", "PYTEST_XDIST"))}
    env["PYTEST_XDIST_WORKER_COUNT"] = str(workers)  # collect as one of the command's workers would
    r = subprocess.run([sys.executable, "-m", "pytest", *args, "--collect-only", "-q", "-p", "no:cacheprovider",
                        "-p", "no:xdist"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    selected = [ln for ln in r.stdout.splitlines() if "::" in ln]
    assert len(selected) > 20, r.stdout
    assert not [ln for ln in selected if "exhaustive" in ln], selected
    share = share_of_budget(hours * 3600, len(selected), workers)
    assert f"over {len(selected)} stress tests on {workers} worker(s): {share:.1f} s per test" in r.stderr
