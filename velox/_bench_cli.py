"""``velox bench``: the native two-thread benchmark of the SPSC ring.

Prints, for each capacity, the median throughput of velox's ring per item and
batched and of its peers (a minimal cached-index ring, per item and batched,
and a Lamport ring), overall and per placement (near or far, told apart by the
core-to-core round trip measured before and after every run), then the ratios
of velox against the peers within each placement.
Exit status: 0 when every record of every run arrived in order, 1 when a run
lost, duplicated or reordered a record, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from . import _bench

DESCRIPTION = """\
Benchmark velox's SPSC ring with a native producer and consumer thread pinned
to two cores (GIL released), 32-byte records, and validate every record.

For each capacity and repetition it measures, in this order: velox's ring per
item (vx_ring_try_push/vx_ring_try_pop, inlined), the minimal peer per item (a
cached-index ring written for the benchmark: the hardware's pace), the Lamport
peer per item (no cached indices), then for each BATCH velox's ring batched
(push_many/pop_many, one index store per call) and the minimal peer batched.
Right before and right after each run it times the core-to-core round trip of
one cache line. The host moves the two cores between a near placement (tens
of ns) and a far one (hundreds of ns), so each run is labelled: near when both
round trips are at most --near-below ns, far when both are above, mixed when
they straddle it (the placement changed during the run), disturbed when one
exceeds 2 us (a thread lost its core). Figures are medians over the
repetitions, overall and per placement; ratios are taken within a placement.
The best public SPSC ring (rigtorp/SPSCQueue) is quoted from its published
figures on this kind of machine: ~130 M records/s near, ~22 M far.

The spinning threads want two idle cores: run it through ci/bench.sh, which
raises its priority, and report the machine's load beside the figures.
"""


def _int_list(what: str, check: Callable[[int], str]) -> Callable[[str], list[int]]:
    """An argparse type: comma-separated ints, each passing ``check`` (which
    returns '' or what is wrong with the value)."""
    def parse(text: str) -> list[int]:
        try:
            values = [int(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be comma-separated integers, got {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"{what} needs at least one value")
        for v in values:
            problem = check(v)
            if problem:
                raise argparse.ArgumentTypeError(f"{what}: {v} {problem}")
        return values

    return parse


def _capacity_problem(v: int) -> str:
    if v < 1 or v > 2**26 or v & (v - 1):
        return "is not a power of two from 1 to 2**26"
    return ""


def _batch_problem(v: int) -> str:
    if v < 2 or v > _bench.MAX_BATCH:
        return f"is outside 2..{_bench.MAX_BATCH} (batch 1 is the per-item case, always measured)"
    return ""


def _positive(name: str, hi: int) -> Callable[[str], int]:
    """An argparse type: an int from 1 to hi."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if v < 1 or v > hi:
            raise argparse.ArgumentTypeError(f"{name} must be from 1 to {hi}, got {v}")
        return v

    return parse


def _positive_float(name: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not v > 0 or v == float("inf"):
            raise argparse.ArgumentTypeError(f"{name} must be a positive number, got {text!r}")
        return v

    return parse


def _cpus(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--cpus must be two CPU numbers like 0,1, got {text!r}") from None
    if len(values) != 2 or any(v < -1 for v in values):
        raise argparse.ArgumentTypeError(f"--cpus must be two CPU numbers like 0,1 (-1: unpinned), got {text!r}")
    return values


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="velox bench", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--capacity", type=_int_list("--capacity", _capacity_problem), default=[1024, 4096, 65536],
                   metavar="N[,N...]", help="ring capacities, powers of two (default: 1024,4096,65536)")
    p.add_argument("--batch", type=_int_list("--batch", _batch_problem), default=[16, 64],
                   metavar="B[,B...]", help="records per push_many/pop_many call for the batched runs "
                   "(default: 16,64)")
    p.add_argument("--records", type=_positive("--records", 2**40), default=20_000_000,
                   help="records moved per run (default: 20000000)")
    p.add_argument("--repeats", type=_positive("--repeats", 1000), default=5,
                   help="repetitions of every case; figures are medians (default: 5)")
    p.add_argument("--round-trips", type=_positive("--round-trips", 2**32), default=20_000,
                   help="ping-pongs timed for each round-trip figure (default: 20000)")
    p.add_argument("--cpus", type=_cpus, default=None, metavar="P,C",
                   help="CPUs of the producer and the consumer (default: the first two this "
                   "process may use; -1 leaves a thread unpinned)")
    p.add_argument("--near-below", type=_positive_float("--near-below"), default=_bench.NEAR_BELOW_NS,
                   metavar="NS", help="round trip (ns) at or below which a run counts as near placement "
                   f"(default: {_bench.NEAR_BELOW_NS:.0f})")
    p.add_argument("--json", metavar="PATH", help="also write every sample and median to PATH as JSON")
    p.add_argument("--quiet", action="store_true", help="no per-run progress lines on stderr")
    return p


def _fmt(v: float | None) -> str:
    """A 9-wide column: the figure, or '-' when no run was so labelled."""
    return f"{v:9.1f}" if v is not None else f"{'-':>9}"


def _ratio_lines(results: list[_bench.CaseResult]) -> list[str]:
    """velox against its peers within each placement, per capacity."""
    lines = []
    for cap in dict.fromkeys(r.capacity for r in results):
        by = {r.case.label: r for r in results if r.capacity == cap and r.runs}
        item = by.get("velox per-item")
        mini = by.get("minimal per-item (peer)")
        lamport = by.get("lamport per-item (peer)")
        for where in ("all", *_bench.PLACEMENTS):
            if item is None or item.median_in(where) is None:
                continue
            rt = item.median_round_trip_in(where)
            parts = []
            v = item.median_in(where)
            for label, peer in (("minimal per-item", mini), ("lamport per-item", lamport)):
                pv = peer.median_in(where) if peer else None
                if pv:
                    parts.append(f"velox per-item / {label} = {v / pv:.2f}x")
            per_item_peer = mini.median_in(where) if mini else None
            for label, res in by.items():
                if " batch " in label and per_item_peer:
                    bv = res.median_in(where)
                    if bv is not None:
                        parts.append(f"{label.replace(' (peer)', '')} / minimal per-item = {bv / per_item_peer:.2f}x")
            what = "all runs" if where == "all" else f"{where} runs"
            lines.append(f"capacity {cap}, {what} (round trip {rt:.0f} ns, {len(item.in_placement(where))}): "
                         + "; ".join(parts))
    return lines


def _report(results: list[_bench.CaseResult], args: argparse.Namespace, cpus: Sequence[int]) -> str:
    title = (f"velox bench: 32-byte records, {args.records:,} per run, {args.repeats} repeats, "
             f"producer on CPU {cpus[0]}, consumer on CPU {cpus[1]}; medians; "
             f"near = round trip <= {args.near_below:.0f} ns before and after the run")
    header = (f"{'capacity':>8}  {'case':<26} {'M rec/s':>9} {'near':>9} {'far':>9} {'ns/rec':>7} "
              f"{'rec/store':>9} {'rt ns':>7} {'ring ran':>10}  samples (placement round trip ns -> M rec/s)")
    lines = [title, "", header]
    for res in results:
        if not res.runs:
            continue
        samples = ", ".join(f"{r.placement[0]}{r.round_trip_ns:.0f}->{r.mrecords_per_s:.1f}" for r in res.runs)
        mrps = res.median_mrecords_per_s
        full = sum(r.regime == "full" for r in res.runs)
        ran = f"full {full}/{len(res.runs)}" if full * 2 >= len(res.runs) else \
            f"empty {len(res.runs) - full}/{len(res.runs)}"
        near, far = res.median_in("near"), res.median_in("far")
        lines.append(
            f"{res.capacity:>8}  {res.case.label:<26} {mrps:9.1f} {_fmt(near)} {_fmt(far)} "
            f"{1e3 / mrps if mrps else 0:7.2f} {res.median_records_per_publication:9.1f} "
            f"{res.median_round_trip_ns:7.1f} {ran:>10}  {samples}")
    lines.append("samples: n = near, f = far, m = mixed (the placement changed during the run), d = disturbed")
    lines.append("(a round trip over 2 us: a thread lost its core); near and far columns use only runs so labelled")
    lines.append("ring ran: in how many runs the ring was mostly full (the consumer set the pace) or mostly")
    lines.append("empty (the producer set the pace, records crossing one by one); see docs/benchmarks.md")
    lines.append("")
    lines += _ratio_lines(results)
    near, far = _bench.RIGTORP_MRECORDS_PER_S["near"], _bench.RIGTORP_MRECORDS_PER_S["far"]
    lines.append(f"reference (published, not measured here): rigtorp/SPSCQueue ~{near:.0f} M rec/s near "
                 f"(~50 ns round trip), ~{far:.0f} M rec/s far (~400 ns)")
    pinned = all(r.pinned for res in results for r in res.runs)
    if any(c < 0 for c in cpus):
        lines.append("note: " + ("both threads" if all(c < 0 for c in cpus) else "one thread")
                     + " unpinned as asked (--cpus -1): they ran where the scheduler put them")
    elif not pinned:
        lines.append("note: pinning failed for some runs (threads ran where the scheduler put them)")
    return "\n".join(lines)


def _to_json(results: list[_bench.CaseResult], args: argparse.Namespace, cpus: Sequence[int]) -> dict:
    return {
        "records": args.records, "repeats": args.repeats, "cpus": list(cpus), "near_below_ns": args.near_below,
        "rigtorp_published_mrecords_per_s": _bench.RIGTORP_MRECORDS_PER_S,
        "cases": [
            {
                "capacity": res.capacity, "impl": res.case.impl, "batch": res.case.batch,
                "label": res.case.label, "ok": res.ok,
                "median_mrecords_per_s": res.median_mrecords_per_s if res.runs else None,
                "median_round_trip_ns": res.median_round_trip_ns if res.runs else None,
                "median_records_per_publication": res.median_records_per_publication if res.runs else None,
                "median_mrecords_per_s_by_placement": {w: res.median_in(w) for w in _bench.PLACEMENTS},
                "median_round_trip_ns_by_placement": {w: res.median_round_trip_in(w) for w in _bench.PLACEMENTS},
                "samples": [
                    {"round_trip_ns": r.round_trip_ns, "round_trip_after_ns": r.round_trip_after_ns,
                     "placement": r.placement, "mrecords_per_s": r.mrecords_per_s,
                     "elapsed_ns": r.elapsed_ns, "received": r.received, "publications": r.publications,
                     "full_polls": r.full_polls, "empty_polls": r.empty_polls, "regime": r.regime,
                     "pinned": r.pinned, "ok": r.ok}
                    for r in res.runs
                ],
            }
            for res in results
        ],
    }


def main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the message
        return int(exc.code or 0)
    bad = [b for b in args.batch for c in args.capacity if b > c]
    if bad:
        parser.print_usage(sys.stderr)
        print(f"velox bench: error: batch {bad[0]} exceeds capacity {min(args.capacity)}; "
              "every batch must fit in every capacity", file=sys.stderr)
        return 2
    cpus = args.cpus if args.cpus is not None else list(_bench.default_cpus())
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    results = _bench.run_suite(capacities=args.capacity, batches=args.batch, records=args.records,
                               repeats=args.repeats, round_trips=args.round_trips, cpus=cpus,
                               near_below_ns=args.near_below, progress=progress)
    print(_report(results, args, cpus))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(_to_json(results, args, cpus), f, indent=2)
    failed = [r for res in results for r in res.runs if not r.ok]
    for r in failed:
        print(f"velox bench: DELIVERY FAILED: {r.describe_failure()}", file=sys.stderr)
    return 1 if failed else 0
