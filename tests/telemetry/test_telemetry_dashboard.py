"""The Grafana dashboard: the committed JSON is exactly what the generator
(grafana-foundation-sdk) makes, and it carries the eight panels of
velox.telemetry._panels (whose queries the Prometheus test runs)."""

from __future__ import annotations

import json
import re

from velox.telemetry import _dashboard, _names, _panels
from velox_testing.realcomponents import need_module


def _committed() -> dict:
    return json.loads(_dashboard.OUTPUT.read_text())


def test_committed_dashboard_matches_generator():
    need_module("grafana_foundation_sdk", "pip install 'velox[dashboard]' (or the test extra)")
    assert _dashboard.OUTPUT.read_text() == _dashboard.render(), (
        "observability/grafana/dashboards/velox.json is out of date: run python -m velox.telemetry._dashboard")


def test_check_flags_a_hand_edit(tmp_path, capsys):
    need_module("grafana_foundation_sdk", "pip install 'velox[dashboard]' (or the test extra)")
    edited = tmp_path / "velox.json"
    edited.write_text(_dashboard.OUTPUT.read_text().replace("[$__rate_interval]", "[5m]", 1))
    assert _dashboard.main(["--check", "--output", str(edited)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert _dashboard.main(["--check"]) == 0


def test_dashboard_has_the_eight_panels():
    d = _committed()
    panels = d["panels"]
    assert len(panels) == 8 == len(_panels.PANELS)
    for p, want in zip(panels, _panels.PANELS, strict=True):
        assert p["title"] == want.title and p["type"] == want.kind
        assert [t["expr"] for t in p["targets"]] == [q.expr for q in want.queries]
        assert p["datasource"]["uid"] == "${datasource}"
    assert [v["name"] for v in d["templating"]["list"]] == ["datasource"]


def test_panels_query_exported_names_only():
    exported = set()
    for inst in _names.INSTRUMENTS:
        exported.add(inst.prometheus)
        if inst.kind == "histogram":
            exported |= {inst.prometheus + s for s in ("_bucket", "_sum", "_count")}
    for panel in _panels.PANELS:
        for q in panel.queries:
            used = set(re.findall(r"\bvelox_[a-z0-9_]+", q.expr))
            assert used and used <= exported, (panel.title, used - exported)


def test_layout_does_not_overlap():
    cells = set()
    for p in _committed()["panels"]:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & mine, p["title"]
        cells |= mine


def test_compose_prometheus_config_is_valid(tmp_path):
    """The compose stack's Prometheus configuration (its rule file path made local)."""
    import subprocess

    from velox_testing.realcomponents import need_binary

    root = _dashboard.OUTPUT.parents[2]
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text((root / "prometheus.yml").read_text().replace("/etc/prometheus/alerts.yml",
                                                                 str(root / "alerts.yml")))
    r = subprocess.run([need_binary("promtool", "prometheus"), "check", "config", str(cfg)],
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0 and "SUCCESS" in r.stdout + r.stderr, r.stdout + r.stderr
