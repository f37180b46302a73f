"""``velox report`` and ``velox run --report``: the HTML page and the
Markdown summary from real run JSON files, the baseline comparison and its
exit status, bench and pytest-benchmark inputs, and clear errors."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from velox import _pipeline, _report_cli
from velox.report import _compare, _render

PLOTS = _render.PLOTS_PER_RUN


@pytest.fixture(scope="module")
def run_json(tmp_path_factory) -> Path:
    """A real 0.6 s run sampled every 0.1 s."""
    cfg = _pipeline.PipelineConfig(duration=0.6, rate=50_000, seed=21, flush_slack_us=10_000_000)
    report = _pipeline.run_pipeline(cfg, tick_seconds=0.1)
    assert report.ok
    path = tmp_path_factory.mktemp("run") / "run.json"
    report.write_json(str(path))
    return path


def _doctored(src: Path, dst: Path, edit) -> Path:
    d = json.loads(src.read_text())
    edit(d)
    dst.write_text(json.dumps(d))
    return dst


def test_run_json_has_samples_spectrum_machine(run_json):
    d = json.loads(run_json.read_text())
    s = d["samples"]
    assert len(s) >= 4, "one sample per tick, then the final one"
    assert all(a["t"] < b["t"] for a, b in itertools.pairwise(s))
    assert all(a["output"] <= b["output"] for a, b in itertools.pairwise(s))
    assert s[-1]["output"] == d["counters"]["output"]["txns"] and s[-1]["generated"] == d["counters"]["ingress"]["generated"]
    q = [p[0] for p in d["percentiles_ns"]["e2e"]]
    v = [p[1] for p in d["percentiles_ns"]["e2e"]]
    assert q == list(_pipeline.SPECTRUM) and v == sorted(v)
    assert v[-1] == pytest.approx(d["latency_ns"]["e2e"]["max"])
    assert dict(d["percentiles_ns"]["e2e"])[0.99] == pytest.approx(d["latency_ns"]["e2e"]["p99"])
    assert d["machine"]["cpus"] >= 1 and len(d["machine"]["loadavg_before"]) == 3


def test_report_is_self_contained(run_json, tmp_path):
    assert _report_cli.main([str(run_json), "-o", str(tmp_path)]) == 0
    html = (tmp_path / "report.html").read_text()
    # no script, stylesheet, image or font fetched from anywhere
    assert "<script" not in html and "<link" not in html and "src=" not in html and "@import" not in html
    assert re.findall(r"https?://[^\s\"']+", html) == ["http://www.w3.org/2000/svg"] * html.count("<svg")
    ids = re.findall(r'<svg class="plot" id="([^"]+)"', html)
    assert ids == [f"run0-{p}" for p in PLOTS]
    # every line chart draws its data
    for svg in re.findall(r'<svg class="plot".*?</svg>', html, re.DOTALL):
        assert ("<polyline" in svg and re.search(r'points="[\d.]+,[\d.]+ [\d.]+,', svg)) or 'class="bar"' in svg, svg[:200]
    assert "PASS, every invariant held" in html and "FIFO per producer" in html
    md = (tmp_path / "summary.md").read_text()
    assert md.startswith("# velox benchmark report") and "| end to end |" in md and "verdict: PASS" in md


def test_baseline_same_run_no_regression(run_json, tmp_path, capsys):
    assert _report_cli.main([str(run_json), "--baseline", str(run_json), "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "no regression (threshold 10%)" in out
    md = (tmp_path / "summary.md").read_text()
    assert "| throughput end to end (txn/s) |" in md and "| 1.000 | ok |" in md


def test_baseline_regression_exits_1(run_json, tmp_path, capsys):
    def slower(d):
        d["throughput_txn_per_s"] *= 0.8
        d["latency_ns"]["e2e"]["p99"] *= 1.5
    worse = _doctored(run_json, tmp_path / "worse.json", slower)
    rc = _report_cli.main([str(worse), "--baseline", str(run_json), "-o", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert rc == 1, out
    assert "REGRESSION: throughput end to end, end-to-end p99 (threshold 10%)" in out
    assert "ratio 0.800" in out and "ratio 1.500" in out
    assert "REGRESSION" in (tmp_path / "r" / "report.html").read_text()
    # a looser threshold lets the same figures pass
    assert _report_cli.main([str(worse), "--baseline", str(run_json), "--threshold", "0.6",
                             "-o", str(tmp_path / "r2")]) == 0


def test_failed_invariant_is_a_regression(run_json, tmp_path, capsys):
    def broken(d):
        d["ok"] = False
        d["invariants"][0]["ok"] = False
    bad = _doctored(run_json, tmp_path / "bad.json", broken)
    assert _report_cli.main([str(bad), "--baseline", str(run_json), "-o", str(tmp_path / "r")]) == 1
    assert "REGRESSION: invariants failed" in capsys.readouterr().out


def test_drops_where_baseline_had_none(run_json):
    d = json.loads(run_json.read_text())
    e = json.loads(run_json.read_text())
    e["counters"]["ingress"]["dropped"] = 5
    c = _compare.compare(e, d, threshold=0.5)
    assert [r.key for r in c.rows if r.regressed] == ["drop_fraction"]


def test_bench_and_pytest_benchmark_inputs(run_json, tmp_path):
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({
        "records": 1000, "repeats": 1, "cpus": [0, 1], "rigtorp_published_mrecords_per_s": 363.0,
        "cases": [{"capacity": 1024, "impl": "velox", "batch": 1, "label": "velox", "ok": True,
                   "median_mrecords_per_s": 12.5, "median_round_trip_ns": 180.0, "samples": []}]}))
    pyb = tmp_path / "pyb.json"
    pyb.write_text(json.dumps({"machine_info": {}, "benchmarks": [
        {"name": "test_push", "stats": {"median": 2e-7, "mean": 2.1e-7, "stddev": 1e-8, "rounds": 100}}]}))
    assert _report_cli.main([str(run_json), str(bench), str(pyb), "-o", str(tmp_path / "r")]) == 0
    html = (tmp_path / "r" / "report.html").read_text()
    assert re.findall(r'<svg class="plot" id="([^"]+)"', html) == [f"run0-{p}" for p in PLOTS] + ["bench0", "pytest0"]
    md = (tmp_path / "r" / "summary.md").read_text()
    assert "| velox | 1024 | 12.50 |" in md and "| test_push | 0.20 |" in md


@pytest.mark.parametrize("content, message", [
    ("not json", "not JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"hello": 1}', "not a velox run report"),
    ('{"schema": "velox.pipeline.report/9"}', "is not supported"),
    ('{"schema": "velox.pipeline.report/1", "config": {}}', "a velox run report without"),
])
def test_bad_input_is_a_clear_error(tmp_path, capsys, content, message):
    f = tmp_path / "in.json"
    f.write_text(content)
    assert _report_cli.main([str(f), "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert message in err and str(f) in err


def test_missing_file_and_bad_threshold(tmp_path, capsys, run_json):
    assert _report_cli.main([str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        _report_cli.main([str(run_json), "--threshold", "1.5"])
    assert e.value.code == 2
    assert "must be a fraction" in capsys.readouterr().err


def test_velox_run_report_dir(tmp_path):
    out = tmp_path / "rep"
    r = subprocess.run([sys.executable, "-m", "velox", "run", "--quiet", "--duration", "0.3", "--seed", "2",
                        "--report", str(out)], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"report written to {out / 'report.html'}" in r.stdout
    d = json.loads((out / "run.json").read_text())
    assert d["ok"] and d["samples"] and "round_trip_ns" in d["machine"]
    assert (out / "summary.md").read_text().startswith("# velox benchmark report")


def test_cli_lists_report():
    from velox import _cli

    assert _cli.COMMANDS["report"][0] == "velox._report_cli"


@pytest.mark.parametrize(("asked", "resolved", "shown"), [
    ("auto", {"strategy": "busy", "reason": "auto: ..."}, "busy (auto)"),
    ("yield", {"strategy": "yield", "reason": ""}, "yield"),
    ("auto", {"yields": 0, "sleeps": 0}, "auto"),  # a report from before the strategy was recorded
])
def test_run_title_names_the_wait_strategy_used(asked, resolved, shown):
    assert _render._wait({"config": {"wait": asked}, "wait": resolved}) == shown
