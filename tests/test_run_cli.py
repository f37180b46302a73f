"""``velox run``: flags, errors, live lines, the summary, the JSON report, the
wire-format output file, Ctrl-C, and a non-zero exit when an invariant fails."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import velox
from velox import _pipeline, _run

# Generous slack: the gate must not depend on how loaded the machine is.
QUICK = ["--duration", "0.2", "--seed", "7", "--flush-slack-us", "10000000"]


def run_main(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    rc = _run.main(args, out=out)
    return rc, out.getvalue()


def test_help(capsys):
    with pytest.raises(SystemExit) as e:
        _run.main(["--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--duration", "--rate", "--saturate", "--price-mode", "--backpressure", "--wait", "--pin",
                 "--topology", "--ring-capacity", "--bundle-size", "--bundle-timeout-us", "--seed", "--json",
                 "--output"):
        assert flag in text
    assert "topologies" in text and "e2e" in text


def test_cli_lists_run():
    from velox import _cli

    assert "run" in _cli.COMMANDS
    assert _cli.COMMANDS["run"][0] == "velox._run"


def test_quick_run_passes():
    rc, text = run_main(QUICK + ["--rate", "50000"])
    assert rc == 0, text
    assert "seed 7" in text.splitlines()[0]
    assert "verdict: PASS" in text
    for name in ("no loss", "FIFO per producer", "bundle sizes <= limit", "timeout flushes within bound"):
        assert f"[ok] {name}" in text
    assert "end to end" in text and "p99.9" in text


def test_saturate_reports_throughput():
    rc, text = run_main(QUICK + ["--saturate"])
    assert rc == 0, text
    assert "saturated" in text.splitlines()[0]
    line = next(ln for ln in text.splitlines() if "throughput end to end" in ln)
    assert int(line.split()[-2].replace(",", "")) > 0


def test_summary_grammar_and_why_orders_are_cancelled():
    rc, text = run_main(QUICK + ["--rate", "50000", "--topology", "single"])
    assert rc == 0, text
    summary = next(ln for ln in text.splitlines() if ln.startswith("summary:"))
    assert "1 thread on" in summary and "1 threads" not in summary
    assert f"each order rests for {_pipeline.ORDER_LIFETIME:,} transactions, then is cancelled" in text


def test_walk_block_json(tmp_path):
    path = tmp_path / "report.json"
    rc, text = run_main(QUICK + ["--price-mode", "walk", "--backpressure", "block", "--json", str(path)])
    assert rc == 0, text
    d = json.loads(path.read_text())
    assert d["schema"] == _pipeline.REPORT_SCHEMA
    assert d["ok"] is True
    assert d["config"]["price_mode"] == "walk" and d["config"]["backpressure"] == "block"
    assert d["seed"] == 7
    names = [i["name"] for i in d["invariants"]]
    assert "spread >= 0 (walk prices never cross)" in names
    assert all(i["ok"] for i in d["invariants"])
    for key in ("counters", "latency_ns", "topology", "threads", "elapsed_s", "throughput_txn_per_s"):
        assert key in d


def test_output_file(tmp_path):
    path = tmp_path / "out.bin"
    rc, text = run_main(QUICK + ["--output", str(path), "--producers", "2"])
    assert rc == 0, text
    data = path.read_bytes()
    assert len(data) % velox.TXN_SIZE == 0 and data
    ids = [0, 0]
    for off in range(0, len(data), velox.TXN_SIZE):
        t = velox.Transaction.from_bytes(data[off:off + velox.TXN_SIZE])
        assert t.id == ids[t.producer]
        ids[t.producer] += 1
    assert f"{sum(ids)} transactions written" in text


@pytest.mark.parametrize("args, message", [
    (["--rate", "0"], "--rate"),
    (["--rate", "abc"], "--rate"),
    (["--duration", "-3"], "--duration"),
    (["--ring-capacity", "1000"], "power of two"),
    (["--ring-capacity", "16"], "--ring-capacity"),
    (["--bundle-size", "17"], "--bundle-size"),
    (["--bundle-timeout-us", "0"], "--bundle-timeout-us"),
    (["--wait", "spin"], "--wait"),
    (["--topology", "mesh"], "--topology"),
    (["--price-mode", "gauss"], "--price-mode"),
    (["--backpressure", "maybe"], "--backpressure"),
    (["--saturate", "--backpressure", "drop"], "saturate"),
    (["--producers", "0"], "--producers"),
    (["--seed", "x"], "--seed"),
    (["--no-such-flag"], "unrecognized"),
])
def test_bad_flags_exit_2(args, message, capsys):
    with pytest.raises(SystemExit) as e:
        _run.main(args)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err


def test_bad_output_path_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        _run.main(QUICK + ["--output", str(tmp_path / "missing" / "x.bin")])
    assert e.value.code == 2
    assert "cannot open output file" in capsys.readouterr().err


def test_failed_invariant_exits_1(monkeypatch):
    """The exit status follows the verdict: a mutant build that reorders
    transactions inside bundles must make ``velox run`` exit 1."""
    from velox_testing.mutants import build_core_mutant

    mod = build_core_mutant("pipeline_bundle_swaps_first_two", log=lambda m: None)
    real = _run.Pipeline
    monkeypatch.setattr(_run, "Pipeline", lambda cfg: real(cfg, _core_module=mod))
    rc, text = run_main(QUICK + ["--saturate", "--producers", "1"])
    assert rc == 1
    assert "[FAIL] FIFO per producer" in text
    assert "verdict: FAIL" in text and "--seed 7" in text


def _spawn(args: list[str]) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "velox", "run", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def test_live_lines_from_the_command():
    p = _spawn(["--duration", "3.2", "--seed", "3", "--flush-slack-us", "10000000"])
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, out + err
    live = [ln for ln in out.splitlines() if ln.startswith("[")]
    assert len(live) >= 2, out
    for word in ("in ", "book ", "bundle ", "out ", "drops ", "e2e p99 ", "rings "):
        assert word in live[0]
    assert "verdict: PASS" in out


def test_ctrl_c_drains_and_reports():
    p = _spawn(["--duration", "0", "--seed", "5", "--flush-slack-us", "10000000"])
    assert p.stdout is not None
    first = p.stdout.readline()  # printed once the pipeline is built, just before it starts
    assert first.startswith("velox run:"), first
    time.sleep(0.7)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    out = first + out
    assert p.returncode == 0, out + err
    assert "interrupted" in err
    assert "verdict: PASS" in out
    assert "interrupted" in out  # the summary says the run was cut short
