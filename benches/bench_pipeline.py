"""Pipeline benchmark: saturated throughput per topology and end-to-end
latency at a fixed rate, each the median of several runs, each run beside its
peers measured in the same round:

* the core-to-core round trip of one cache line (``vx_bench_round_trip``): on
  a shared host it says whether the two cores were near, far, or busy with
  someone else's work while we measured;
* the bare two-thread SPSC ring moving records in batches of 64
  (``vx_bench_ring``): the most one cross-core handoff can carry at that
  moment, the ceiling of any multi-thread topology;
* the minimal pipeline peer (``vx_bench_pipe.c``): the four stages written as
  plainly as C allows on one thread, with no rings, histograms, counters or
  clock reads: the pace of the work every transaction needs, which the
  topologies are compared with. It runs twice: with two compare-exchanges per
  transaction on the book (``CAS peer``, a shared book's work), and with a
  plain load and store for each (``SW peer``, the single-writer book the
  pipeline's book stage owns: the like-for-like ratio).

Run it as a script (it is not a pytest-benchmark file: one run takes seconds)::

    python benches/bench_pipeline.py [--seconds 3] [--repeats 3] [--json FILE]

Every pipeline run also checks its invariants; a failed verdict is reported
and makes the script exit 1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

from velox._native import _core
from velox._pipeline import PipelineConfig, run_pipeline

TOPOLOGIES = ("single", "pairs", "split", "stages")


def round_trip_ns() -> float:
    """Median of five 20,000-round-trip samples between CPUs 0 and 1, in ns per trip."""
    cpus = sorted(os.sched_getaffinity(0))
    a, b = (cpus[0], cpus[1]) if len(cpus) > 1 else (-1, -1)
    samples = []
    for _ in range(5):
        ns, _pinned = _core.bench_round_trip(a, b, 20_000)
        samples.append(ns / 20_000)
    return statistics.median(samples)


def ring_peer_rate() -> float:
    """Records per second through the bare SPSC ring, two pinned threads, batches of 64."""
    cpus = sorted(os.sched_getaffinity(0))
    a, b = (cpus[0], cpus[1]) if len(cpus) > 1 else (-1, -1)
    n = 20_000_000
    r = _core.bench_ring(4096, n, 64, "velox", a, b)
    assert r["ok"], r
    return n / (r["elapsed_ns"] / 1e9)


def pipeline_peer_rate(single_writer: bool = False) -> float:
    """Transactions per second through the minimal single-thread pipeline peer."""
    r = _core.bench_pipeline_peer(20_000_000, single_writer=single_writer)
    assert r["fifo_violations"] == 0 and r["conserved"], r
    return r["transactions"] / (r["elapsed_ns"] / 1e9)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=3.0, help="seconds per pipeline run (default 3)")
    p.add_argument("--repeats", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    p.add_argument("--rate", type=float, default=100_000, help="rate of the latency runs (default 100000)")
    p.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    args = p.parse_args(argv)
    if args.seconds <= 0 or args.repeats < 1:
        p.error("--seconds must be > 0 and --repeats >= 1")

    failed = []
    out: dict[str, object] = {"cpus": len(os.sched_getaffinity(0)), "seconds": args.seconds,
                              "repeats": args.repeats, "saturated": {}, "latency": {}}
    rt_all, ring_all = [], []
    print(f"{'saturated':<10}{'txn/s (median)':>16}{'per CPU s':>14}{'round trip ns':>15}{'ring peer rec/s':>17}"
          f"{'CAS peer txn/s':>16}{'ratio':>7}{'SW peer txn/s':>15}{'ratio':>7}")
    for topo in TOPOLOGIES:
        rates, per_cpu, rts, rings, peers, sw_peers = [], [], [], [], [], []
        for i in range(args.repeats):
            rts.append(round_trip_ns())
            rings.append(ring_peer_rate())
            peers.append(pipeline_peer_rate())
            sw_peers.append(pipeline_peer_rate(single_writer=True))
            r = run_pipeline(PipelineConfig(duration=args.seconds, saturate=True, topology=topo, seed=1000 + i,
                                            flush_slack_us=10_000_000))
            if not r.ok:
                failed.append(f"saturated {topo} seed {r.seed}")
            rates.append(r.throughput)
            per_cpu.append(r.per_cpu_second)
        rt_all += rts
        ring_all += rings
        ratio = statistics.median(r / p for r, p in zip(rates, peers))
        sw_ratio = statistics.median(r / p for r, p in zip(rates, sw_peers))
        out["saturated"][topo] = {"txn_per_s": statistics.median(rates), "runs": rates,
                                  "txn_per_cpu_s": statistics.median(per_cpu),
                                  "round_trip_ns": statistics.median(rts), "ring_peer_rec_per_s": statistics.median(rings),
                                  "pipeline_peer_txn_per_s": statistics.median(peers), "ratio_to_peer": ratio,
                                  "sw_peer_txn_per_s": statistics.median(sw_peers), "ratio_to_sw_peer": sw_ratio}
        print(f"{topo:<10}{statistics.median(rates):>16,.0f}{statistics.median(per_cpu):>14,.0f}"
              f"{statistics.median(rts):>15,.0f}{statistics.median(rings):>17,.0f}"
              f"{statistics.median(peers):>16,.0f}{ratio:>7.2f}{statistics.median(sw_peers):>15,.0f}{sw_ratio:>7.2f}")

    print(f"\n{'latency at':<10}{args.rate:>10,.0f}/s  e2e p50 / p99 / p99.9 us (medians), drops, ingress lag p99 us")
    for wait in ("auto", "yield", "busy", "park"):
        p50, p99, p999, drops, lag, rts = [], [], [], [], [], []
        for i in range(args.repeats):
            rts.append(round_trip_ns())
            r = run_pipeline(PipelineConfig(duration=args.seconds, rate=args.rate, wait=wait, seed=2000 + i,
                                            flush_slack_us=10_000_000))
            if not r.ok:
                failed.append(f"latency {wait} seed {r.seed}")
            e = r.latency_ns["e2e"]
            p50.append(e["p50"] / 1000)
            p99.append(e["p99"] / 1000)
            p999.append(e["p999"] / 1000)
            drops.append(r.dropped)
            lag.append(r.latency_ns["ingress_lag"]["p99"] / 1000)
        out["latency"][wait] = {"p50_us": statistics.median(p50), "p99_us": statistics.median(p99),
                                "p999_us": statistics.median(p999), "drops": drops,
                                "ingress_lag_p99_us": statistics.median(lag), "round_trip_ns": statistics.median(rts),
                                "runs": {"p50": p50, "p99": p99, "p999": p999}}
        print(f"  {wait:<8}{statistics.median(p50):>10.2f}{statistics.median(p99):>10.2f}"
              f"{statistics.median(p999):>10.2f}   drops {sum(drops)}   lag p99 {statistics.median(lag):.1f}"
              f"   round trip {statistics.median(rts):,.0f} ns")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
    if failed:
        print("invariant verdict FAILED in: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
