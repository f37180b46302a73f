"""Sampled traces: the native side rings (never blocking a stage, drops
counted) and ``velox run --otlp`` exporting one span per sampled
transaction to an in-test OTLP/HTTP receiver."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time

import pytest
from _otlp_receiver import OtlpReceiver

from velox import _pipeline
from velox_testing.realcomponents import need_module

pytestmark = pytest.mark.usefixtures("otel")


def test_full_side_ring_drops_and_counts_without_blocking():
    """Side rings of 2 records, every transaction sampled, nobody draining:
    the run still completes, every invariant holds, and each sample is
    either recorded or counted as dropped."""
    pipe = _pipeline.Pipeline(_pipeline.PipelineConfig(duration=0.3, rate=50_000, seed=4,
                                                       flush_slack_us=10_000_000))
    pipe._native.trace_enable(1.0, 2)
    pipe.start()
    report = pipe.wait()
    assert report.ok, [i for i in report.invariants if not i.ok]
    book_rec, book_drop, out_rec, out_drop, over = pipe._native.trace_stats()
    assert book_rec == 2 and out_rec == 1  # what fits: 2 book records, 1 output sample (2 records)
    assert over == 0  # no budget given
    assert book_rec + book_drop == report.counters["book"]["applied"] > 1000
    # only the transactions whose book record fitted are marked for the output stage
    assert out_rec + out_drop == book_rec
    book, out = pipe._native.trace_drain()
    assert len(book) == 2 and len(out) == 1
    _producer, _txn_id, ingress, arrival, flush, output = out[0]
    assert ingress <= arrival <= flush <= output


def test_trace_enable_errors():
    pipe = _pipeline.Pipeline(_pipeline.PipelineConfig(duration=0.05, seed=1))
    with pytest.raises(ValueError):
        pipe._native.trace_enable(0.0, 1024)
    with pytest.raises(ValueError):
        pipe._native.trace_enable(0.5, 1000)  # not a power of two
    pipe.start()
    with pytest.raises(RuntimeError, match="before start"):
        pipe._native.trace_enable(0.5, 1024)
    pipe.wait()


def test_otlp_spans_one_per_sampled_transaction(tmp_path):
    need_module("opentelemetry.proto.collector.trace.v1.trace_service_pb2", "pip install opentelemetry-proto")
    rate = 0.02
    out = tmp_path / "run.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    with OtlpReceiver() as rx:
        r = subprocess.run([sys.executable, "-m", "velox", "run", "--quiet", "--duration", "1", "--rate", "50000",
                            "--seed", "8", "--json", str(out), "--otlp", rx.url, "--trace-sample", str(rate)],
                           capture_output=True, text=True, timeout=180, env=env, check=False)
        time.sleep(0.2)
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(out.read_text())
    assert report["ok"]
    spans = [s for req in rx.traces for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans]
    n = report["counters"]["output"]["txns"]
    line = next(x for x in r.stdout.splitlines() if x.startswith("telemetry: traces:"))
    m = re.search(r"(\d+) transactions selected by the sampling hash, (\d+) over the span budget, "
                  r"(\d+) samples dropped \(side ring full\), (\d+) spans exported", line)
    assert m, line
    selected, over, dropped, exported = map(int, m.groups())
    # Selection is a hash of (producer, id) under rate x 2^64: a Bernoulli-like
    # draw per transaction, so the count is within 5 standard deviations.
    sd = math.sqrt(n * rate * (1 - rate))
    print(f"{selected} selected of {n} transactions (expected {n * rate:.0f} +- {5 * sd:.0f}); {line}")
    assert abs(selected - n * rate) <= 5 * sd + 1
    # every selection is a span, unless counted: over the span budget (a
    # loaded machine's catch-up bursts exceed it), or a side ring full
    assert exported == len(spans) == selected - over - dropped > 0
    keys = set()
    for s in spans:
        assert s.name == "velox.transaction"
        attrs = {a.key: a.value for a in s.attributes}
        keys.add((attrs["velox.producer"].int_value, attrs["velox.txn.id"].int_value))
        assert attrs["velox.e2e_ns"].int_value >= 0
        names = [e.name for e in s.events]
        assert names == ["book", "bundle.arrival", "bundle.flush", "output"]
        times = [s.start_time_unix_nano] + [e.time_unix_nano for e in s.events]
        assert times == sorted(times) and s.end_time_unix_nano == s.events[-1].time_unix_nano
    assert len(keys) == len(spans), "one span per sampled transaction"
    assert all(p < report["config"]["producers"] for p, _ in keys)


def test_trace_sample_flag_checked():
    r = subprocess.run([sys.executable, "-m", "velox", "run", "--duration", "0.1", "--trace-sample", "1.5"],
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2 and "must be a fraction from 0 to 1" in r.stderr


def test_every_span_has_its_book_event():
    """A quarter of the transactions sampled, the tracer draining while the
    pipeline runs: every span has its ``book`` event (a sample whose book
    record does not fit is not sampled at all). A drain that read the book
    ring before the output ring lost book records of transactions that
    passed book and output between the two reads."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from velox.telemetry._traces import PipelineTracer

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    pipe = _pipeline.Pipeline(_pipeline.PipelineConfig(duration=1.0, rate=100_000, seed=11))
    tracer = PipelineTracer(pipe, provider, rate=0.25, max_spans_per_s=1e9)
    pipe.start()
    report = pipe.wait()
    stats = tracer.close()
    assert report.ok, [i for i in report.invariants if not i.ok]
    spans = exporter.get_finished_spans()
    assert stats["spans"] == len(spans) > 5_000
    missing = [s for s in spans if [e.name for e in s.events][:1] != ["book"]]
    print(f"{len(spans)} spans, {stats['book_dropped']} book samples dropped, {len(missing)} spans without book")
    assert len(missing) == stats["without_book"] == 0


def test_span_budget_is_spent_in_the_book_stage():
    """Every transaction selected, a budget of 500 samples a second: about
    500 per second of run are sampled (one second's worth of burst at the
    start), the rest are counted over the budget at the book stage, and
    only sampled transactions reach the output side ring."""
    pipe = _pipeline.Pipeline(_pipeline.PipelineConfig(duration=1.0, rate=100_000, seed=5))
    pipe._native.trace_enable(1.0, 1 << 16, 500.0)
    pipe.start()
    report = pipe.wait()
    assert report.ok, [i for i in report.invariants if not i.ok]
    book_rec, book_drop, out_rec, out_drop, over = pipe._native.trace_stats()
    assert book_rec + book_drop + over == report.counters["book"]["applied"] > 50_000
    assert book_drop == out_drop == 0
    assert out_rec == book_rec
    # burst of 500 plus 500 a second over about a second of run
    assert 500 <= book_rec <= 500 + 500 * (report.elapsed_s + 0.5), (book_rec, report.elapsed_s)
    with pytest.raises(ValueError):
        _pipeline.Pipeline(_pipeline.PipelineConfig(duration=0.05, seed=1))._native.trace_enable(0.5, 1024, 0.5)


def test_output_file_carries_no_trace_mark(tmp_path):
    """Traced transactions are marked between stages; the output file holds
    the transactions as generated, every flags byte zero."""
    out = tmp_path / "out.bin"
    pipe = _pipeline.Pipeline(_pipeline.PipelineConfig(duration=0.2, rate=50_000, seed=6, output=str(out)))
    pipe._native.trace_enable(1.0, 1 << 16)
    pipe.start()
    report = pipe.wait()
    assert report.ok, [i for i in report.invariants if not i.ok]
    assert pipe._native.trace_stats()[2] > 1000  # output samples recorded
    data = out.read_bytes()
    body = data[32:len(data) - 32]  # one header and one trailer record
    assert len(body) == 32 * report.delivered
    flags = {body[i + 29] for i in range(0, len(body), 32)}  # vx_txn.flags is byte 29
    assert flags == {0}
