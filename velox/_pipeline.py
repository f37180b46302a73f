"""The native pipeline from Python: a configuration, a run, and its report.

``PipelineConfig`` holds every knob (validated with a message that says what
is allowed); ``Pipeline(config)`` owns one native run: ``start()`` launches
the C threads (they never take the GIL), ``snapshot()`` reads the statistics
off the hot path while they run, ``stop()`` asks ingress to stop early
(Ctrl-C), and ``wait()`` joins them and returns a ``PipelineReport`` with the
counts, the latency percentiles and the invariant verdict. ``run_pipeline``
does all of that in one call, with an optional callback once a second.

The invariants are checked natively, by the output stage, on every record:
each producer's sequence numbers arrive in order with no gap or duplicate,
bundles are numbered in order and never exceed the size limit, timeout
flushes happen after the timeout and not later than timeout + slack, and the
book stage checks conservation and emptiness once it is quiescent. This
module only turns the counters into named verdicts.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import _outfile
from ._native import _core

PRICE_MODES = ("uniform", "walk")
BACKPRESSURES = ("drop", "block")
WAITS = ("busy", "yield", "park")
#: what ``--wait`` accepts: a strategy, or ``auto`` (``choose_wait``)
WAIT_CHOICES = ("auto", *WAITS)
TOPOLOGIES = ("auto", "single", "pairs", "split", "stages")
#: what each topology runs on each thread (I ingress, B book, U bundle, O output)
TOPOLOGY_THREADS = {"single": "I+B+U+O", "pairs": "I+B | U+O", "split": "I | B+U+O", "stages": "I | B | U | O"}

#: transactions an order rests in the book before the book stage cancels it
ORDER_LIFETIME: int = _core.ORDER_LIFETIME

#: ``auto`` spreads the stages over two threads only when the two CPUs it
#: would use are near each other: a core-to-core round trip at most this (ns).
AUTO_NEAR_NS = 200.0

#: ``auto`` keeps a Poisson run at or below this rate on one thread: one thread
#: carries about 36 M txn/s saturated, so at this rate it is busy a seventh of
#: the time or less, and every stage boundary moved to another core would only add
#: a cross-core handoff to each transaction's latency.
AUTO_SINGLE_MAX_RATE = 5_000_000.0


def _fits_one_thread(rate: float | None) -> bool:
    """A Poisson rate (None: saturated) that ``auto`` keeps on one thread."""
    return rate is not None and rate <= AUTO_SINGLE_MAX_RATE


def choose_topology(cpus: int, load: float, round_trip_ns: float | None,
                    rate: float | None = None) -> tuple[str, str]:
    """The rule ``topology="auto"`` applies, with the reason it prints.

    ``cpus`` usable CPUs, ``load`` the CPUs' worth of other work running on
    them (``busy_cpus``), ``round_trip_ns`` the core-to-core round trip between the
    first two usable CPUs (None: not measured), ``rate`` the Poisson rate
    (None: saturated). A Poisson run one thread can carry with room to spare
    (at most ``AUTO_SINGLE_MAX_RATE``) runs on one thread, where no
    transaction waits for a cross-core handoff. Otherwise throughput decides,
    and a cross-thread handoff only pays when both threads hold a core at the
    same time: with four idle CPUs every stage gets a thread (``stages``);
    with two idle CPUs that are near each other, two threads of two stages
    each (``pairs``); otherwise all four stages on one thread (``single``),
    which never waits for a descheduled partner. docs/pipeline.md gives the
    measurements behind it."""
    idle = cpus - load
    why = f"{cpus} CPUs, {load:.1f} busy"
    if _fits_one_thread(rate):
        return "single", f"auto: {why}, {rate:,.0f} txn/s fits one thread (lowest latency: no cross-core handoff)"
    if cpus >= 4 and idle >= 3.5:
        return "stages", f"auto: {why}, at least 4 CPUs idle"
    if cpus >= 2 and idle >= 1.5:
        if round_trip_ns is not None and round_trip_ns <= AUTO_NEAR_NS:
            return "pairs", f"auto: {why}, 2 CPUs idle, round trip {round_trip_ns:.0f} ns (near)"
        rt = "not measured" if round_trip_ns is None else f"{round_trip_ns:.0f} ns (far)"
        return "single", f"auto: {why}, round trip {rt}"
    return "single", f"auto: {why}, fewer than 2 CPUs idle"


def choose_wait(threads: int, cpus: int, load: float) -> tuple[str, str]:
    """The rule ``wait="auto"`` applies, with the reason it prints.

    A busy-spinning thread only hurts when it holds a core another thread of
    the pipeline needs, or when other work needs that core (it then keeps it
    until the scheduler's tick instead of handing it over). So: ``busy`` when
    every pipeline thread can have an idle CPU of its own (idle CPUs, usable
    CPUs minus ``load``, the CPUs' worth of other work, at least
    ``threads - 0.5``), else ``yield``.
    Busy waiting is what keeps the latency tail low: at 100,000 txn/s on one
    thread, ``yield`` gave each sched_yield to whatever else was runnable and
    an end-to-end p99.9 of about 100 us, ``busy`` about 4 us
    (docs/pipeline.md)."""
    idle = cpus - load
    why = f"auto: {threads} thread{'s' if threads > 1 else ''}, {cpus} CPUs, {load:.1f} busy"
    if threads <= cpus and idle >= threads - 0.5:
        return "busy", f"{why}: an idle CPU for each"
    return "yield", f"{why}: busy spinning would hold a CPU other work needs"


def _cpu_times(cpus: list[int]) -> tuple[float, float] | None:
    """(busy, total) jiffies of these CPUs from /proc/stat, or None where there is none."""
    try:
        with open("/proc/stat") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    want = {f"cpu{c}" for c in cpus}
    busy = total = 0.0
    for line in lines:
        name, _, rest = line.partition(" ")
        if name in want:
            v = [float(x) for x in rest.split()]
            idle = v[3] + (v[4] if len(v) > 4 else 0.0)  # idle + iowait
            total += sum(v[:8])  # guest time is already counted in user
            busy += sum(v[:8]) - idle
    return (busy, total) if total > 0 else None


def busy_cpus(cpus: list[int], window_s: float = 0.05) -> float:
    """CPUs' worth of work running on ``cpus`` now: their busy fraction over
    ``window_s`` seconds (/proc/stat), times their number. What ``auto``
    uses: the load average would also count the last minute's own runs, so
    a run right after another one would see a busy machine. Where /proc/stat
    is missing, the 1-minute load average stands in."""
    a = _cpu_times(cpus)
    time.sleep(window_s)
    b = _cpu_times(cpus)
    if a is None or b is None or b[1] <= a[1]:
        return min(float(len(cpus)), os.getloadavg()[0])
    return len(cpus) * (b[0] - a[0]) / (b[1] - a[1])


def _auto_topology(core: Any, allowed: list[int], rate: float | None, load: float) -> tuple[str, str]:
    """Measure what choose_topology needs on the ``allowed`` CPUs (a few ms) and apply it."""
    if _fits_one_thread(rate):
        return choose_topology(len(allowed), load, None, rate)  # no measurement needed
    rt = None
    if len(allowed) >= 2:
        try:
            rt = min(core.bench_round_trip(allowed[0], allowed[1], 2000)[0] / 2000 for _ in range(3))
        except (OSError, ValueError, MemoryError):
            rt = None
    return choose_topology(len(allowed), load, rt, rate)


STAGES = ("ingress", "book", "bundle", "output")
HISTOGRAMS = ("ingress_lag", "age_at_book", "age_at_bundle", "e2e", "total", "flush_late")
REPORT_SCHEMA = "velox.pipeline.report/1"
#: quantiles of the latency spectrum in the report (1 - 10^-k steps, then the maximum)
SPECTRUM = (0.0, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99995, 0.99999, 0.999999, 1.0)

# Counter indices, as in vx_pipeline.h (tests/test_boundary_constants.py pins them to the header).
_CTR = {
    "ingress": ["generated", "dropped", "blocked", "backlog", "batches", "arrivals"],
    "book": ["applied", "timeouts", "errors", "cancels", "cross_checks", "crossed", "conserved",
             "empty_at_end", "blocked"],
    "bundle": ["in", "bundles", "size", "timeout", "flush", "blocked", "missed_deadline"],
    "output": ["txns", "bundles", "gap", "backward", "bad_producer", "size_violations", "seq_violations",
               "early_flushes", "late_flushes", "frame_errors", "tail_mismatch", "clock_skew", "write_errors",
               "flush_bundles"],
}


class PipelineConfigError(ValueError):
    """A pipeline setting outside what the pipeline accepts; the message says
    which setting and what is allowed."""


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise PipelineConfigError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _check_number(name: str, value: float, lo: float, hi: float, *, integer: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        kind = "an integer" if integer else "a number"
        raise PipelineConfigError(f"{name} must be {kind}; got {value!r}")
    if not math.isfinite(value) or not lo <= value <= hi:
        raise PipelineConfigError(f"{name} must be from {lo:g} to {hi:g}; got {value!r}")


@dataclass(frozen=True, kw_only=True)
class PipelineConfig:
    """Settings of one pipeline run. Defaults: 10 s at 100,000
    transactions per second, uniform prices, drop on a full first ring,
    bundles of 16 or 100 us."""

    duration: float = 10.0
    """Seconds of ingress; 0 runs until stop() (Ctrl-C)."""
    rate: float = 100_000.0
    """Poisson arrival rate, transactions per second (ignored with saturate)."""
    saturate: bool = False
    """Generate as fast as the pipeline accepts (implies block backpressure)."""
    price_mode: str = "uniform"
    """``uniform`` ($90-$110, random side; the book crosses) or ``walk``
    (random-walk mid, bids below and asks above: never crosses)."""
    backpressure: str = "drop"
    """When the first ring is full: ``drop`` (count) or ``block`` (wait)."""
    wait: str = "auto"
    """Idle threads: ``busy`` spin, ``yield`` (spin then sched_yield), ``park``
    (spin, yield, sleep) or ``auto`` (measured at start: ``choose_wait``)."""
    topology: str = "auto"
    """Stages per thread: ``auto`` (measured at start: ``choose_topology``),
    ``single``, ``pairs``, ``split`` or ``stages``."""
    pin: bool = True
    """Pin threads to distinct CPUs when there are at least as many CPUs as
    threads (a lone thread is never pinned)."""
    ring_capacity: int = 16384
    """Records per ring (power of two, 64 to 2**26). 16,384 (512 KiB) absorbs
    the jitter between two threads on different cores; with 4,096 the
    two-thread topologies ran about a quarter slower at saturation."""
    bundle_size: int = 16
    """Transactions per full bundle (1-16)."""
    bundle_timeout_us: float = 100.0
    """A bundle is flushed when its oldest transaction has waited this long."""
    flush_slack_us: float | None = None
    """An optional wall-clock bound: a bundle held longer than timeout + slack
    fails the verdict. Off by default, because on a shared machine the OS can
    keep a stage off the CPU for longer than any fixed bound; the verdict
    always checks the bound that does not depend on scheduling: a bundle
    leaves at the first pass of its stage after its deadline."""
    seed: int | None = None
    """Seed of the generator; None picks one (it is in the report)."""
    producers: int = 4
    """Logical producers, each with its own sequence numbers (1-256)."""
    batch: int = 256
    """Most records a stage moves per ring index store (1-256). A limit, not a
    wait: a stage moves what is there, so at a modest rate batches stay small
    and latency is unaffected; at saturation bigger batches mean fewer index
    cache lines crossing cores (256 against 64: about +30% for ``pairs``)."""
    output: str | None = None
    """File to write delivered transactions to, 32-byte wire records in delivery order."""

    def validate(self) -> None:
        """Raise PipelineConfigError naming the first bad setting."""
        _check_number("duration", self.duration, 0, 7 * 24 * 3600)
        if not self.saturate:
            _check_number("rate", self.rate, 1, 1e9)
        _check_choice("price_mode", self.price_mode, PRICE_MODES)
        _check_choice("backpressure", self.backpressure, BACKPRESSURES)
        _check_choice("wait", self.wait, WAIT_CHOICES)
        _check_choice("topology", self.topology, TOPOLOGIES)
        _check_number("ring_capacity", self.ring_capacity, _core.PIPE_MIN_RING, 1 << 26, integer=True)
        if self.ring_capacity & (self.ring_capacity - 1):
            raise PipelineConfigError(f"ring_capacity must be a power of two; got {self.ring_capacity}")
        _check_number("bundle_size", self.bundle_size, 1, _core.BUNDLE_MAX, integer=True)
        _check_number("bundle_timeout_us", self.bundle_timeout_us, 0.001, 10_000_000)
        if self.flush_slack_us is not None:
            _check_number("flush_slack_us", self.flush_slack_us, 0, 10_000_000)
        if self.seed is not None:
            _check_number("seed", self.seed, 0, 2**64 - 1, integer=True)
        _check_number("producers", self.producers, 1, _core.MAX_PRODUCERS, integer=True)
        _check_number("batch", self.batch, 1, _core.PIPE_MAX_BATCH, integer=True)
        if self.saturate and self.backpressure == "drop" and self.backpressure_explicit:
            raise PipelineConfigError(
                "saturate generates only what the pipeline accepts, so backpressure 'drop' does not apply; "
                "leave backpressure at its default or pass 'block'")

    # Set by the command line when the user named --backpressure explicitly.
    backpressure_explicit: bool = field(default=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("backpressure_explicit")
        if self.saturate:
            d["backpressure"] = "block"
        return d


@dataclass(frozen=True, kw_only=True)
class Invariant:
    """One checked property of a run and its outcome."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """Statistics read while the pipeline runs (counters are cumulative)."""

    elapsed: float
    counters: dict[str, dict[str, int]]
    rings: tuple[int, int, int]
    e2e_p99_ns: float
    finished: bool


@dataclass(frozen=True, kw_only=True)
class PipelineReport:
    """Everything one run measured and whether its invariants held."""

    config: dict[str, Any]
    seed: int
    topology: str
    threads: int
    pinned: bool
    cpus: int
    elapsed_s: float
    ns_per_tick: float
    counters: dict[str, dict[str, int]]
    latency_ns: dict[str, dict[str, float]]
    invariants: list[Invariant]
    first_violation: dict[str, int] | None
    wait_yields: int
    wait_sleeps: int
    cpu_s: float
    """CPU seconds the pipeline threads got: on a shared machine, well below
    threads x elapsed when other work competes for the cores."""
    interrupted: bool
    percentiles_ns: dict[str, list[list[float]]] = field(default_factory=dict)
    """Per histogram, [quantile, value in ns] pairs from the median to the
    maximum (the spectrum an HdrHistogram plot shows)."""
    samples: list[dict[str, Any]] = field(default_factory=list)
    """One entry per second of the run (``drive``): elapsed seconds, the
    cumulative counters, ring occupancy and the end-to-end p99 so far."""
    machine: dict[str, Any] = field(default_factory=dict)
    """Where the run happened: CPUs, load averages before and after, and the
    core-to-core round trip when measured."""
    topology_reason: str = ""
    """Why ``auto`` picked the topology ('' when it was given)."""
    wait_strategy: str = ""
    """The wait strategy the threads used (what ``auto`` resolved to)."""
    wait_reason: str = ""
    """Why ``auto`` picked the wait strategy ('' when it was given)."""
    output: dict[str, Any] | None = None
    """With an output file: its path, records and bytes written, their
    Adler-32, and ``error`` (None, or the write error that cut it short)."""

    @property
    def invariants_ok(self) -> bool:
        """True when every invariant of the pipeline held."""
        return all(inv.ok for inv in self.invariants)

    @property
    def output_error(self) -> str | None:
        """Why the output file is incomplete, or None."""
        return None if self.output is None else self.output["error"]

    @property
    def ok(self) -> bool:
        """True when every invariant held and the output file (if any) holds
        every delivered transaction."""
        return self.invariants_ok and self.output_error is None

    @property
    def generated(self) -> int:
        return self.counters["ingress"]["generated"]

    @property
    def dropped(self) -> int:
        return self.counters["ingress"]["dropped"]

    @property
    def delivered(self) -> int:
        return self.counters["output"]["txns"]

    @property
    def throughput(self) -> float:
        """Delivered transactions per second of run time."""
        return self.delivered / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def per_cpu_second(self) -> float:
        """Delivered transactions per CPU second of the pipeline threads."""
        return self.delivered / self.cpu_s if self.cpu_s > 0 else 0.0

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "ok": self.ok,
            "config": self.config,
            "seed": self.seed,
            "topology": self.topology,
            "topology_reason": self.topology_reason,
            "threads": self.threads,
            "pinned": self.pinned,
            "cpus": self.cpus,
            "elapsed_s": self.elapsed_s,
            "ns_per_tick": self.ns_per_tick,
            "throughput_txn_per_s": self.throughput,
            "cpu_s": self.cpu_s,
            "txn_per_cpu_s": self.per_cpu_second,
            "counters": self.counters,
            "latency_ns": self.latency_ns,
            "invariants": [dataclasses.asdict(i) for i in self.invariants],
            "first_violation": self.first_violation,
            "wait": {"strategy": self.wait_strategy, "reason": self.wait_reason,
                     "yields": self.wait_yields, "sleeps": self.wait_sleeps},
            "interrupted": self.interrupted,
            "output": self.output,
            "percentiles_ns": self.percentiles_ns,
            "samples": self.samples,
            "machine": self.machine,
        }

    def write_json(self, path: str) -> None:
        """Write the report as JSON. A regular file is replaced atomically (a
        temporary file beside it, then rename), so a failed write (full disk)
        leaves no half report behind; other paths (/dev/stdout, a FIFO) are
        written directly."""
        text = json.dumps(self.to_json_dict(), indent=2, sort_keys=True) + "\n"
        if os.path.exists(path) and not os.path.isfile(path):
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            return
        tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.{os.getpid()}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


def _named_counters(raw: list[list[int]]) -> dict[str, dict[str, int]]:
    return {stage: {name: raw[s][i] for i, name in enumerate(_CTR[stage])} for s, stage in enumerate(STAGES)}


def _invariants(cfg: PipelineConfig, c: dict[str, dict[str, int]], first: dict[str, int] | None,
                flush_late: dict[str, float]) -> list[Invariant]:
    ing, book, bun, out = c["ingress"], c["book"], c["bundle"], c["output"]
    offered = ing["generated"] + ing["dropped"]
    inv = []
    lost = ing["generated"] - out["txns"]
    unaccounted = ing["arrivals"] - offered - ing["backlog"]
    inv.append(Invariant(
        name="no loss",
        ok=lost == 0 and unaccounted == 0 and book["applied"] == ing["generated"] and bun["in"] == ing["generated"],
        detail=(f"arrivals {ing['arrivals']} = delivered {out['txns']} + dropped {ing['dropped']}"
                + (f" + backlog at stop {ing['backlog']}" if ing["backlog"] else "")
                + ("" if lost == 0 else f" + LOST IN THE PIPELINE {lost}")
                + ("" if unaccounted == 0 else f" + UNACCOUNTED AT INGRESS {unaccounted}")
                + f"; book applied {book['applied']}, builder took {bun['in']}"),
    ))
    fifo_bad = out["gap"] + out["backward"] + out["bad_producer"] + out["tail_mismatch"]
    detail = (f"{cfg.producers} producers, every id in order: gaps {out['gap']}, going back {out['backward']}, "
              f"unknown producer {out['bad_producer']}, producers short at the end {out['tail_mismatch']}")
    if first is not None:
        detail += (f"; first: producer {first['producer']} expected id {first['expected']}, "
                   f"got {first['got']}")
    inv.append(Invariant(name="FIFO per producer", ok=fifo_bad == 0, detail=detail))
    inv.append(Invariant(
        name="bundle sizes <= limit",
        ok=out["size_violations"] == 0 and out["seq_violations"] == 0 and out["frame_errors"] == 0
        and out["flush_bundles"] <= 1 and out["bundles"] == bun["bundles"],
        detail=(f"{out['bundles']} bundles of 1..{cfg.bundle_size}: size violations {out['size_violations']}, "
                f"out of sequence {out['seq_violations']}, framing errors {out['frame_errors']}, "
                f"final flushes {out['flush_bundles']} (at most 1)"),
    ))
    bound = "" if cfg.flush_slack_us is None else (
        f", none held past timeout + {cfg.flush_slack_us:g} us (late: {out['late_flushes']})")
    inv.append(Invariant(
        name="timeout flushes within bound",
        ok=out["early_flushes"] == 0 and bun["missed_deadline"] == 0
        and (cfg.flush_slack_us is None or out["late_flushes"] == 0),
        detail=(f"{bun['timeout']} timeout flushes, none before {cfg.bundle_timeout_us:g} us "
                f"(early: {out['early_flushes']}), every bundle out at the builder's first pass after its "
                f"deadline (missed: {bun['missed_deadline']}){bound}; latest "
                f"{flush_late.get('max', 0.0) / 1000:.1f} us after the deadline (scheduling included)"),
    ))
    inv.append(Invariant(
        name="book conserved and empty at the end",
        ok=book["conserved"] == 1 and book["empty_at_end"] == 1 and book["errors"] == 0,
        detail=(f"resting quantity == adds - cancels: {'yes' if book['conserved'] else 'NO'}; empty after the "
                f"last cancels: {'yes' if book['empty_at_end'] else 'NO'}; errors {book['errors']}, "
                f"timeouts {book['timeouts']} (counted, the order is skipped)"),
    ))
    if cfg.price_mode == "walk":
        inv.append(Invariant(
            name="spread >= 0 (walk prices never cross)",
            ok=book["crossed"] == 0,
            detail=f"{book['cross_checks']} best bid/ask checks, crossed {book['crossed']}",
        ))
    return inv


class Pipeline:
    """One run of the native pipeline (start it once)."""

    def __init__(self, config: PipelineConfig | None = None, *, _core_module: Any = None,
                 on_output_wait: Callable[[str], None] | None = None) -> None:
        """``_core_module`` swaps in another build of the native core (the
        mutant builds of the test suite); users leave it alone.
        ``on_output_wait`` is told when the output is a FIFO nobody reads yet
        (the constructor waits for a reader)."""
        core = _core_module or _core
        self._fd = -1
        self._started = False
        self._joined = False
        self.config = config or PipelineConfig()
        self.config.validate()
        self.seed = self.config.seed if self.config.seed is not None else random.randrange(1 << 63)
        if self.config.output is not None:
            try:
                self._fd = _outfile.open_output(self.config.output, on_wait=on_output_wait)
                _outfile.write_all(self._fd, _outfile.header(producers=self.config.producers, seed=self.seed))
            except OSError as e:
                self.close()
                msg = e.strerror if e.strerror and "output" in e.strerror else (
                    f"cannot write to output file {self.config.output!r}: {e.strerror or e}")
                raise PipelineConfigError(msg) from None
        cfg = self.config
        topology, self.topology_reason = cfg.topology, ""
        allowed = sorted(os.sched_getaffinity(0))
        load = busy_cpus(allowed) if "auto" in (topology, cfg.wait) else 0.0
        if topology == "auto":
            topology, self.topology_reason = _auto_topology(core, allowed, None if cfg.saturate else cfg.rate, load)
        self.wait_strategy, self.wait_reason = cfg.wait, ""
        if cfg.wait == "auto":
            threads = TOPOLOGY_THREADS[topology].count("|") + 1
            self.wait_strategy, self.wait_reason = choose_wait(threads, len(allowed), load)
        self._native = core._NativePipeline({
            "rate": float(cfg.rate),
            # Rounded up: a positive duration never becomes 0 ("until stopped").
            "duration_ns": math.ceil(cfg.duration * 1e9),
            "saturate": int(cfg.saturate),
            "price_mode": PRICE_MODES.index(cfg.price_mode),
            "backpressure": BACKPRESSURES.index(cfg.backpressure),
            "wait": WAITS.index(self.wait_strategy),
            "topology": TOPOLOGIES.index(topology),
            "pin": int(cfg.pin),
            "ring_capacity": cfg.ring_capacity,
            "bundle_size": cfg.bundle_size,
            "bundle_timeout_ns": max(1, round(cfg.bundle_timeout_us * 1000)),
            "flush_slack_ns": 10_000_000_000 if cfg.flush_slack_us is None else round(cfg.flush_slack_us * 1000),
            "seed": self.seed,
            "producers": cfg.producers,
            "batch": cfg.batch,
            "out_fd": self._fd,
        })
        self._ns_per_tick = core.tsc_ns_per_tick()
        self._t0 = 0.0
        self._t1: float | None = None
        self._interrupted = False

    @property
    def topology(self) -> str:
        return TOPOLOGIES[self._native.topology]

    @property
    def threads(self) -> int:
        return self._native.threads

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        """Close the output file if this pipeline still holds it (wait() does
        this too); safe to call twice. A pipeline that never started never
        touches the file again."""
        fd, self._fd = getattr(self, "_fd", -1), -1
        if fd >= 0:
            if getattr(self, "_started", False) and not getattr(self, "_joined", False):
                self._native.stop()
                self._native.join()  # the output thread writes to fd until it exits
                self._joined = True
            os.close(fd)

    def start(self) -> None:
        if self._started:
            raise RuntimeError("this pipeline has already run; build a new one")
        if self._closed_before_start:
            raise RuntimeError("this pipeline was closed; build a new one")
        self._t0 = time.perf_counter()
        self._started = True
        self._native.start()

    def stop(self) -> None:
        """Ask ingress to stop now; the rings drain and every transaction is accounted for."""
        self._interrupted = True
        self._native.stop()

    def finished(self) -> bool:
        done = self._native.finished()
        if done and self._t1 is None:
            self._t1 = time.perf_counter()
        return done

    def snapshot(self) -> Snapshot:
        """Counters, ring occupancy and end-to-end p99 so far (read off the hot path)."""
        finished = self.finished()
        e2e = self._native.hist(HISTOGRAMS.index("e2e"))
        return Snapshot(
            elapsed=time.perf_counter() - self._t0,
            counters=_named_counters(self._native.counters()),
            rings=(self._native.ring_len(0), self._native.ring_len(1), self._native.ring_len(2)),
            e2e_p99_ns=e2e["p99"] * self._ns_per_tick,
            finished=finished,
        )

    @property
    def _closed_before_start(self) -> bool:
        return self.config.output is not None and self._fd < 0 and not self._started

    def counters(self) -> dict[str, dict[str, int]]:
        """Every native counter by stage and name, read now (off the hot path)."""
        return _named_counters(self._native.counters())

    def ring_lengths(self) -> tuple[int, int, int]:
        """Records waiting in ring 0, 1 and 2 now."""
        return (self._native.ring_len(0), self._native.ring_len(1), self._native.ring_len(2))

    def book_depth(self, side: int) -> int:
        """Resting quantity on one side (velox.BID or velox.ASK) of the book stage's book."""
        return self._native.book_depth(side)

    def histogram_buckets(self, name: str, bounds_ns: tuple[float, ...]) -> dict[str, Any]:
        """Histogram ``name`` (one of HISTOGRAMS) regrouped under ascending
        upper bounds in nanoseconds: ``count``, ``sum_ns``, ``min_ns``,
        ``max_ns`` and ``counts`` (one per bound, then the overflow). A native
        bucket (at most 3.2% wide) goes whole to the group of its top value."""
        ticks = [b / self._ns_per_tick for b in bounds_ns]
        count, total, lo, hi, counts = self._native.hist_buckets(HISTOGRAMS.index(name), ticks)
        k = self._ns_per_tick
        return {"count": count, "sum_ns": total * k, "min_ns": lo * k, "max_ns": hi * k, "counts": counts}

    def wait(self) -> PipelineReport:
        """Join the threads and build the report (after start())."""
        if not self._started:
            raise RuntimeError("Pipeline.wait() before start(): start the pipeline first (or use run_pipeline)")
        if not self._joined:
            self._native.join()
            self._joined = True
        if self._t1 is None:
            self._t1 = time.perf_counter()
        output = self._finish_output()
        counters = _named_counters(self._native.counters())
        latency = {}
        for i, name in enumerate(HISTOGRAMS):
            h = self._native.hist(i)
            latency[name] = {k: (v * self._ns_per_tick if k not in ("count",) else v) for k, v in h.items()}
            latency[name]["mean"] = latency[name]["sum"] / h["count"] if h["count"] else 0.0
            del latency[name]["sum"]
        percentiles = {name: [[q, v * self._ns_per_tick] for q, v in
                              zip(SPECTRUM, self._native.hist_quantiles(i, SPECTRUM), strict=True)]
                       for i, name in enumerate(HISTOGRAMS)}
        fv = self._native.first_violation()
        first = None if fv is None else {"producer": fv[0], "expected": fv[1], "got": fv[2]}
        yields, sleeps, cpu_ns = self._native.wait_stats()
        return PipelineReport(
            config=self.config.to_dict() | {"seed": self.seed},
            seed=self.seed,
            topology=self.topology,
            threads=self.threads,
            pinned=self._native.pinned,
            cpus=len(os.sched_getaffinity(0)),
            elapsed_s=self._t1 - self._t0,
            ns_per_tick=self._ns_per_tick,
            counters=counters,
            latency_ns=latency,
            invariants=_invariants(self.config, counters, first, latency["flush_late"]),
            first_violation=first,
            wait_yields=yields,
            wait_sleeps=sleeps,
            cpu_s=cpu_ns / 1e9,
            interrupted=self._interrupted,
            output=output,
            percentiles_ns=percentiles,
            topology_reason=self.topology_reason,
            wait_strategy=self.wait_strategy,
            wait_reason=self.wait_reason,
        )

    def _finish_output(self) -> dict[str, Any] | None:
        """Write the trailer after the last record and close the file."""
        if self.config.output is None:
            return None
        nbytes, adler, err = self._native.output_stats()
        error = None if err == 0 else f"{os.strerror(err)} ({errno_name(err)}) after {nbytes} bytes"
        status = (_outfile.INTERRUPTED if self._interrupted else 0) | (_outfile.WRITE_ERROR if err else 0)
        if self._fd >= 0:
            try:
                _outfile.write_all(self._fd, _outfile.trailer(count=nbytes // _outfile.RECORD_SIZE,
                                                              adler32=adler, status=status))
            except OSError as e:
                if error is None:
                    error = f"{e.strerror} ({errno_name(e.errno)}) writing the trailer"
            try:
                os.close(self._fd)
            except OSError as e:  # NFS and friends report a failed flush here
                if error is None:
                    error = f"{e.strerror} ({errno_name(e.errno)}) closing the file"
            self._fd = -1
        return {"path": self.config.output, "records": nbytes // _outfile.RECORD_SIZE, "bytes": nbytes,
                "adler32": adler, "error": error}


def errno_name(err: int | None) -> str:
    import errno as _errno

    return _errno.errorcode.get(err or 0, f"errno {err}")


def drive(pipe: Pipeline, *, on_tick: Callable[[Snapshot], None] | None = None, tick_seconds: float = 1.0,
          on_interrupt: Callable[[], None] | None = None, measure_round_trip: bool = False,
          stop_requested: Callable[[], bool] | None = None) -> PipelineReport:
    """Start ``pipe``, call ``on_tick`` with a Snapshot every ``tick_seconds``
    until it finishes, and return its report with those samples (and the
    machine: CPUs, load, and with ``measure_round_trip`` the core-to-core
    round trip, taken after the run). Ctrl-C (KeyboardInterrupt), or
    ``stop_requested()`` turning true (polled every 20 ms: a signal handler's
    flag), stops ingress; the rings still drain and the report accounts for
    every transaction."""
    machine = machine_info()
    samples: list[dict[str, Any]] = []
    pipe.start()
    next_tick = time.perf_counter() + tick_seconds
    stopping = False
    while True:
        try:
            if not stopping and stop_requested is not None and stop_requested():
                stopping = True
                if on_interrupt is not None:
                    on_interrupt()
                pipe.stop()
            if pipe.finished():
                break
            time.sleep(min(0.02, max(0.0, next_tick - time.perf_counter())))
            if time.perf_counter() >= next_tick:
                next_tick += tick_seconds
                snap = pipe.snapshot()
                samples.append(_sample(snap))
                if on_tick is not None:
                    on_tick(snap)
        except KeyboardInterrupt:
            if on_interrupt is not None:
                on_interrupt()
            pipe.stop()
    report = pipe.wait()
    # A tick taken after the pipeline had finished repeats the final figures:
    # the final sample, at the end of the run, replaces it.
    samples = [x for x in samples if x["t"] < report.elapsed_s]
    samples.append(_sample(Snapshot(elapsed=report.elapsed_s, counters=report.counters, rings=(0, 0, 0),
                                    e2e_p99_ns=report.latency_ns["e2e"]["p99"], finished=True)))
    machine["loadavg_after"] = list(os.getloadavg())
    if measure_round_trip:
        # After the run, so it never delays the start nor competes with the
        # pipeline; on a loaded machine it can take a while, and Ctrl-C skips it.
        try:
            machine["round_trip_ns"] = core_round_trip_ns()
        except KeyboardInterrupt:
            pass
    return dataclasses.replace(report, samples=samples, machine=machine)


def _sample(s: Snapshot) -> dict[str, Any]:
    c = s.counters
    return {"t": round(s.elapsed, 6), "generated": c["ingress"]["generated"], "dropped": c["ingress"]["dropped"],
            "book": c["book"]["applied"], "bundle": c["bundle"]["in"], "output": c["output"]["txns"],
            "bundles_size": c["bundle"]["size"], "bundles_timeout": c["bundle"]["timeout"],
            "bundles_flush": c["bundle"]["flush"], "book_timeouts": c["book"]["timeouts"],
            "rings": list(s.rings), "e2e_p99_ns": s.e2e_p99_ns}


def machine_info() -> dict[str, Any]:
    """CPUs and load average now (the round trip is filled in by ``drive``)."""
    import platform

    return {
        "cpus": len(os.sched_getaffinity(0)), "cpus_online": os.cpu_count(), "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
        "loadavg_before": list(os.getloadavg()), "round_trip_ns": None,
    }


def core_round_trip_ns() -> float | None:
    """Median core-to-core round trip between two usable CPUs (None with one CPU)."""
    if len(os.sched_getaffinity(0)) < 2:
        return None
    from . import _bench

    try:
        return _bench.round_trip(iterations=2_000, samples=3).median_ns
    except (OSError, ValueError, RuntimeError):
        return None


def run_pipeline(config: PipelineConfig | None = None, *,
                 on_tick: Callable[[Snapshot], None] | None = None,
                 tick_seconds: float = 1.0) -> PipelineReport:
    """Run the pipeline to completion and return its report (see ``drive``)."""
    return drive(Pipeline(config), on_tick=on_tick, tick_seconds=tick_seconds)
