"""``velox run --otlp URL``: the real command exporting to an in-test
OTLP/HTTP receiver that decodes the protobuf requests; the final export
(at the end of the run, and after Ctrl-C) equals the run's JSON totals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from _otlp_receiver import OtlpReceiver
from _telemetry_expect import expected_counters, expected_histogram_counts, mismatches

from velox.telemetry import _names as n

pytestmark = pytest.mark.usefixtures("otel")

KINDS = {"counter": "sum", "histogram": "histogram", "gauge": "gauge"}


@pytest.fixture
def receiver():
    from velox_testing.realcomponents import need_module

    need_module("opentelemetry.proto.collector.metrics.v1.metrics_service_pb2", "pip install opentelemetry-proto")
    need_module("opentelemetry.exporter.otlp.proto.http", "pip install 'velox[telemetry]'")
    with OtlpReceiver() as r:
        yield r


def _velox_run(args, env_extra=None, **kw):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")} | (env_extra or {})
    return subprocess.Popen([sys.executable, "-m", "velox", "run", "--quiet", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _check_final(points: dict, report: dict) -> None:
    meta = points.pop("__meta__")
    assert set(meta) == {i.name for i in n.INSTRUMENTS}
    for inst in n.INSTRUMENTS:
        assert meta[inst.name] == (inst.unit, KINDS[inst.kind]), inst.name
    counters = {k: p.as_int for k, p in points.items()
                if k[0] in {i.name for i in n.INSTRUMENTS if i.kind == "counter"}}
    assert mismatches(counters, expected_counters(report)) == []
    hists = {k: p.count for k, p in points.items() if k[0] in (n.STAGE_LATENCY.name, n.E2E_LATENCY.name)}
    assert mismatches(hists, expected_histogram_counts(report)) == []
    for k, p in points.items():
        if k[0] in (n.STAGE_LATENCY.name, n.E2E_LATENCY.name):
            assert list(p.explicit_bounds) == list(n.LATENCY_BOUNDS_S) and sum(p.bucket_counts) == p.count
    assert report["counters"]["output"]["txns"] > 0


def test_otlp_export_equals_run_totals(receiver, tmp_path):
    out = tmp_path / "run.json"
    p = _velox_run(["--duration", "1", "--seed", "5", "--rate", "50000", "--json", str(out),
                    "--otlp", receiver.url], {"OTEL_METRIC_EXPORT_INTERVAL": "300"})
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 0, stdout + stderr  # telemetry on: every invariant still holds
    report = json.loads(out.read_text())
    assert report["ok"]
    assert f"OTLP/HTTP metrics to {receiver.url}/v1/metrics" in stdout
    assert receiver.errors == []
    assert receiver.content_types == {"application/x-protobuf"}
    assert len(receiver.metrics) >= 2, "periodic exports during the run, then the final one"
    res = {a.key: a.value.string_value for a in receiver.metrics[-1].resource_metrics[0].resource.attributes}
    assert res["service.name"] == "velox" and res["velox.seed"] == "5"
    _check_final(receiver.last_metrics(), report)
    # the earlier exports were cumulative and never ahead of the final totals
    first = receiver.metrics[0]
    from _otlp_receiver import flatten

    early = flatten(first)
    key = (n.TRANSACTIONS.name, (("stage", "output"),))
    assert early[key].as_int <= report["counters"]["output"]["txns"]


def test_ctrl_c_flushes_final_metrics(receiver, tmp_path):
    """Interval one hour: the only export is the final flush after Ctrl-C."""
    out = tmp_path / "run.json"
    p = _velox_run(["--duration", "0", "--seed", "9", "--rate", "50000", "--json", str(out),
                    "--otlp", receiver.url], {"OTEL_METRIC_EXPORT_INTERVAL": "3600000"})
    deadline = time.monotonic() + 60
    while "OTLP/HTTP metrics" not in (line := p.stdout.readline()):
        assert line and time.monotonic() < deadline, p.stderr.read()
    time.sleep(0.7)
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 0, stdout + stderr
    assert "interrupted" in stderr
    report = json.loads(out.read_text())
    assert report["interrupted"] and report["ok"]
    assert len(receiver.metrics) == 1
    _check_final(receiver.last_metrics(), report)


def test_otel_endpoint_variable(receiver, tmp_path):
    """--otlp without a URL: OTEL_EXPORTER_OTLP_ENDPOINT decides."""
    out = tmp_path / "run.json"
    p = _velox_run(["--duration", "0.3", "--seed", "1", "--json", str(out), "--otlp"],
                   {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_SERVICE_NAME": "bench-7"})
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 0, stdout + stderr
    assert len(receiver.metrics) == 1
    res = {a.key: a.value.string_value for a in receiver.metrics[-1].resource_metrics[0].resource.attributes}
    assert res["service.name"] == "bench-7"
    _check_final(receiver.last_metrics(), json.loads(out.read_text()))


@pytest.mark.parametrize("args, message", [
    (["--otlp", "ftp://x"], "expected an http(s) URL"),
    (["--prometheus", "nonsense"], "expected HOST:PORT"),
    (["--prometheus", "127.0.0.1:70000"], "port must be from 0 to 65535"),
    (["--prometheus-linger", "-1"], "must be from 0 to 3600"),
])
def test_bad_flags(args, message):
    p = _velox_run(["--duration", "0.1", *args])
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 2 and message in stderr, stdout + stderr


def test_port_in_use_is_a_clear_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = _velox_run(["--duration", "0.1", "--prometheus", f"127.0.0.1:{port}"])
        stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 2 and f"cannot serve Prometheus metrics on 127.0.0.1:{port}" in stderr, stdout + stderr
