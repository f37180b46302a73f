"""``velox bench``: the native two-thread benchmark of the SPSC ring.

Prints, for each capacity, the median throughput of velox's ring per item and
batched and of the Lamport peer, each beside the median core-to-core round
trip measured in the same runs, then the ratios against the peers.
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
item (vx_ring_push/vx_ring_pop), the peer (a classic Lamport ring without
cached indices, per item), and velox's ring batched (push_many/pop_many of
BATCH records, one index store per call). Right before each run it times the
core-to-core round trip of one cache line: the host moves the two cores
between a near (~50 ns) and a far (~400 ns) placement, so read every
throughput beside its round trip. Figures are medians over the repetitions.
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
    p.add_argument("--json", metavar="PATH", help="also write every sample and median to PATH as JSON")
    p.add_argument("--quiet", action="store_true", help="no per-run progress lines on stderr")
    return p


def _report(results: list[_bench.CaseResult], args: argparse.Namespace, cpus: Sequence[int]) -> str:
    title = (f"velox bench: 32-byte records, {args.records:,} per run, {args.repeats} repeats, "
             f"producer on CPU {cpus[0]}, consumer on CPU {cpus[1]}; medians")
    header = (f"{'capacity':>8}  {'case':<24} {'M rec/s':>9} {'ns/rec':>8} {'rec/store':>9} "
              f"{'round trip ns':>13} {'ring ran':>10}  samples (round trip ns -> M rec/s)")
    lines = [title, "", header]
    for res in results:
        if not res.runs:
            continue
        samples = ", ".join(f"{r.round_trip_ns:.0f}->{r.mrecords_per_s:.1f}" for r in res.runs)
        mrps = res.median_mrecords_per_s
        full = sum(r.regime == "full" for r in res.runs)
        ran = f"full {full}/{len(res.runs)}" if full * 2 >= len(res.runs) else \
            f"empty {len(res.runs) - full}/{len(res.runs)}"
        lines.append(
            f"{res.capacity:>8}  {res.case.label:<24} {mrps:9.1f} {1e3 / mrps if mrps else 0:8.2f} "
            f"{res.median_records_per_publication:9.1f} {res.median_round_trip_ns:13.1f} {ran:>10}  {samples}")
    lines.append("ring ran: in how many runs the ring was mostly full (the consumer set the pace) or mostly")
    lines.append("empty (the producer set the pace, records crossing one by one); see docs/benchmarks.md")
    lines.append("")
    for cap in dict.fromkeys(r.capacity for r in results):
        by = {r.case.label: r for r in results if r.capacity == cap and r.runs}
        item = by.get("velox per-item")
        peer = by.get("lamport per-item (peer)")
        if item and peer:
            lines.append(f"capacity {cap}: velox per-item / Lamport peer = "
                         f"{item.median_mrecords_per_s / peer.median_mrecords_per_s:.2f}x")
        for label, res in by.items():
            if label.startswith("velox batch") and item:
                lines.append(f"capacity {cap}: {label} / velox per-item = "
                             f"{res.median_mrecords_per_s / item.median_mrecords_per_s:.2f}x")
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
        "records": args.records, "repeats": args.repeats, "cpus": list(cpus),
        "rigtorp_published_mrecords_per_s": _bench.RIGTORP_MRECORDS_PER_S,
        "cases": [
            {
                "capacity": res.capacity, "impl": res.case.impl, "batch": res.case.batch,
                "label": res.case.label, "ok": res.ok,
                "median_mrecords_per_s": res.median_mrecords_per_s if res.runs else None,
                "median_round_trip_ns": res.median_round_trip_ns if res.runs else None,
                "median_records_per_publication": res.median_records_per_publication if res.runs else None,
                "samples": [
                    {"round_trip_ns": r.round_trip_ns, "mrecords_per_s": r.mrecords_per_s,
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
                               progress=progress)
    print(_report(results, args, cpus))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(_to_json(results, args, cpus), f, indent=2)
    failed = [r for res in results for r in res.runs if not r.ok]
    for r in failed:
        print(f"velox bench: DELIVERY FAILED: {r.describe_failure()}", file=sys.stderr)
    return 1 if failed else 0
