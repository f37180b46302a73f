"""The native pipeline: short runs checking accounting and invariants, the
generator and the histogram it is built from, and proof that the pipeline's
invariant checks fail on deliberately broken builds (tests/mutants)."""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    assert all(0 <= n <= 4096 for n in s1.rings)
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
    n = min(a.stat().st_size, b.stat().st_size) // velox.TXN_SIZE
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


# ---------------------------------------------------------------- generator


def _txns(data: bytes) -> list:
    return [velox.Transaction.from_bytes(data[i:i + 32]) for i in range(0, len(data), 32)]


def test_ingress_uniform_prices_and_sequences():
    txns = _txns(_core._ingress_sample(7, 0, 5, 20_000))
    next_id = [0] * 5
    for t in txns:
        assert 900_000 <= t.price < 1_100_000
        assert 1 <= t.qty <= 100
        assert t.id == next_id[t.producer]
        next_id[t.producer] += 1
    assert min(next_id) > 3000  # every producer is used
    sides = sum(t.side for t in txns)
    assert 0.45 < sides / len(txns) < 0.55


def test_ingress_walk_never_crosses_within_an_order_lifetime():
    """Replays the book stage's window: after every transaction the live
    orders are the last ORDER_LIFETIME ones; every live bid must sit on a
    lower book level than every live ask."""
    life, shift, base = _core.ORDER_LIFETIME, _core.BOOK_TICK_SHIFT, _core.BOOK_BASE_PRICE
    txns = _txns(_core._ingress_sample(11, 1, 1, 30_000))
    level = lambda t: (t.price - base) >> shift
    for end in range(life, len(txns), 37):
        live = txns[end - life:end]
        bids = [level(t) for t in live if t.side == velox.BID]
        asks = [level(t) for t in live if t.side == velox.ASK]
        assert max(bids) < min(asks), f"crossed in window ending at {end}"
        assert 0 <= min(bids) and max(asks) < _core.BOOK_LEVELS


def test_ingress_exponential_gaps():
    rate = 1e-3  # one arrival per 1000 ticks
    arr = _core._ingress_arrivals(3, rate, 50_001)
    gaps = [b - a for a, b in itertools.pairwise(arr)]
    mean = sum(gaps) / len(gaps)
    assert abs(mean - 1000) < 30  # 50k samples: standard error ~4.5
    # exponential: P(gap > mean) = 1/e
    frac = sum(g > 1000 for g in gaps) / len(gaps)
    assert abs(frac - math.exp(-1)) < 0.02
    assert all(g > 0 for g in gaps)


# ---------------------------------------------------------------- histogram


@given(st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 10_000), min_size=1, max_size=300),
       st.sampled_from([0.0, 0.5, 0.9, 0.99, 0.999, 1.0]))
def test_histogram_quantile_bounds(values, q):
    h = _core._Histogram()
    for v in values:
        h.record(v)
    s = sorted(values)
    exact = s[max(1, math.ceil(q * len(s))) - 1]
    got = h.quantile(q)
    assert exact <= got <= exact + exact // 32, (exact, got)
    summary = h.summary()
    assert summary["count"] == len(values) and summary["max"] == s[-1]


@given(st.integers(0, 2**64 - 1))
def test_histogram_bucket_holds_value(v):
    lo, hi = _core._Histogram.bucket_bounds(v)
    assert lo <= v <= hi
    assert hi - lo <= max(0, lo // 32)


def test_histogram_empty():
    h = _core._Histogram()
    assert h.quantile(0.99) == 0
    with pytest.raises(ValueError):
        h.quantile(1.5)


# ---------------------------------------------------------------- the checks can fail

def _pipeline_mutants():
    try:
        from mutants.catalogue import for_gate
    except ImportError:  # pragma: no cover - the catalogue ships with the tests
        return []
    return [m.name for m in for_gate("pipeline")]


def _run_mutant(name: str, cfg: dict) -> dict:
    from mutants.build import build_core_mutant

    mod = build_core_mutant(name, log=lambda msg: None)
    pipe = Pipeline(PipelineConfig(**cfg), _core_module=mod)
    rep = _pipeline.drive(pipe)
    return {"ok": rep.ok, "failed": [i.name for i in rep.invariants if not i.ok], "seed": rep.seed}


#: mutant -> (config, the invariant that must fail)
MUTANT_EXPECTATIONS = {
    "pipeline_rec_off_by_one_at_wrap": ({"saturate": True, "duration": 0.2, "ring_capacity": 256}, "FIFO per producer"),
    "pipeline_bundle_swaps_first_two": ({"saturate": True, "duration": 0.2, "producers": 1}, "FIFO per producer"),
    # busy wait: a yielding thread on a loaded machine comes back too late to flush early
    "pipeline_timeout_in_ns_not_ticks": ({"rate": 5_000, "duration": 0.5, "topology": "single", "wait": "busy"},
                                         "timeout flushes within bound"),
    "pipeline_bundle_never_polls": ({"rate": 1_000, "duration": 0.5, "topology": "single", "wait": "busy"},
                                    "timeout flushes within bound"),
    "pipeline_drop_not_counted": (
        {"rate": 200_000_000, "duration": 0.2, "ring_capacity": 64, "topology": "split", "wait": "park"}, "no loss"),
    "pipeline_final_cancel_off_by_one": ({"saturate": True, "duration": 0.2},
                                             "book conserved and empty at the end"),
}


@pytest.mark.parametrize("name", sorted(MUTANT_EXPECTATIONS))
def test_invariant_checks_catch_mutant(name):
    from mutants.build import run_isolated

    assert name in _pipeline_mutants(), f"{name} missing from tests/mutants/catalogue.py"
    cfg, must_fail = MUTANT_EXPECTATIONS[name]
    cfg = dict(cfg, seed=4242, flush_slack_us=10_000_000)
    res = run_isolated(lambda: _run_mutant(name, cfg), timeout=240)
    assert res["ok"], res.get("error")
    assert not res["value"]["ok"], f"mutant {name} passed every invariant (seed 4242, {cfg})"
    assert must_fail in res["value"]["failed"], res["value"]


def test_unmutated_copy_passes():
    """Control for the mutant tests: the builder's unmutated copy passes."""
    from mutants.build import run_isolated

    res = run_isolated(lambda: _run_mutant(None, {"saturate": True, "duration": 0.2, "seed": 4242,
                                                                  "flush_slack_us": 10_000_000}), timeout=240)
    assert res["ok"], res.get("error")
    assert res["value"]["ok"], res["value"]


def test_every_pipeline_mutant_has_an_expectation():
    assert sorted(_pipeline_mutants()) == sorted(MUTANT_EXPECTATIONS)


# ---------------------------------------------------------------- ThreadSanitizer

_TSAN_SOURCES = ["vx_pipeline.c", "vx_ring.c", "vx_book.c", "vx_bundle.c", "vx_hist.c", "vx_ingress.c", "vx_txn.c",
                 "vx_tsc.c"]
_MAIN = os.path.join(os.path.dirname(__file__), "stress", "pipeline_main.c")
_NATIVE = os.path.join(os.path.dirname(__file__), "..", "velox", "_native")


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def build_tsan(out_dir, sources: dict[str, str] | None = None, reuse: str | None = None) -> str:
    """Compile tests/stress/pipeline_main.c and the pipeline's C sources with
    gcc -fsanitize=thread (in parallel, one process per file); ``sources``
    (file name -> text) replaces the shipping sources (a mutant), and objects
    of files whose text did not change are reused from the build in ``reuse``.
    Returns the executable's path."""
    import shutil
    import subprocess

    cc = os.environ.get("CC", "gcc")
    if shutil.which(cc) is None:
        pytest.skip(f"no C compiler {cc!r} for the ThreadSanitizer build")
    src_dir = os.path.join(out_dir, "src")
    os.makedirs(src_dir, exist_ok=True)
    texts = {}
    for name in os.listdir(_NATIVE):
        if name.endswith((".c", ".h")):
            texts[name] = sources[name] if sources and name in sources else _read(os.path.join(_NATIVE, name))
            with open(os.path.join(src_dir, name), "w") as f:
                f.write(texts[name])
    if reuse is not None and any(n.endswith(".h") and texts[n] != _read(os.path.join(reuse, "src", n))
                                 for n in texts if n.endswith(".h")):
        reuse = None  # a header changed: rebuild everything
    flags = ["-std=gnu11", "-O1", "-g", "-fsanitize=thread", "-pthread", "-Wall", "-Wextra", "-Wno-unused-parameter",
             "-I", src_dir]
    procs, objs = [], []
    for path in [_MAIN] + [os.path.join(src_dir, n) for n in _TSAN_SOURCES]:
        name = os.path.basename(path)
        obj = os.path.join(out_dir, name + ".o")
        objs.append(obj)
        old = os.path.join(reuse, name + ".o") if reuse else None
        if old and os.path.exists(old) and (name not in texts or
                                            texts[name] == _read(os.path.join(reuse, "src", name))):
            shutil.copy(old, obj)
            continue
        procs.append(subprocess.Popen([cc, *flags, "-c", path, "-o", obj], stderr=subprocess.PIPE, text=True))
    for proc in procs:
        err = proc.communicate()[1]
        if proc.returncode != 0 and "tsan" in err.lower() and "cannot find" in err.lower():
            pytest.skip(f"gcc has no ThreadSanitizer runtime here: {err.strip()}")
        assert proc.returncode == 0, err
    exe = os.path.join(out_dir, "pipeline_main")
    res = subprocess.run([cc, "-fsanitize=thread", "-pthread", *objs, "-lm", "-o", exe], capture_output=True,
                         text=True, check=False)
    if res.returncode != 0 and "tsan" in res.stderr.lower():
        pytest.skip(f"gcc cannot link the ThreadSanitizer runtime here: {res.stderr.strip()}")
    assert res.returncode == 0, res.stderr
    return exe


def run_tsan(exe: str, *args: object) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TSAN_OPTIONS="halt_on_error=1 exitcode=66")
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.fixture(scope="module")
def tsan_exe(tmp_path_factory):
    """The shipping pipeline under TSan, cached by the hash of its sources
    (beside the mutant builds) so a warm gate does not recompile it."""
    import hashlib

    from mutants.build import cache_dir

    h = hashlib.sha256()
    for name in sorted(os.listdir(_NATIVE)) + [_MAIN]:
        if name.endswith((".c", ".h")):
            h.update(name.encode() + b"\0" + _read(os.path.join(_NATIVE, name) if name != _MAIN else _MAIN).encode())
    h.update(os.environ.get("CC", "gcc").encode())
    out = cache_dir() / "tsan-pipeline" / h.hexdigest()[:20]
    exe = out / "pipeline_main"
    if exe.exists():
        return str(exe)
    tmp = str(tmp_path_factory.mktemp("tsan"))
    built = build_tsan(tmp)
    import shutil

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_suffix(f".tmp{os.getpid()}")
    shutil.copytree(tmp, staging, dirs_exist_ok=True)
    try:
        os.replace(staging, out)
    except OSError:  # another worker won the race: use its copy
        shutil.rmtree(staging, ignore_errors=True)
    return str(exe) if exe.exists() else built


# args: seconds seed topology wait saturate price_mode ring batch
@pytest.mark.parametrize("topology", [1, 2, 3, 4], ids=["single", "pairs", "split", "stages"])
def test_tsan_clean(tsan_exe, topology):
    res = run_tsan(tsan_exe, 0.3, 17, topology, 1, 1, topology % 2, 256, 16)
    assert res.returncode == 0, f"seed 17 topology {topology}:\n{res.stdout}\n{res.stderr[-4000:]}"
    assert "violations 0" in res.stdout


def test_tsan_catches_publish_before_write(tmp_path, tsan_exe):
    """The TSan gate can fail: a book stage that publishes its batch before
    writing the slots races with the bundle stage reading them."""
    from mutants.build import mutant_sources

    exe = build_tsan(str(tmp_path), mutant_sources("pipeline_commit_before_write"),
                     reuse=os.path.dirname(tsan_exe))
    res = run_tsan(exe, 0.3, 17, 2, 1, 1, 0, 256, 16)
    assert res.returncode == 66, res.stdout + res.stderr[-2000:]
    assert "data race" in res.stderr


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
    auto = Pipeline(PipelineConfig(duration=0.05, seed=1))
    assert auto.topology == ("stages" if len(cpus) >= 4 else "single")
    if len(cpus) >= 2:
        r = _pipeline.drive(Pipeline(PipelineConfig(duration=0.05, seed=1, topology="pairs", pin=True,
                                                     flush_slack_us=10_000_000)))
        assert r.pinned and r.ok
