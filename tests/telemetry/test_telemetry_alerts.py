"""observability/alerts.yml: `promtool check rules`, the `promtool test
rules` unit tests (each alert fires on a breaching series and stays quiet on
one just under its threshold), and broken rules that those tests catch."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from velox.telemetry import _names as n
from velox_testing.realcomponents import need_binary

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "observability" / "alerts.yml"
UNIT = Path(__file__).with_name("alerts_test.yml")
ALERTS = ("VeloxE2ELatencyP99High", "VeloxIngressDrops", "VeloxOrderbookTimeoutRateHigh", "VeloxRingUtilizationHigh")


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([need_binary("promtool", "prometheus"), *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120, check=False)


def test_check_rules():
    r = _promtool("check", "rules", str(RULES), cwd=ROOT)
    print(r.stdout + r.stderr)
    assert r.returncode == 0 and "SUCCESS: 4 rules found" in r.stdout, r.stdout + r.stderr


def test_rules_unit_tests():
    r = _promtool("test", "rules", UNIT.name, cwd=UNIT.parent)
    print(r.stdout + r.stderr)
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr


def test_every_alert_is_unit_tested():
    text, unit = RULES.read_text(), UNIT.read_text()
    assert re.findall(r"- alert: (\w+)", text) == list(ALERTS)
    for alert in ALERTS:
        assert f"alertname: {alert}" in unit


def test_rules_query_exported_names():
    exported = set()
    for inst in n.INSTRUMENTS:
        exported.add(inst.prometheus)
        if inst.kind == "histogram":
            exported |= {inst.prometheus + s for s in ("_bucket", "_sum", "_count")}
    used = set(re.findall(r"\bvelox_[a-z0-9_]+", RULES.read_text()))
    assert used and used <= exported, used - exported


# Broken rules (mutants): each must make the unit tests fail.
MUTANTS = {
    "latency threshold 20 ms": ("> 20e-6", "> 20e-3"),
    "latency p90 instead of p99": ("histogram_quantile(0.99,", "histogram_quantile(0.90,"),
    "drops need more than 10": ("increase(velox_ingress_dropped_total[1m]) > 0", "increase(velox_ingress_dropped_total[1m]) > 10"),
    "timeout rate 10%": ("> 0.01", "> 0.1"),
    "timeouts over all stages": ('velox_transactions_total{stage="book"}', "velox_transactions_total"),
    "ring threshold 75%": ("velox_ring_buffer_utilization > 0.8", "velox_ring_buffer_utilization > 0.75"),
    "ring alert without for": ("        expr: velox_ring_buffer_utilization > 0.8\n        for: 1m\n",
                               "        expr: velox_ring_buffer_utilization > 0.8\n"),
}


@pytest.mark.parametrize("name", MUTANTS)
def test_unit_tests_catch_broken_rule(name, tmp_path):
    old, new = MUTANTS[name]
    text = RULES.read_text()
    assert text.count(old) == 1, f"mutant {name!r} no longer applies: update it"
    (tmp_path / "alerts.yml").write_text(text.replace(old, new))
    (tmp_path / "alerts_test.yml").write_text(
        UNIT.read_text().replace("../../observability/alerts.yml", "alerts.yml"))
    r = _promtool("test", "rules", "alerts_test.yml", cwd=tmp_path)
    assert r.returncode != 0 and "FAILED" in r.stdout + r.stderr, f"mutant {name!r} survived:\n{r.stdout}{r.stderr}"
