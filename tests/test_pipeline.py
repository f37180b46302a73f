"""The native pipeline: short runs checking accounting and invariants. The
generator is tests/test_ingress.py, the histogram tests/test_histogram.py, the
proof that the invariant checks can fail tests/test_pipeline_mutants.py, the
ThreadSanitizer build tests/test_pipeline_tsan.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

import velox
from velox import _pipeline
from velox._native import _core
from velox._pipeline import Pipeline, PipelineConfig, PipelineConfigError, run_pipeline

SHORT = 0.3  # seconds of ingress per run: long enough for thousands of bundles, short for the gate


def run(**kw) -> _pipeline.PipelineReport:
    kw.setdefault("duration", SHORT)
    kw.setdefault("seed", 12345)
    # No timing asserts: how late a flush may be depends on the machine's load,
    # so the gate only checks "never early" (and the mutant test below).
    kw.setdefault("flush_slack_us", 10_000_000)
    r = run_pipeline(PipelineConfig(**kw))
    if not r.ok:  # say what failed and how to reproduce it
        bad = [i for i in r.invariants if not i.ok]
        pytest.fail(f"invariants failed with seed {r.seed} and {kw}: {bad}\n"
                    f"first violation {r.first_violation}, topology {r.topology}, counters {r.counters}")
    return r


def assert_accounted(r: _pipeline.PipelineReport) -> None:
    ing = r.counters["ingress"]
    assert r.delivered == r.generated
    assert ing["arrivals"] == ing["generated"] + ing["dropped"] + ing["backlog"]
    assert r.counters["book"]["applied"] == r.generated
    assert r.counters["bundle"]["in"] == r.generated
    assert r.counters["output"]["bundles"] == r.counters["bundle"]["bundles"]


# ---------------------------------------------------------------- runs


def test_smoke():
    r = run(rate=50_000)
    assert r.generated > 0
    assert_accounted(r)
    assert r.latency_ns["e2e"]["count"] == r.delivered
    assert r.latency_ns["e2e"]["p50"] <= r.latency_ns["e2e"]["p99"] <= r.latency_ns["e2e"]["max"]
    assert [i.name for i in r.invariants] == [
        "no loss", "FIFO per producer", "bundle sizes <= limit", "timeout flushes within bound",
        "book conserved and empty at the end"]


def test_saturate_no_loss():
    r = run(saturate=True)
    assert r.dropped == 0
    assert r.generated > 10_000
    assert_accounted(r)
    # full bundles only, except possibly the last (final flush)
    b = r.counters["bundle"]
    assert b["size"] >= b["bundles"] - b["timeout"] - 1


@pytest.mark.parametrize("topology", ["single", "pairs", "split", "stages"])
def test_topologies(topology):
    r = run(saturate=True, duration=0.2, topology=topology, wait="yield")
    assert r.topology == topology
    assert r.threads == {"single": 1, "pairs": 2, "split": 2, "stages": 4}[topology]
    assert_accounted(r)


@pytest.mark.parametrize("wait", ["busy", "yield", "park"])
def test_wait_strategies(wait):
    # Two threads so that a busy spinner never shares a core with more than one peer.
    r = run(rate=20_000, duration=0.2, topology="pairs", wait=wait)
    assert_accounted(r)
    # What holds however loaded the machine is: how many idle passes a thread
    # sees depends on the scheduler (with CPU-bound neighbours every yield
    # hands the core away and a thread may never reach the sleeping rung), so
    # the counts are checked against the ladder, not against a guess.
    if wait == "busy":
        assert r.wait_yields == 0 and r.wait_sleeps == 0
    if wait == "yield":
        assert r.wait_sleeps == 0
    if wait == "park":  # a thread sleeps only after climbing the whole yield rung
        assert r.wait_sleeps == 0 or r.wait_yields >= _core.WAIT_YIELDS


@pytest.mark.parametrize("wait,runs,expect", [
    ("busy", [10_000], (0, 0)),
    ("yield", [_core.WAIT_SPINS], (0, 0)),
    ("yield", [_core.WAIT_SPINS + 5, _core.WAIT_SPINS + 2], (7, 0)),
    ("park", [_core.WAIT_SPINS + _core.WAIT_YIELDS], (_core.WAIT_YIELDS, 0)),
    ("park", [_core.WAIT_SPINS + _core.WAIT_YIELDS + 3], (_core.WAIT_YIELDS, 3)),
    # A useful pass starts the ladder again from the spinning rung.
    ("park", [_core.WAIT_SPINS + _core.WAIT_YIELDS + 2] * 2, (2 * _core.WAIT_YIELDS, 4)),
])
def test_wait_ladder(wait, runs, expect):
    """The strategies' ladders, exactly: spin, then yield, then (park) sleep."""
    assert _core._wait_ladder(_pipeline.WAITS.index(wait), runs) == expect


def test_drops():
    # A tiny first ring, an arrival rate far above what the pipeline can take
    # and a consumer that sleeps when idle: ring 0 overflows and drops are counted.
    r = run(rate=200_000_000, duration=0.2, ring_capacity=64, batch=64, topology="split", wait="park",
            backpressure="drop")
    assert r.dropped > 0
    assert_accounted(r)


def test_block_backpressure_never_drops():
    r = run(rate=200_000_000, duration=0.2, ring_capacity=64, topology="split", wait="park",
            backpressure="block")
    assert r.dropped == 0
    assert r.counters["ingress"]["blocked"] > 0
    assert_accounted(r)


def test_walk_never_crosses():
    r = run(saturate=True, duration=0.3, price_mode="walk")
    inv = {i.name: i for i in r.invariants}
    assert inv["spread >= 0 (walk prices never cross)"].ok
    assert r.counters["book"]["cross_checks"] > 0
    assert r.counters["book"]["crossed"] == 0


def test_timeout_flushes():
    # At 1,000 txn/s a bundle of 16 takes ~16 ms to fill: bundles leave on the 100 us timeout.
    r = run(rate=1_000, duration=0.3, bundle_timeout_us=100)
    b = r.counters["bundle"]
    assert b["timeout"] > 0
    assert r.counters["output"]["early_flushes"] == 0
    assert r.latency_ns["flush_late"]["count"] == b["timeout"]


def test_bundle_size_limit():
    r = run(saturate=True, duration=0.2, bundle_size=5)
    assert r.counters["output"]["size_violations"] == 0
    assert r.counters["bundle"]["size"] > 0


def test_stop_early():
    pipe = Pipeline(PipelineConfig(duration=0, rate=100_000, seed=1, flush_slack_us=10_000_000))
    pipe.start()
    time.sleep(0.2)
    assert not pipe.finished()
    snap = pipe.snapshot()
    assert snap.counters["ingress"]["generated"] > 0
    pipe.stop()
    r = pipe.wait()
    assert r.interrupted
    assert r.ok, r.invariants
    assert_accounted(r)


def test_snapshot_while_running():
    pipe = Pipeline(PipelineConfig(duration=0.4, saturate=True, seed=2, flush_slack_us=10_000_000))
    pipe.start()
    time.sleep(0.15)
    s1 = pipe.snapshot()
    time.sleep(0.1)
    s2 = pipe.snapshot()
    r = pipe.wait()
    assert s2.counters["output"]["txns"] >= s1.counters["output"]["txns"]
    cap = pipe.config.ring_capacity  # the bound was 4096 when that was the default capacity
    assert all(0 <= n <= cap for n in s1.rings + s2.rings)
    assert r.ok


def test_output_file_round_trip(tmp_path):
    path = tmp_path / "bundles.bin"
    r = run(rate=50_000, duration=0.2, output=str(path), producers=3)
    data = path.read_bytes()
    assert len(data) == (r.delivered + 2) * velox.TXN_SIZE  # header, records, trailer
    data = data[velox.TXN_SIZE:-velox.TXN_SIZE]
    next_id = [0, 0, 0]
    for off in range(0, len(data), velox.TXN_SIZE):
        t = velox.Transaction.from_bytes(data[off:off + velox.TXN_SIZE])
        assert t.id == next_id[t.producer]
        next_id[t.producer] += 1
        assert velox.price_to_ticks(90) <= t.price < velox.price_to_ticks(110)
        assert 1 <= t.qty <= 100
    assert sum(next_id) == r.delivered


def test_same_seed_same_stream(tmp_path):
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    run(saturate=True, duration=0.1, output=str(a), seed=99)
    run(saturate=True, duration=0.1, output=str(b), seed=99)
    # Records only: the files open with a header record and end with a trailer record.
    n = min(a.stat().st_size, b.stat().st_size) // velox.TXN_SIZE - 2
    assert n > 1000
    da, db = a.read_bytes()[velox.TXN_SIZE:], b.read_bytes()[velox.TXN_SIZE:]  # past the header
    strip = lambda t: (t.id, t.price, t.qty, t.side, t.producer)  # ts differs run to run
    for i in range(0, n, 97):
        ta = velox.Transaction.from_bytes(da[i * 32:(i + 1) * 32])
        tb = velox.Transaction.from_bytes(db[i * 32:(i + 1) * 32])
        assert strip(ta) == strip(tb)


def test_report_json(tmp_path):
    r = run(rate=20_000, duration=0.1)
    path = tmp_path / "r.json"
    r.write_json(str(path))
    import json

    d = json.loads(path.read_text())
    assert d["schema"] == _pipeline.REPORT_SCHEMA
    assert d["ok"] is True
    assert d["seed"] == 12345
    assert set(d["latency_ns"]) == set(_pipeline.HISTOGRAMS)
    assert set(d["latency_ns"]["e2e"]) == {"count", "max", "mean", "p50", "p90", "p99", "p999"}
    assert set(d["counters"]) == set(_pipeline.STAGES)
    assert d["counters"]["output"]["txns"] == r.delivered


@pytest.mark.parametrize("kw, word", [
    ({"rate": 0}, "rate"),
    ({"rate": float("nan")}, "rate"),
    ({"duration": -1}, "duration"),
    ({"ring_capacity": 1000}, "ring_capacity"),
    ({"ring_capacity": 32}, "ring_capacity"),
    ({"bundle_size": 0}, "bundle_size"),
    ({"bundle_size": 17}, "bundle_size"),
    ({"bundle_timeout_us": 0}, "bundle_timeout_us"),
    ({"price_mode": "gauss"}, "price_mode"),
    ({"wait": "spin"}, "wait"),
    ({"topology": "ring"}, "topology"),
    ({"producers": 0}, "producers"),
    ({"producers": 1000}, "producers"),
    ({"batch": 0}, "batch"),
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
])
def test_bad_config(kw, word):
    with pytest.raises(PipelineConfigError, match=word):
        Pipeline(PipelineConfig(**kw))


def test_bad_output_path(tmp_path):
    with pytest.raises(PipelineConfigError, match="cannot open output file"):
        Pipeline(PipelineConfig(output=str(tmp_path / "no" / "such" / "dir" / "f.bin")))


def test_topology_adapts_to_cpus():
    """auto: one thread per stage only when every stage can have a CPU; pinning
    only when there are enough CPUs, and never for a lone thread."""
    cpus = sorted(os.sched_getaffinity(0))
    try:
        os.sched_setaffinity(0, {cpus[0]})
        one = Pipeline(PipelineConfig(duration=0.05, seed=1))
        assert (one.topology, one.threads) == ("single", 1)
        four = Pipeline(PipelineConfig(duration=0.05, seed=1, topology="stages", pin=True, flush_slack_us=10_000_000))
        assert four.threads == 4
        r = _pipeline.drive(four)
        assert not r.pinned  # 4 threads, 1 CPU
        assert r.ok, r.invariants
    finally:
        os.sched_setaffinity(0, cpus)
    auto = Pipeline(PipelineConfig(duration=0.05, seed=1, saturate=True))
    assert auto.topology in (("stages", "pairs", "single") if len(cpus) >= 4 else ("pairs", "single"))
    assert Pipeline(PipelineConfig(duration=0.05, seed=1)).topology == "single"  # 100,000 txn/s: one thread
    if len(cpus) >= 2:
        r = _pipeline.drive(Pipeline(PipelineConfig(duration=0.05, seed=1, topology="pairs", pin=True,
                                                     flush_slack_us=10_000_000)))
        assert r.pinned and r.ok


# ---------------------------------------------------------------- auto topology


@pytest.mark.parametrize(
    ("cpus", "load", "round_trip", "expected"),
    [
        (1, 0.0, None, "single"),
        (2, 0.2, 60.0, "pairs"),      # two idle CPUs, near placement
        (2, 0.2, 400.0, "single"),    # far placement: a handoff costs a far round trip
        (2, 0.2, None, "single"),     # could not measure: never guess a spread
        (2, 1.2, 60.0, "single"),     # one CPU busy with other work
        (4, 0.3, 60.0, "stages"),
        (4, 1.0, 60.0, "pairs"),      # three idle: not enough for four threads
        (8, 7.0, 60.0, "single"),
    ],
)
def test_auto_topology_rule(cpus, load, round_trip, expected):
    topo, why = _pipeline.choose_topology(cpus, load, round_trip)
    assert topo == expected
    assert why.startswith("auto: ") and f"{cpus} CPUs" in why
    # The same machine at a Poisson rate beyond what one thread carries with room to spare: the same rule.
    assert _pipeline.choose_topology(cpus, load, round_trip, rate=2e7)[0] == expected


@pytest.mark.parametrize("cpus", [1, 2, 4, 8])
@pytest.mark.parametrize("rate", [1.0, 100_000.0, _pipeline.AUTO_SINGLE_MAX_RATE])
def test_auto_topology_keeps_a_modest_rate_on_one_thread(cpus, rate):
    """Below the rate one thread carries with room to spare, every stage boundary on another core would
    only add a cross-core handoff to the latency: one thread, on any machine."""
    topo, why = _pipeline.choose_topology(cpus, 0.0, 60.0, rate=rate)
    assert topo == "single" and "fits one thread" in why


@pytest.mark.parametrize(
    ("threads", "cpus", "load", "expected"),
    [
        (1, 1, 0.0, "busy"),
        (1, 2, 1.2, "busy"),    # one thread, 0.8 idle CPUs: it has a core
        (1, 2, 1.8, "yield"),   # the other work needs both CPUs
        (2, 2, 0.3, "busy"),
        (2, 2, 1.0, "yield"),   # one of the two would share its core
        (4, 2, 0.0, "yield"),   # more threads than CPUs: spinning would starve a partner
        (4, 4, 0.2, "busy"),
        (4, 8, 5.0, "yield"),
    ],
)
def test_auto_wait_rule(threads, cpus, load, expected):
    wait, why = _pipeline.choose_wait(threads, cpus, load)
    assert wait == expected and why.startswith("auto: ")


def test_auto_wait_is_resolved_and_reported():
    cfg = _pipeline.PipelineConfig(duration=0.05, rate=10_000, seed=3)
    assert cfg.wait == "auto"
    with _pipeline.Pipeline(cfg) as pipe:
        assert pipe.wait_strategy in ("busy", "yield") and pipe.wait_reason.startswith("auto: ")
        report = _pipeline.drive(pipe)
    assert report.ok
    wait = report.to_json_dict()["wait"]
    assert (wait["strategy"], wait["reason"]) == (pipe.wait_strategy, pipe.wait_reason)
    given = _pipeline.run_pipeline(_pipeline.PipelineConfig(duration=0.05, rate=10_000, seed=3, wait="park"))
    assert given.to_json_dict()["wait"]["strategy"] == "park" and given.wait_reason == ""


def test_auto_topology_is_resolved_and_reported():
    cfg = _pipeline.PipelineConfig(duration=0.05, rate=10_000, seed=3, topology="auto")
    with _pipeline.Pipeline(cfg) as pipe:
        assert pipe.topology in ("single", "pairs", "stages")
        assert pipe.topology_reason.startswith("auto: ")
        report = _pipeline.drive(pipe)
    assert report.ok and report.topology_reason == pipe.topology_reason
    assert report.to_json_dict()["topology_reason"] == pipe.topology_reason


def test_busy_cpus_sees_a_spinning_process():
    """auto's measure of other work: a process spinning on a CPU makes that CPU count as busy."""
    cpu = sorted(os.sched_getaffinity(0))[0]
    code = f"import os, time; os.sched_setaffinity(0, {{{cpu}}}); t = time.time() + 3\nwhile time.time() < t: pass"
    spinner = subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(0.3)  # started and pinned
        assert _pipeline.busy_cpus([cpu], window_s=0.2) >= 0.5
    finally:
        spinner.kill()
        spinner.wait()


def test_busy_cpus_falls_back_to_the_load_average(monkeypatch):
    monkeypatch.setattr(_pipeline, "_cpu_times", lambda cpus: None)
    monkeypatch.setattr(_pipeline.os, "getloadavg", lambda: (7.5, 0.0, 0.0))
    assert _pipeline.busy_cpus([0, 1], window_s=0.0) == 2.0  # never more than the CPUs asked about
