"""A real Prometheus (Debian package ``prometheus``) scrapes a real
``velox run --prometheus``: every dashboard panel's query returns data, and
the scraped velox_transactions_total equals the run's JSON totals."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from velox.telemetry import _names as n
from velox.telemetry import _panels
from velox_testing.realcomponents import need_binary

pytestmark = pytest.mark.usefixtures("otel")

SCRAPE = "500ms"
WINDOW = "10s"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


class Prometheus:
    def __init__(self, tmp_path, target: str) -> None:
        binary = need_binary("prometheus", "prometheus")
        self.port = _free_port()
        cfg = tmp_path / "prometheus.yml"
        cfg.write_text(
            f"global:\n  scrape_interval: {SCRAPE}\n  evaluation_interval: {SCRAPE}\n"
            f"scrape_configs:\n  - job_name: velox\n    static_configs:\n      - targets: ['{target}']\n")
        self.log = open(tmp_path / "prometheus.log", "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [binary, f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert self.proc.poll() is None, (tmp_path / "prometheus.log").read_text()
            assert time.monotonic() < deadline, "Prometheus did not become ready in 60 s"
            time.sleep(0.2)

    def wait_for_target(self) -> None:
        """Until Prometheus has tried its first scrape (target discovery takes
        a few seconds; nothing listens there yet, so it is 'down')."""
        deadline = time.monotonic() + 60
        while True:
            targets = _get(self.url + "/api/v1/targets")["data"]["activeTargets"]
            if targets and targets[0]["lastScrape"] > "2000":
                return
            assert time.monotonic() < deadline, f"Prometheus never tried its target: {targets}"
            time.sleep(0.2)

    def query(self, q: str, at: float | None = None) -> list:
        params = {"query": q} | ({} if at is None else {"time": repr(at)})
        d = _get(self.url + "/api/v1/query?" + urllib.parse.urlencode(params))
        assert d["status"] == "success", d
        return d["data"]["result"]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture
def prom_and_target(tmp_path):
    target_port = _free_port()
    prom = Prometheus(tmp_path, f"127.0.0.1:{target_port}")
    prom.wait_for_target()
    yield prom, target_port
    prom.stop()


def test_prometheus_scrapes_a_run(prom_and_target, tmp_path):
    prom, port = prom_and_target
    out = tmp_path / "run.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    r = subprocess.run(
        [sys.executable, "-m", "velox", "run", "--quiet", "--duration", "4", "--rate", "50000", "--seed", "3",
         "--json", str(out), "--prometheus", f"127.0.0.1:{port}", "--prometheus-linger", "20"],
        capture_output=True, text=True, timeout=180, env=env, check=False)
    print(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "final values scraped" in r.stdout
    report = json.loads(out.read_text())
    assert report["ok"]

    # Once the run has gone, Prometheus marks its series stale: read at the
    # time of the last successful scrape.
    samples = prom.query('velox_transactions_total{stage="output"}[5m]')
    assert samples, "Prometheus never scraped the run"
    at = float(samples[0]["values"][-1][0])
    print(f"{len(samples[0]['values'])} scrapes of the run")
    # the final scrape equals the run's totals, stage by stage
    scraped = {s["metric"]["stage"]: float(s["value"][1]) for s in prom.query("velox_transactions_total", at)}
    want = {stage: float(report["counters"][block][name]) for stage, (block, name) in n.TRANSACTION_STAGES.items()}
    print("scraped velox_transactions_total:", scraped, "run JSON:", want)
    assert scraped == want
    assert want["output"] > 0
    # every series of the table exists (histograms by their _count)
    for inst in n.INSTRUMENTS:
        name = inst.prometheus + ("_count" if inst.kind == "histogram" else "")
        got = prom.query(name, at)
        assert len(got) == max(1, len(inst.values)), (name, got)
    # every dashboard panel's every query returns data
    for panel in _panels.PANELS:
        for q in panel.queries:
            result = prom.query(_panels.expr(q, WINDOW), at)
            print(f"{panel.title}: {_panels.expr(q, WINDOW)} -> {len(result)} series")
            assert result, f"panel {panel.title!r}: no data for {_panels.expr(q, WINDOW)}"
            values = [float(r["value"][1]) for r in result]
            assert all(math.isfinite(v) for v in values), (panel.title, values)
