"""The HTML report in a real headless Chromium (Debian package
``chromium``): no console error, no request beyond the page itself, and
every plot present and drawn (each plot's screenshot has coloured pixels:
the series, not only the grey frame)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _chromium import check_page

from velox import _pipeline, _report_cli
from velox.report import _render
from velox_testing.realcomponents import need_binary

MIN_COLOURED = 60  # pixels with a hue (screenshots at half scale): a drawn series; a frame, grid and text are grey


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("browser")
    cfg = _pipeline.PipelineConfig(duration=0.6, rate=50_000, seed=33, flush_slack_us=10_000_000)
    report = _pipeline.run_pipeline(cfg, tick_seconds=0.1)
    report.write_json(str(d / "run.json"))
    base = _pipeline.run_pipeline(cfg, tick_seconds=0.1)
    base.write_json(str(d / "base.json"))
    bench = d / "bench.json"
    bench.write_text(json.dumps({
        "records": 1000, "repeats": 1, "cpus": [0, 1], "rigtorp_published_mrecords_per_s": 363.0,
        "cases": [{"capacity": 1024, "impl": "velox", "batch": b, "label": f"velox batch {b}", "ok": True,
                   "median_mrecords_per_s": 10.0 * b, "median_round_trip_ns": 180.0, "samples": []}
                  for b in (1, 16)]}))
    _report_cli.main([str(d / "run.json"), str(bench), "--baseline", str(d / "base.json"),
                      "--threshold", "0.99", "-o", str(d / "out")])
    return d / "out"


def test_report_in_chromium(report_dir, tmp_path):
    chromium = need_binary("chromium", "chromium")
    page = report_dir / "report.html"
    c = check_page(chromium, str(tmp_path / "profile"), page.as_uri())
    print({k: v["coloured"] for k, v in c.plots.items()})
    assert c.console_errors == []
    assert c.requests == [page.as_uri()], "the report fetched something besides itself"
    want = [f"run0-{p}" for p in _render.PLOTS_PER_RUN] + ["bench0"]
    assert list(c.plots) == want
    for pid, p in c.plots.items():
        _, _, w, h = p["rect"]
        assert w >= 300 and h >= 100, (pid, p["rect"])
        assert p["coloured"] >= MIN_COLOURED, f"plot {pid} looks blank: {p['coloured']} coloured pixels"


def test_check_catches_broken_pages(report_dir, tmp_path):
    """Mutants of the page: a console error, a resource from the network, and
    a plot whose series were lost. The browser check must flag each."""
    chromium = need_binary("chromium", "chromium")
    html = (report_dir / "report.html").read_text()
    blank = re.sub(r'(<svg class="plot" id="run0-throughput".*?</svg>)',
                   lambda m: re.sub(r"<polyline.*?</polyline>|<circle[^>]*/>|<line x1=\"6\d\d[^>]*/>", "",
                                    m.group(1), flags=re.DOTALL), html, flags=re.DOTALL)
    assert blank != html
    broken = blank.replace("</body>", '<script>console.error("boom")</script>'
                                      '<img src="http://127.0.0.1:9/cdn/x.png"></body>')
    page = tmp_path / "broken.html"
    page.write_text(broken)
    c = check_page(chromium, str(tmp_path / "profile"), page.as_uri())
    assert any("boom" in e for e in c.console_errors), c.console_errors
    assert "http://127.0.0.1:9/cdn/x.png" in c.requests
    assert c.plots["run0-throughput"]["coloured"] < MIN_COLOURED
    assert all(p["coloured"] >= MIN_COLOURED for k, p in c.plots.items() if k != "run0-throughput")
