"""The native benchmark driver (vx_bench.c, velox bench): it runs, it delivers
every record in order, it rejects bad arguments with clear errors, and its
delivery check catches a driver that drops, duplicates or loses a record.

The last part builds the catalogue's "bench" mutants (deliberately broken
copies of vx_bench.c) beside a small C harness through velox's build module;
nothing of it reaches the shipping sources. Small record counts keep the whole file to a few
seconds; no test here looks at a time.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from velox import _bench
from velox._bench_cli import main as bench_main
from velox._native import _build as vxb
from velox_testing import native
from velox_testing.catalogue import for_gate

# ---------------------------------------------------------------- smoke


@pytest.mark.parametrize(
    ("capacity", "batch", "impl", "records"),
    [
        (1024, 1, "velox", 50_000),
        (64, 16, "velox", 50_000),
        (1024, 64, "velox", 50_001),  # a last, partial batch
        (1024, 1, "lamport", 50_000),
        (1, 1, "velox", 2_000),  # every push fills the ring
        (2, 2, "velox", 2_000),  # every batch fills the ring
        (1, 1, "lamport", 2_000),
        (1024, 1, "minimal", 50_000),
        (1024, 64, "minimal", 50_001),
        (1, 1, "minimal", 2_000),
        (2, 2, "minimal", 2_000),
    ],
)
def test_spsc_delivers_every_record_in_order(capacity, batch, impl, records):
    run = _bench.ring_run(capacity=capacity, records=records, batch=batch, impl=impl)
    assert run.ok, run.describe_failure()
    assert run.received == records
    assert run.mismatch_at is None and run.got_id is None
    assert 1 <= run.publications <= records
    if batch == 1:
        assert run.publications == records  # one index store per record
    else:
        assert run.publications >= -(-records // batch)


def test_unpinned_runs_and_says_so():
    run = _bench.ring_run(capacity=16, records=5_000, cpus=(-1, -1))
    assert run.ok and run.pinned is False


def test_round_trip_smoke():
    rt = _bench.round_trip(iterations=2_000, samples=3)
    assert len(rt.samples_ns) == 3 and rt.median_ns > 0


LABELS = ["velox per-item", "minimal per-item (peer)", "lamport per-item (peer)", "velox batch 16",
          "minimal batch 16 (peer)"]


def test_suite_interleaves_cases_and_records_round_trips():
    lines: list[str] = []
    results = _bench.run_suite(capacities=[64], batches=[16], records=5_000, repeats=2, round_trips=500,
                               progress=lines.append)
    assert [r.case.label for r in results] == LABELS
    assert all(len(r.runs) == 2 and r.ok for r in results)
    assert all(run.round_trip_ns and run.round_trip_ns > 0 for r in results for run in r.runs)
    assert all(run.round_trip_after_ns and run.round_trip_after_ns > 0 for r in results for run in r.runs)
    assert all(run.placement in ("near", "far", "mixed", "disturbed") for r in results for run in r.runs)
    assert len(lines) == 10 and lines[0].startswith("[1/10] repeat 1")


@pytest.mark.parametrize(
    ("round_trips", "split", "expected"),
    [
        ((45.0, 60.0), 200.0, "near"),
        ((400.0, 250.0), 200.0, "far"),
        ((120.0, 380.0), 200.0, "mixed"),
        ((120.0, 5000.0), 200.0, "disturbed"),
        ((200.0,), 200.0, "near"),  # the split itself counts as near
        ((120.0, 130.0), 100.0, "far"),
        ((None, None), 200.0, "unknown"),
    ],
)
def test_placement_labels(round_trips, split, expected):
    assert _bench.placement_of(*round_trips, near_below_ns=split) == expected


def test_medians_per_placement_use_only_their_runs():
    def run(mrps: float, where: str) -> _bench.RingRun:
        return _bench.RingRun(impl="velox", capacity=64, batch=1, records=1000, elapsed_ns=int(1000 * 1e3 / mrps),
                              received=1000, publications=1000, pinned=True, ok=True, mismatch_at=None,
                              expected_id=None, got_id=None, full_polls=0, empty_polls=0, round_trip_ns=50.0,
                              placement=where)
    res = _bench.CaseResult(case=_bench.Case(impl="velox", batch=1), capacity=64,
                            runs=[run(100.0, "near"), run(20.0, "far"), run(110.0, "near"), run(60.0, "mixed")])
    assert res.median_in("near") == pytest.approx(105.0, rel=1e-3)
    assert res.median_in("far") == pytest.approx(20.0, rel=1e-3)
    assert res.median_in("disturbed") is None


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capacity": 3}, "capacity must be a power of two from 1 to 2\\*\\*26"),
        ({"capacity": 0}, "capacity must be in \\[1, 67108864\\], got 0"),
        ({"records": 0}, "records must be in \\[1, 1099511627776\\], got 0"),
        ({"batch": 0}, "batch must be in \\[1, 4096\\], got 0"),
        ({"batch": 4097}, "batch must be in \\[1, 4096\\], got 4097"),
        ({"capacity": 8, "batch": 16}, "batch must not exceed the capacity"),
        ({"impl": "lamport", "batch": 16}, "the Lamport peer is measured per item only"),
        ({"impl": "rigtorp"}, "impl must be one of \\['lamport', 'minimal', 'velox'\\], got 'rigtorp'"),
        ({"cpus": (0,)}, "cpus must be two CPU numbers"),
        ({"cpus": (0, -2)}, "cpu_consumer must be in \\[-1, 2147483647\\], got -2"),
    ],
)
def test_bad_arguments_are_rejected_clearly(kwargs, message):
    args = {"capacity": 1024, "records": 1000, "batch": 1, "impl": "velox"} | kwargs
    with pytest.raises(ValueError, match=message):
        _bench.ring_run(**args)


def test_bad_types_are_rejected():
    with pytest.raises(TypeError, match="records must be an int, got float"):
        _bench.ring_run(capacity=1024, records=1e6)
    with pytest.raises(ValueError, match="iterations must be in"):
        _bench.round_trip(iterations=0)
    with pytest.raises(ValueError, match="samples must be an int >= 1"):
        _bench.round_trip(samples=0)


# ---------------------------------------------------------------- command line


def test_cli_help_explains_itself(capsys):
    assert bench_main(["--help"]) == 0
    out = capsys.readouterr().out
    for word in ("round trip", "Lamport", "minimal", "near", "far", "rigtorp", "--capacity", "--batch", "--cpus",
                 "--near-below", "medians"):
        assert word in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--capacity", "1000"], "--capacity: 1000 is not a power of two"),
        (["--capacity", "x"], "--capacity must be comma-separated integers"),
        (["--batch", "1"], "--batch: 1 is outside 2..4096"),
        (["--records", "0"], "--records must be from 1 to"),
        (["--cpus", "0"], "--cpus must be two CPU numbers"),
        (["--near-below", "0"], "--near-below must be a positive number"),
        (["--capacity", "8", "--batch", "16"], "batch 16 exceeds capacity 8"),
    ],
)
def test_cli_rejects_bad_arguments(argv, message, capsys):
    assert bench_main(argv) == 2
    assert message in capsys.readouterr().err


def test_cli_runs_and_reports_medians_with_round_trip(tmp_path, capsys):
    out_json = tmp_path / "ring.json"
    rc = bench_main(["--capacity", "64", "--batch", "16", "--records", "5000", "--repeats", "1",
                     "--round-trips", "500", "--json", str(out_json)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "velox per-item" in captured.out and "lamport per-item (peer)" in captured.out
    assert "minimal per-item (peer)" in captured.out and "velox per-item / minimal per-item" in captured.out
    assert "rt ns" in captured.out and "velox per-item / lamport per-item" in captured.out
    assert "capacity 64, all runs (round trip" in captured.out
    assert "velox batch 16 / minimal per-item" in captured.out
    assert "[1/5] repeat 1" in captured.err  # progress
    import json

    data = json.loads(out_json.read_text())
    assert [c["label"] for c in data["cases"]] == LABELS
    assert all(c["ok"] and c["median_round_trip_ns"] > 0 for c in data["cases"])


# ---------------------------------------------------------------- mutants
# The catalogue's "bench" mutants (velox_testing.catalogue) break delivery one
# way each; tests/support/native/bench_main.c runs one benchmark against them.


@pytest.fixture(scope="module")
def build_driver():
    """Build the benchmark harness for the shipping sources and each "bench"
    mutant of the catalogue, and return a lookup from mutant name (None: the
    shipping sources) to executable."""
    if shutil.which(vxb.profile("driver").compiler()) is None:
        pytest.skip("gcc is needed to build the driver's mutants")
    names = [None] + [m.name for m in for_gate("bench")]
    exes = {n: native.build("bench", mutant=n) for n in names}
    return lambda name: exes[name]


def test_every_bench_mutant_is_checked():
    assert sorted(m.name for m in for_gate("bench")) == sorted(
        ["bench_drops_record_1000", "bench_duplicates_record_999", "bench_never_sends_the_last_record"])


def _run(exe: Path, capacity: int, records: int, batch: int, impl: int) -> dict[str, int]:
    out = native.run(exe, capacity, records, batch, impl, timeout=60)
    assert out.returncode == 0, out.stderr
    return {k: int(v) for k, v in (kv.split("=") for kv in out.stdout.split())}


# (capacity, batch, impl) with impl 0 = velox, 1 = Lamport peer, 2 = minimal peer.
SHAPES = [(64, 1, 0), (64, 16, 0), (64, 1, 1), (64, 1, 2), (64, 16, 2)]


@pytest.mark.parametrize("shape", SHAPES)
def test_unmutated_driver_build_delivers(build_driver, shape):
    got = _run(build_driver(None), shape[0], 3_000, shape[1], shape[2])
    assert got["ok"] == 1 and got["received"] == 3_000 and got["mismatch_at"] == -1


@pytest.mark.parametrize("shape", SHAPES)
def test_mutant_dropping_a_record_is_reported(build_driver, shape):
    got = _run(build_driver("bench_drops_record_1000"), shape[0], 3_000, shape[1], shape[2])
    assert got["ok"] == 0
    assert (got["mismatch_at"], got["expected"], got["got"]) == (1000, 1000, 1001)


@pytest.mark.parametrize("shape", SHAPES)
def test_mutant_duplicating_a_record_is_reported(build_driver, shape):
    got = _run(build_driver("bench_duplicates_record_999"), shape[0], 3_000, shape[1], shape[2])
    assert got["ok"] == 0
    assert (got["mismatch_at"], got["expected"], got["got"]) == (1000, 1000, 999)


@pytest.mark.parametrize("shape", [s for s in SHAPES if s[1] == 1])
def test_mutant_losing_the_last_record_is_reported_not_hung(build_driver, shape):
    got = _run(build_driver("bench_never_sends_the_last_record"), shape[0], 3_000, shape[1], shape[2])
    assert got["ok"] == 0 and got["received"] == 2_999
    assert (got["mismatch_at"], got["expected"], got["got"]) == (2999, 2999, -1)


def test_pipeline_peer_runs_and_checks_itself():
    """The minimal pipeline peer (vx_bench_pipe.c) that benches/bench_pipeline.py
    quotes beside `velox run --saturate`: it delivers every transaction in
    order and its book is conserved; bad arguments are errors."""
    from velox._native import _core

    for single_writer in (False, True):
        r = _core.bench_pipeline_peer(100_003, seed=7, single_writer=single_writer)
        assert r["transactions"] == 100_003 and r["fifo_violations"] == 0 and r["conserved"]
        assert r["elapsed_ns"] > 0
    with pytest.raises(TypeError):
        _core.bench_pipeline_peer(10, single_writer=1)
    for bad in (0, -1, 1 << 41):
        with pytest.raises(ValueError):
            _core.bench_pipeline_peer(bad)
