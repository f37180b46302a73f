"""The native SPSC ring benchmark: Python API of the C driver in vx_bench.c.

One producer and one consumer thread, pinned to two cores, move 32-byte
records through ``vx_ring`` (per item, or batched with one index store per
``push_many`` call) or through a peer: a minimal cached-index ring written for
the benchmark (the hardware's pace, per item and batched) and a classic
Lamport ring without cached indices (per item). A separate run ping-pongs one
cache line between the same two cores and gives the core-to-core round trip.
The host moves our two cores between a near placement (tens of ns round
trip) and a far one (hundreds) every few minutes, so every throughput sample
carries the round trips measured just before and just after it, is labelled
near or far by them (``placement``), and a suite reports medians per
placement.

Every run is also a delivery check: the consumer validates the sequence
number of every record, and a run that lost, duplicated or reordered a record
comes back with ``ok`` False and the first wrong position.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ._native import _core

#: Ring implementations the driver can measure: velox's ring and the peers.
IMPLS = ("velox", "minimal", "lamport")
#: Largest records-per-call the driver accepts for batched runs.
MAX_BATCH: int = _core.BENCH_MAX_BATCH
#: Published figures of rigtorp/SPSCQueue on this kind of machine, the best
#: public SPSC ring; we cannot build it here, so we quote it.
RIGTORP_MRECORDS_PER_S = {"near": 130.0, "far": 22.0}
#: Default split between a near and a far placement: a round trip (ns) at or
#: below it is near. The two placements seen on the shared VM measure about
#: 45-130 ns and 230-460 ns.
NEAR_BELOW_NS = 200.0
#: A round trip above this (ns) means a thread lost its core during the
#: ping-pong: the sample says nothing about the placement.
DISTURBED_NS = 2000.0
PLACEMENTS = ("near", "far")


def placement_of(*round_trips_ns: float | None, near_below_ns: float = NEAR_BELOW_NS) -> str:
    """"near" or "far" when every round trip given agrees, "mixed" when they
    straddle the split (the placement changed during the run), "disturbed"
    when one shows a descheduled thread, "unknown" when none was measured."""
    rts = [rt for rt in round_trips_ns if rt is not None]
    if not rts:
        return "unknown"
    if any(rt > DISTURBED_NS for rt in rts):
        return "disturbed"
    near = [rt <= near_below_ns for rt in rts]
    if all(near):
        return "near"
    return "far" if not any(near) else "mixed"


@dataclass(frozen=True, kw_only=True)
class RingRun:
    """One throughput run of the driver: what moved, how fast, and whether
    every record arrived once and in order."""

    impl: str
    capacity: int
    batch: int
    records: int
    elapsed_ns: int
    received: int
    publications: int
    pinned: bool
    ok: bool
    mismatch_at: int | None
    expected_id: int | None
    got_id: int | None
    full_polls: int
    empty_polls: int
    round_trip_ns: float | None = None
    round_trip_after_ns: float | None = None
    placement: str = "unknown"

    @property
    def mrecords_per_s(self) -> float:
        """Millions of records per second (0 when nothing was timed)."""
        return self.received * 1e3 / self.elapsed_ns if self.elapsed_ns else 0.0

    @property
    def ns_per_record(self) -> float:
        return self.elapsed_ns / self.received if self.received else float("inf")

    @property
    def records_per_publication(self) -> float:
        """Records published per store of the producer's index."""
        return self.received / self.publications if self.publications else 0.0

    @property
    def regime(self) -> str:
        """Which side waited more: "full" (the producer found the ring full:
        the consumer set the pace, and each index read finds many records or
        slots) or "empty" (the consumer found it empty: records cross one by
        one)."""
        return "full" if self.full_polls >= self.empty_polls else "empty"

    def describe_failure(self) -> str:
        """One sentence on what went wrong with delivery ('' when ok)."""
        if self.ok:
            return ""
        where = f"{self.impl} ring, capacity {self.capacity}, batch {self.batch}"
        if self.got_id is None:
            return (f"{where}: record {self.expected_id} never arrived "
                    f"({self.received} of {self.records} records received in order)")
        return (f"{where}: at position {self.mismatch_at} expected record {self.expected_id}, "
                f"got {self.got_id} (a record was lost, duplicated or reordered)")


@dataclass(frozen=True, kw_only=True)
class RoundTrip:
    """Core-to-core round trip of one cache line: median over samples."""

    median_ns: float
    samples_ns: tuple[float, ...]
    pinned: bool


def default_cpus() -> tuple[int, int]:
    """The first two CPUs this process may run on, or (-1, -1) (no pinning)
    when it may run on fewer than two."""
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return (-1, -1)
    return (allowed[0], allowed[1])


def _cpus_or_default(cpus: Sequence[int] | None) -> tuple[int, int]:
    if cpus is None:
        return default_cpus()
    if len(cpus) != 2:
        raise ValueError(f"cpus must be two CPU numbers (producer, consumer), got {list(cpus)!r}")
    return (cpus[0], cpus[1])


def ring_run(*, capacity: int, records: int, batch: int = 1, impl: str = "velox",
             cpus: Sequence[int] | None = None) -> RingRun:
    """Run one throughput measurement and return it (check ``.ok``).

    ``batch`` 1 measures per-item push/pop; larger batches use
    push_many/pop_many of that many records (velox ring only). ``cpus`` gives
    the producer's and the consumer's CPU (-1: unpinned); by default the first
    two CPUs this process may use."""
    cpu_p, cpu_c = _cpus_or_default(cpus)
    res = _core.bench_ring(capacity, records, batch, impl, cpu_p, cpu_c)
    return RingRun(impl=impl, capacity=capacity, batch=batch, records=records, **res)


def round_trip(*, iterations: int = 20_000, samples: int = 3,
               cpus: Sequence[int] | None = None) -> RoundTrip:
    """Median core-to-core round trip (ns) over ``samples`` timed runs of
    ``iterations`` ping-pongs each."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be an int >= 1, got {samples!r}")
    cpu_a, cpu_b = _cpus_or_default(cpus)
    got = []
    pinned = True
    for _ in range(samples):
        elapsed, ok = _core.bench_round_trip(cpu_a, cpu_b, iterations)
        got.append(elapsed / iterations)
        pinned = pinned and ok
    return RoundTrip(median_ns=statistics.median(got), samples_ns=tuple(got), pinned=pinned)


@dataclass(frozen=True, kw_only=True)
class Case:
    """One row of the suite: a ring and a batch size."""

    impl: str
    batch: int

    @property
    def label(self) -> str:
        if self.impl == "lamport":
            return "lamport per-item (peer)"
        what = "per-item" if self.batch == 1 else f"batch {self.batch}"
        return f"velox {what}" if self.impl == "velox" else f"{self.impl} {what} (peer)"


@dataclass(kw_only=True)
class CaseResult:
    """All repetitions of one case at one capacity, each with its round trip."""

    case: Case
    capacity: int
    runs: list[RingRun] = field(default_factory=list)

    @property
    def median_mrecords_per_s(self) -> float:
        return statistics.median(r.mrecords_per_s for r in self.runs)

    @property
    def median_round_trip_ns(self) -> float:
        return statistics.median(r.round_trip_ns or 0.0 for r in self.runs)

    @property
    def median_records_per_publication(self) -> float:
        return statistics.median(r.records_per_publication for r in self.runs)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.runs)

    def in_placement(self, placement: str) -> list[RingRun]:
        """The runs labelled ``placement`` ("all": every run)."""
        return list(self.runs) if placement == "all" else [r for r in self.runs if r.placement == placement]

    def median_in(self, placement: str) -> float | None:
        """Median M records/s of the runs labelled ``placement`` (None if none)."""
        runs = self.in_placement(placement)
        return statistics.median(r.mrecords_per_s for r in runs) if runs else None

    def median_round_trip_in(self, placement: str) -> float | None:
        runs = self.in_placement(placement)
        return statistics.median(r.round_trip_ns or 0.0 for r in runs) if runs else None


def suite_cases(batches: Sequence[int]) -> list[Case]:
    """Per item: velox, the minimal peer, the Lamport peer; then at each batch
    velox and the minimal peer (adjacent, so both see the same placement)."""
    cases = [Case(impl="velox", batch=1), Case(impl="minimal", batch=1), Case(impl="lamport", batch=1)]
    for b in batches:
        cases += [Case(impl="velox", batch=b), Case(impl="minimal", batch=b)]
    return cases


def run_suite(*, capacities: Sequence[int] = (1024, 65536), batches: Sequence[int] = (16, 64),
              records: int = 20_000_000, repeats: int = 5, round_trips: int = 20_000,
              cpus: Sequence[int] | None = None, near_below_ns: float = NEAR_BELOW_NS,
              progress: Callable[[str], None] | None = None) -> list[CaseResult]:
    """Measure every case at every capacity ``repeats`` times, interleaving the
    cases within each repetition (so a change of core placement hits all of
    them alike), timing a round trip just before and just after every run and
    labelling the run near or far by them (``placement_of``)."""
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be an int >= 1, got {repeats!r}")
    cases = suite_cases(batches)
    results = [CaseResult(case=c, capacity=cap) for cap in capacities for c in cases]
    total = len(results) * repeats
    done = 0
    after = None
    for rep in range(repeats):
        for res in results:
            # The round trip after one run is the one before the next.
            before = after if after is not None else round_trip(iterations=round_trips, samples=1, cpus=cpus)
            run = ring_run(capacity=res.capacity, records=records, batch=res.case.batch,
                           impl=res.case.impl, cpus=cpus)
            after = round_trip(iterations=round_trips, samples=1, cpus=cpus)
            where = placement_of(before.median_ns, after.median_ns, near_below_ns=near_below_ns)
            run = RingRun(**{**run.__dict__, "round_trip_ns": before.median_ns,
                             "round_trip_after_ns": after.median_ns, "placement": where})
            res.runs.append(run)
            done += 1
            if progress is not None:
                status = "ok" if run.ok else "DELIVERY FAILED"
                progress(f"[{done}/{total}] repeat {rep + 1}: capacity {res.capacity:>6} "
                         f"{res.case.label:<26} {run.mrecords_per_s:8.1f} M rec/s  "
                         f"round trip {before.median_ns:6.1f}/{after.median_ns:6.1f} ns ({where})  {status}")
            if not run.ok:
                return results
    return results
