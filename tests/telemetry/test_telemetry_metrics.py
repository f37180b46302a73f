"""The OpenTelemetry instruments over a real pipeline run, read with the
SDK's in-memory reader: names, units, attributes, and values equal to the
run's own totals."""

from __future__ import annotations

import time

import pytest
from _telemetry_expect import expected_counters, expected_histogram_counts, mismatches

from velox import _pipeline
from velox.telemetry import _names as n

pytestmark = pytest.mark.usefixtures("otel")

CFG = {"duration": 0.3, "seed": 11, "rate": 50_000, "flush_slack_us": 10_000_000}


def _provider(pipe, **reader_kw):
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from velox.telemetry._metrics import PipelineMetrics

    reader = InMemoryMetricReader(**reader_kw)
    provider = MeterProvider(metric_readers=[reader])
    return reader, provider, PipelineMetrics(pipe, provider, [reader])


def _flatten(data):
    """(name, attrs) -> point, plus name -> Metric, for the velox scope."""
    points, metrics = {}, {}
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            if sm.scope.name != "velox":
                continue
            for m in sm.metrics:
                metrics[m.name] = m
                for p in m.data.data_points:
                    points[(m.name, tuple(sorted(p.attributes.items())))] = p
    return points, metrics


def _run(**extra):
    pipe = _pipeline.Pipeline(_pipeline.PipelineConfig(**(CFG | extra)))
    return pipe


def test_instruments_equal_run_totals():
    pipe = _run(duration=0)  # until stop(): the mid-run reading cannot come after the end
    reader, provider, _ = _provider(pipe)
    pipe.start()
    while pipe.counters()["book"]["applied"] < 4096:  # the book holds orders from now on
        time.sleep(0.005)
    mid, _ = _flatten(reader.get_metrics_data())
    pipe.stop()
    report = pipe.wait()
    assert report.ok, [i for i in report.invariants if not i.ok]
    points, metrics = _flatten(reader.get_metrics_data())
    provider.shutdown()

    # names, units, kinds, descriptions: exactly the table in _names
    assert set(metrics) == {i.name for i in n.INSTRUMENTS}
    kinds = {"counter": "Sum", "histogram": "Histogram", "gauge": "Gauge"}
    for inst in n.INSTRUMENTS:
        m = metrics[inst.name]
        assert m.unit == inst.unit and m.description == inst.description
        assert type(m.data).__name__ == kinds[inst.kind]
        if inst.kind == "counter":
            assert m.data.is_monotonic
        attrs = {tuple(sorted(p.attributes.items())) for p in m.data.data_points}
        want = {((inst.attribute, v),) for v in inst.values} if inst.attribute else {()}
        assert attrs == want, inst.name
    assert len(points) == n.series_count() <= 25

    report_d = report.to_json_dict()
    counters = {k: p.value for k, p in points.items() if k[0] in {i.name for i in n.INSTRUMENTS if i.kind == "counter"}}
    assert mismatches(counters, expected_counters(report_d)) == []
    hist_counts = {k: p.count for k, p in points.items() if isinstance(getattr(p, "bucket_counts", None), list)}
    assert mismatches(hist_counts, expected_histogram_counts(report_d)) == []
    assert report.delivered > 0

    for k, p in points.items():
        if k[0] in (n.STAGE_LATENCY.name, n.E2E_LATENCY.name):
            assert sum(p.bucket_counts) == p.count
            assert list(p.explicit_bounds) == list(n.LATENCY_BOUNDS_S)
    e2e = points[(n.E2E_LATENCY.name, ())]
    lat = report.latency_ns["e2e"]
    assert e2e.sum == pytest.approx(lat["mean"] * lat["count"] / 1e9, rel=1e-9)
    assert e2e.max == pytest.approx(lat["max"] / 1e9, rel=1e-9)
    assert 0 <= e2e.min <= e2e.max

    # gauges: utilisation within [0, 1]; the book holds orders mid-run and is empty at the end
    for ring in n.RINGS:
        assert 0.0 <= points[(n.RING_UTILIZATION.name, (("ring", ring),))].value <= 1.0
    assert mid[(n.BOOK_DEPTH.name, (("side", "bid"),))].value > 0
    assert mid[(n.BOOK_DEPTH.name, (("side", "ask"),))].value > 0
    assert points[(n.BOOK_DEPTH.name, (("side", "bid"),))].value == 0
    assert points[(n.BOOK_DEPTH.name, (("side", "ask"),))].value == 0


def test_p99_bucket_brackets_native_p99():
    """The exported buckets locate the p99 where the native histogram puts it."""
    pipe = _run()
    reader, provider, _ = _provider(pipe)
    pipe.start()
    report = pipe.wait()
    points, _ = _flatten(reader.get_metrics_data())
    provider.shutdown()
    for key, native in [((n.E2E_LATENCY.name, ()), "e2e")] + [
            ((n.STAGE_LATENCY.name, (("stage", s),)), h) for s, h in n.LATENCY_STAGES.items()]:
        p = points[key]
        rank, acc = 0.99 * p.count, 0
        for i, c in enumerate(p.bucket_counts):  # noqa: B007 - i is the bucket found, used below
            acc += c
            if acc >= rank:
                break
        bounds = (0.0,) + n.LATENCY_BOUNDS_S + (float("inf"),)
        p99 = report.latency_ns[native]["p99"] / 1e9
        # a native bucket goes to the group of its top value: it is at most 3.2% wide
        assert bounds[i] / 1.033 <= p99 <= bounds[i + 1], (key, p99, bounds[i], bounds[i + 1])


def test_delta_temporality_adds_up():
    from opentelemetry.sdk.metrics import Histogram
    from opentelemetry.sdk.metrics.export import AggregationTemporality

    pipe = _run()
    reader, provider, _ = _provider(pipe, preferred_temporality={Histogram: AggregationTemporality.DELTA})
    pipe.start()
    totals: dict = {}
    while not pipe.finished():
        time.sleep(0.05)
        pts, metrics = _flatten(reader.get_metrics_data())
        assert metrics[n.E2E_LATENCY.name].data.aggregation_temporality == AggregationTemporality.DELTA
        for k, p in pts.items():
            if hasattr(p, "bucket_counts"):
                assert sum(p.bucket_counts) == p.count >= 0
                totals[k] = totals.get(k, 0) + p.count
    report = pipe.wait()
    pts, _ = _flatten(reader.get_metrics_data())
    provider.shutdown()
    for k, p in pts.items():
        if hasattr(p, "bucket_counts"):
            totals[k] = totals.get(k, 0) + p.count
    assert mismatches(totals, expected_histogram_counts(report.to_json_dict())) == []


def test_comparison_catches_a_wrong_mapping(monkeypatch):
    """Mutant: the bundle reasons exported under each other's label. The
    comparison with the run's totals must flag it."""
    monkeypatch.setattr(n, "BUNDLE_REASONS", {"size": "timeout", "timeout": "size", "final": "flush"})
    pipe = _run()
    reader, provider, _ = _provider(pipe)
    pipe.start()
    report = pipe.wait()
    points, _ = _flatten(reader.get_metrics_data())
    provider.shutdown()
    monkeypatch.undo()
    counters = {k: p.value for k, p in points.items() if k[0] in (n.TRANSACTIONS.name, n.BUNDLES.name,
                                                                  n.BOOK_TIMEOUTS.name, n.INGRESS_DROPPED.name)}
    c = report.counters["bundle"]
    assert c["size"] != c["timeout"], "the run must have different size and timeout counts to tell them apart"
    bad = mismatches(counters, expected_counters(report.to_json_dict()))
    assert len(bad) == 2 and all("velox.bundles" in b for b in bad)


def test_missing_extra_names_it(tmp_path):
    import subprocess
    import sys

    code = ("import sys; sys.modules['opentelemetry.sdk.metrics'] = None\n"
            "from velox._run import main\n"
            "sys.exit(main(['--duration', '0.1', '--quiet', '--prometheus', '127.0.0.1:0']))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "velox[telemetry]" in r.stderr and "opentelemetry-sdk" in r.stderr
