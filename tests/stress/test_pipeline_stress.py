"""Stress: the whole native pipeline, for as long as you give it.

Each test is one family of settings (Poisson with drops, Poisson with blocking,
saturated, saturated through tiny rings) and runs for the stress length
(``--stress-seconds``, else ``$VELOX_STRESS_SECONDS``, else 10 s), as a
sequence of pipeline runs of at most SEGMENT seconds. Every segment draws its
seed, topology, wait strategy, price mode and ring sizes from the family's
seeded generator, so an overnight run covers many combinations and any
failure names the one segment that reproduces it.

Every segment checks, natively and on every record: FIFO, no loss and no
duplication per producer, bundle sizes and order, timeout flushes never
early, the book conserved and empty at quiescence, and (walk prices) a spread
that never goes negative. Progress goes to the terminal after each segment
(operations per second, checks passed, violations), then a final summary.
The families are separate tests so pytest-xdist (``-n auto``) spreads them.
"""

from __future__ import annotations

import os
import random
import shlex
import sys
import time
from dataclasses import dataclass, field

import pytest

from velox._pipeline import PipelineConfig, PipelineReport, run_pipeline

pytestmark = pytest.mark.stress

SEGMENT = 20.0  # seconds per pipeline run at most
# A forgotten bundle shows up as seconds of hold; preemption on a loaded
# machine as milliseconds. The stress gate flags the former only.
SLACK_US = 2_000_000


def stress_seconds(config: pytest.Config) -> float:
    opt = config.getoption("--stress-seconds", default=None)
    if opt is not None:
        return float(opt)
    env = os.environ.get("VELOX_STRESS_SECONDS")
    return float(env) if env else 10.0


FAMILIES = {
    "poisson_drop": {"rate": (50_000, 200_000, 1_000_000, 5_000_000), "backpressure": "drop", "saturate": False},
    "poisson_block": {"rate": (100_000, 2_000_000, 20_000_000), "backpressure": "block", "saturate": False},
    "saturated": {"saturate": True, "backpressure": "block"},
    "saturated_tiny_rings": {"saturate": True, "backpressure": "block", "ring_capacity": (64, 128), "batch": (1, 7, 64)},
}


def _draw(family: str, rng: random.Random, seconds: float) -> PipelineConfig:
    f = FAMILIES[family]
    choice = lambda key, default: rng.choice(f[key]) if key in f else default
    return PipelineConfig(
        duration=seconds,
        rate=float(choice("rate", 100_000)),
        saturate=f["saturate"],
        backpressure=f["backpressure"],
        price_mode=rng.choice(("uniform", "walk")),
        topology=rng.choice(("auto", "single", "pairs", "split", "stages")),
        wait=rng.choice(("yield", "yield", "park")),
        pin=rng.random() < 0.5,
        ring_capacity=choice("ring_capacity", rng.choice((64, 1024, 4096, 65536))),
        batch=choice("batch", rng.choice((16, 64, 256))),
        bundle_size=rng.choice((1, 5, 16)),
        bundle_timeout_us=rng.choice((16.0, 100.0)),
        flush_slack_us=SLACK_US,
        producers=rng.choice((1, 4, 256)),
        seed=rng.randrange(1 << 63),
    )


def reproduce_command(cfg: PipelineConfig) -> str:
    args = ["velox", "run", "--duration", f"{cfg.duration:g}", "--seed", str(cfg.seed),
            "--price-mode", cfg.price_mode, "--topology", cfg.topology, "--wait", cfg.wait,
            "--pin" if cfg.pin else "--no-pin", "--ring-capacity", str(cfg.ring_capacity), "--batch", str(cfg.batch),
            "--bundle-size", str(cfg.bundle_size), "--bundle-timeout-us", f"{cfg.bundle_timeout_us:g}",
            "--flush-slack-us", f"{cfg.flush_slack_us:g}", "--producers", str(cfg.producers)]
    args += ["--saturate"] if cfg.saturate else ["--rate", f"{cfg.rate:g}", "--backpressure", cfg.backpressure]
    return shlex.join(args)


@dataclass
class Totals:
    segments: int = 0
    transactions: int = 0
    bundles: int = 0
    dropped: int = 0
    checks: int = 0
    violations: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    def add(self, r: PipelineReport) -> None:
        self.segments += 1
        self.transactions += r.delivered
        self.bundles += r.counters["output"]["bundles"]
        self.dropped += r.dropped
        # one order check per transaction, one framing/size/sequence check per bundle,
        # plus each named invariant of the segment
        self.checks += r.delivered + r.counters["output"]["bundles"] + len(r.invariants)
        out, book = r.counters["output"], r.counters["book"]
        self.violations += (out["gap"] + out["backward"] + out["bad_producer"] + out["tail_mismatch"]
                            + out["size_violations"] + out["seq_violations"] + out["frame_errors"]
                            + out["early_flushes"] + out["late_flushes"] + book["crossed"]
                            + (book["conserved"] == 0) + (book["empty_at_end"] == 0)
                            + sum(not i.ok for i in r.invariants if i.name == "no loss"))
        self.seconds += r.elapsed_s


def _say(capsys: pytest.CaptureFixture[str], text: str) -> None:
    with capsys.disabled():
        print(text, file=sys.stderr, flush=True)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_pipeline_stress(family: str, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> None:
    total_s = stress_seconds(request.config)
    master = int(os.environ.get("VELOX_SEED", random.randrange(1 << 32)))
    rng = random.Random(f"{family}:{master}")
    _say(capsys, f"\n[pipeline stress {family}] {total_s:g} s, master seed {master} "
                 f"(VELOX_SEED={master} replays the same segments)")
    totals = Totals()
    deadline = time.monotonic() + total_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0.05:
            break
        cfg = _draw(family, rng, max(0.05, min(SEGMENT, left)))
        r = run_pipeline(cfg)
        totals.add(r)
        bad = [i for i in r.invariants if not i.ok]
        status = "ok" if not bad else "VIOLATION"
        _say(capsys, f"[pipeline stress {family}] segment {totals.segments}: {r.delivered:,} txn in "
                     f"{r.elapsed_s:.1f} s ({r.throughput:,.0f}/s, {r.topology}/{cfg.wait}, {cfg.price_mode}, "
                     f"ring {cfg.ring_capacity}, batch {cfg.batch}, bundle {cfg.bundle_size}); "
                     f"checks passed {totals.checks - totals.violations:,}, violations {totals.violations} "
                     f"[{status}]")
        if bad:
            msg = (f"segment {totals.segments} of family {family} (master seed {master}) failed: "
                   + "; ".join(f"{i.name}: {i.detail}" for i in bad)
                   + f"\nreproduce: {reproduce_command(cfg)}")
            totals.failures.append(msg)
            _say(capsys, msg)
    _say(capsys, f"[pipeline stress {family}] summary: {totals.segments} segments, {totals.seconds:.0f} s, "
                 f"{totals.transactions:,} transactions, {totals.bundles:,} bundles, {totals.dropped:,} dropped, "
                 f"{totals.checks:,} checks, {totals.violations} violations")
    assert totals.segments > 0
    assert not totals.failures, "\n".join(totals.failures)


def test_pipeline_tsan_stress(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str],
                              tmp_path) -> None:
    """The native pipeline built with -fsanitize=thread (tests/stress/pipeline_main.c),
    cycling through topologies, wait strategies and ring sizes for the stress length."""
    from test_pipeline import build_tsan, run_tsan

    total_s = stress_seconds(request.config)
    master = int(os.environ.get("VELOX_SEED", random.randrange(1 << 32)))
    rng = random.Random(f"tsan:{master}")
    exe = build_tsan(str(tmp_path))
    _say(capsys, f"\n[pipeline tsan] {total_s:g} s, master seed {master}")
    deadline = time.monotonic() + total_s
    runs = 0
    while time.monotonic() < deadline - 0.05:
        seconds = max(0.1, min(10.0, deadline - time.monotonic()))
        args = (f"{seconds:.2f}", rng.randrange(1 << 63), rng.randint(1, 4), rng.choice((1, 2)), rng.randint(0, 1),
                rng.randint(0, 1), rng.choice((64, 256, 4096)), rng.choice((1, 16, 64)))
        res = run_tsan(exe, *args)
        runs += 1
        _say(capsys, f"[pipeline tsan] run {runs}: {res.stdout.strip()} (exit {res.returncode})")
        assert res.returncode == 0, (
            f"pipeline_main {' '.join(map(str, args))} under TSan (master seed {master}) exit {res.returncode}:\n"
            f"{res.stdout}\n{res.stderr[-6000:]}")
    _say(capsys, f"[pipeline tsan] summary: {runs} runs, no race, no violation")
