"""``velox run``: run the native pipeline and check its invariants.

Ingress (Poisson arrivals, or as fast as the pipeline accepts with
--saturate) feeds the order book, the bundle builder and the output stage over
SPSC rings, each stage on native threads that never take the GIL. A live line
each second shows per-stage rates, drops, the end-to-end p99 so far and the
occupancy of the three rings; the run ends with a summary table and a verdict
on the invariants (FIFO per producer, no loss, bundle sizes within the limit,
timeout flushes within bound, the book conserved). The exit status is 0 when
every invariant held, 1 when one failed, 2 for bad flags. Ctrl-C stops ingress
early; the rings still drain and the report accounts for every transaction.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from typing import TextIO

from ._pipeline import (
    BACKPRESSURES,
    ORDER_LIFETIME,
    PRICE_MODES,
    TOPOLOGIES,
    TOPOLOGY_THREADS,
    WAITS,
    Pipeline,
    PipelineConfig,
    PipelineConfigError,
    PipelineReport,
    Snapshot,
    drive,
)
from .telemetry import _args as _telemetry_args

EPILOG = """\
examples:
  velox run                                   10 s at 100,000 txn/s (the defaults)
  velox run --saturate --duration 5           saturated throughput, end to end
  velox run --price-mode walk --backpressure block --json report.json
  velox run --output bundles.bin              delivered transactions as 32-byte wire records

topologies (I ingress, B book, U bundle builder, O output):
  auto    measured at start: 'stages' with 4 idle CPUs, 'pairs' with 2 idle CPUs
          whose core-to-core round trip is at most 200 ns, else 'single' (no
          cross-core handoff to wait for); the header line says why
  single  I+B+U+O      pairs  I+B | U+O      split  I | B+U+O      stages  I | B | U | O
A spinning thread that shares a core with the thread it waits for steals the
time slice that thread needs: with fewer CPUs than threads use 'yield' or 'park'.

latency: 'e2e' is from the ingress timestamp to the output stage, minus the
time a transaction deliberately waits in the bundle builder; 'total' includes
that wait (up to --bundle-timeout-us)."""


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    return v


def _int(text: str) -> int:
    try:
        return int(text.replace("_", ""), 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="velox run", description=textwrap.fill(__doc__.split("\n\n")[1].replace("\n", " "), 79),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    d = PipelineConfig()
    g = p.add_argument_group("load")
    g.add_argument("--duration", type=_positive_float, default=d.duration, metavar="SECONDS",
                   help=f"seconds of ingress (default {d.duration:g}; 0 runs until Ctrl-C)")
    g.add_argument("--rate", type=_positive_float, default=d.rate, metavar="TXN_PER_S",
                   help=f"Poisson arrival rate (default {d.rate:,.0f})")
    g.add_argument("--saturate", action="store_true",
                   help="generate as fast as the pipeline accepts (no drops; reports saturated throughput)")
    g.add_argument("--price-mode", choices=PRICE_MODES, default=d.price_mode,
                   help="uniform: $90-$110, random side (crosses); walk: random-walk mid, never crosses "
                        f"(default {d.price_mode})")
    g.add_argument("--backpressure", choices=BACKPRESSURES, default=None,
                   help=f"when the first ring is full: drop and count, or block (default {d.backpressure})")
    g.add_argument("--producers", type=_int, default=d.producers, metavar="N",
                   help=f"logical producers with their own sequence numbers (default {d.producers})")
    g.add_argument("--seed", type=_int, default=None, help="generator seed (default: random, printed)")
    g = p.add_argument_group("threads")
    g.add_argument("--topology", choices=TOPOLOGIES, default=d.topology,
                   help=f"stages per thread (default {d.topology}; see below)")
    g.add_argument("--wait", choices=WAITS, default=d.wait,
                   help=f"idle strategy: busy spin, spin then yield, spin/yield/sleep (default {d.wait})")
    g.add_argument("--pin", action=argparse.BooleanOptionalAction, default=d.pin,
                   help="pin threads to distinct CPUs when there are enough (default: on; a lone thread is "
                        "never pinned)")
    g = p.add_argument_group("structures")
    g.add_argument("--ring-capacity", type=_int, default=d.ring_capacity, metavar="N",
                   help=f"records per ring, a power of two >= 64 (default {d.ring_capacity})")
    g.add_argument("--batch", type=_int, default=d.batch, metavar="N",
                   help=f"most records per ring index store, 1-256 (default {d.batch})")
    g.add_argument("--bundle-size", type=_int, default=d.bundle_size, metavar="N",
                   help=f"transactions per full bundle, 1-16 (default {d.bundle_size})")
    g.add_argument("--bundle-timeout-us", type=_positive_float, default=d.bundle_timeout_us, metavar="US",
                   help=f"flush a bundle when its oldest transaction waited this long (default {d.bundle_timeout_us:g})")
    g.add_argument("--flush-slack-us", type=_positive_float, default=None, metavar="US",
                   help="also fail the verdict when a bundle is held longer than timeout + US of wall-clock "
                        "time (default: off; the verdict always checks that a bundle leaves at the builder's "
                        "first pass after its deadline, which no preemption can break)")
    g = p.add_argument_group("output")
    g.add_argument("--json", metavar="FILE", help="write the full report as JSON")
    g.add_argument("--output", metavar="FILE",
                   help="write delivered transactions to FILE as 32-byte wire records, in delivery order")
    g.add_argument("--report", metavar="DIR",
                   help="write DIR/run.json, DIR/report.html (self-contained, with plots) and DIR/summary.md")
    g.add_argument("--quiet", action="store_true", help="no live lines")
    _telemetry_args.add_arguments(p)
    return p


def _rate(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f}{unit}"
    return f"{n:.0f}"


def _us(ns: float) -> str:
    return f"{ns / 1000:.2f}"


class _Live:
    """Prints one line per snapshot: per-stage rates since the last line."""

    def __init__(self, out: TextIO, capacity: int) -> None:
        self.out = out
        self.capacity = capacity
        self.prev: Snapshot | None = None

    def __call__(self, s: Snapshot) -> None:
        def delta(stage: str, name: str) -> float:
            before = self.prev.counters[stage][name] if self.prev else 0
            dt = s.elapsed - (self.prev.elapsed if self.prev else 0.0)
            return (s.counters[stage][name] - before) / dt if dt > 0 else 0.0

        c = s.counters
        line = (f"[{s.elapsed:6.1f}s] in {_rate(delta('ingress', 'generated'))}/s"
                f"  book {_rate(delta('book', 'applied'))}/s"
                f"  bundle {_rate(delta('bundle', 'in'))}/s"
                f"  out {_rate(delta('output', 'txns'))}/s"
                f"  drops {c['ingress']['dropped']}"
                f"  e2e p99 {_us(s.e2e_p99_ns)} us"
                f"  rings {s.rings[0]}/{s.rings[1]}/{s.rings[2]} of {self.capacity}")
        print(line, file=self.out, flush=True)
        self.prev = s


def print_summary(r: PipelineReport, out: TextIO) -> None:
    c = r.counters
    print(file=out)
    print(f"summary: {r.elapsed_s:.2f} s, seed {r.seed}, topology {r.topology} "
          f"({TOPOLOGY_THREADS[r.topology]}; {r.threads} thread{'' if r.threads == 1 else 's'} on {r.cpus} CPUs, "
          f"{'pinned' if r.pinned else 'not pinned'}), wait {r.config['wait']}"
          + (", interrupted" if r.interrupted else ""), file=out)
    rows = [
        ("generated", c["ingress"]["generated"]),
        ("dropped (ring 0 full)", c["ingress"]["dropped"]),
        ("backlog at stop (block)", c["ingress"]["backlog"]),
        ("book applied / cancels", f"{c['book']['applied']} / {c['book']['cancels']}"),
        ("book timeouts / errors", f"{c['book']['timeouts']} / {c['book']['errors']}"),
        ("bundles (size/timeout/final)",
         f"{c['bundle']['bundles']} ({c['bundle']['size']}/{c['bundle']['timeout']}/{c['bundle']['flush']})"),
        ("delivered", c["output"]["txns"]),
        ("throughput end to end", f"{r.throughput:,.0f} txn/s"),
        ("pipeline CPU time", (f"{r.cpu_s:.2f} s of {r.threads} x {r.elapsed_s:.2f} s "
                               f"({r.per_cpu_second:,.0f} txn per CPU second)")),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"  {k:<{width}}  {v}", file=out)
    print(f"  (each order rests for {ORDER_LIFETIME:,} transactions, then is cancelled: the generator keeps "
          "the book bounded; the last ones are cancelled at the end)", file=out)
    print(file=out)
    print(f"  {'latency (us)':<16}{'count':>12}{'p50':>10}{'p90':>10}{'p99':>10}{'p99.9':>10}{'max':>12}", file=out)
    labels = {"e2e": "end to end", "total": "incl. bundling", "age_at_book": "at book",
              "age_at_bundle": "at builder", "ingress_lag": "ingress lag", "flush_late": "flush lateness"}
    for key, label in labels.items():
        h = r.latency_ns[key]
        if key == "ingress_lag" and r.config["saturate"]:
            continue
        print(f"  {label:<16}{h['count']:>12}{_us(h['p50']):>10}{_us(h['p90']):>10}{_us(h['p99']):>10}"
              f"{_us(h['p999']):>10}{_us(h['max']):>12}", file=out)
    print(file=out)
    print("invariants:", file=out)
    for inv in r.invariants:
        print(f"  [{'ok' if inv.ok else 'FAIL'}] {inv.name}: {inv.detail}", file=out)
    if r.ok:
        print("verdict: PASS, every invariant held", file=out)
    else:
        failed = ", ".join(i.name for i in r.invariants if not i.ok)
        print(f"verdict: FAIL ({failed}); reproduce with --seed {r.seed} and the same flags", file=out)


def main(argv: list[str] | None = None, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        rc = _main(argv, out)
        out.flush()
        return rc
    except BrokenPipeError:
        # `velox run | head`: the reader left. Point stdout at /dev/null so the
        # interpreter's last flush stays quiet (the recipe of Python's signal docs).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _main(argv: list[str] | None, out: TextIO) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        cfg = PipelineConfig(
            duration=args.duration, rate=args.rate, saturate=args.saturate, price_mode=args.price_mode,
            backpressure=args.backpressure or ("block" if args.saturate else "drop"),
            backpressure_explicit=args.backpressure is not None,
            wait=args.wait, topology=args.topology, pin=args.pin, ring_capacity=args.ring_capacity,
            bundle_size=args.bundle_size, bundle_timeout_us=args.bundle_timeout_us,
            flush_slack_us=args.flush_slack_us, seed=args.seed, producers=args.producers, batch=args.batch,
            output=args.output)
        cfg.validate()
    except PipelineConfigError as e:
        flag = "--" + str(e).split(" ", 1)[0].replace("_", "-")
        parser.error(f"{flag}: {str(e).split(' ', 1)[1]}")
    try:
        pipe = Pipeline(cfg)
    except PipelineConfigError as e:
        parser.error(str(e))
    load = "saturated" if cfg.saturate else f"{cfg.rate:,.0f} txn/s Poisson"
    length = f"{cfg.duration:g} s" if cfg.duration else "until Ctrl-C"
    print(f"velox run: {length}, {load}, {cfg.price_mode} prices, backpressure "
          f"{'block' if cfg.saturate else cfg.backpressure}, seed {pipe.seed}; topology {pipe.topology} "
          f"({TOPOLOGY_THREADS[pipe.topology]}"
          f"{'; ' + pipe.topology_reason if pipe.topology_reason else ''}), wait {cfg.wait}; Ctrl-C stops early",
          file=out, flush=True)
    telemetry = _start_telemetry(parser, args, pipe, out)
    if telemetry == 2:
        return 2
    try:
        report = drive(pipe, on_tick=None if args.quiet else _Live(out, cfg.ring_capacity), on_interrupt=_interrupted,
                       measure_round_trip=bool(args.report))
        print_summary(report, out)
        if args.json:
            report.write_json(args.json)
            print(f"report written to {args.json}", file=out)
        if args.output:
            print(f"{report.delivered} transactions written to {args.output} (32-byte wire records)", file=out)
        if args.report:
            _write_report(report, args.report, out)
    finally:
        if telemetry is not None:
            telemetry.close()  # the final export, after Ctrl-C too
    return 0 if report.ok else 1


def _write_report(report: PipelineReport, directory: str, out: TextIO) -> None:
    from pathlib import Path

    from .report import ReportError, write_report

    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
        run_json = str(Path(directory) / "run.json")
        report.write_json(run_json)
        w = write_report([run_json], directory)
    except (OSError, ReportError) as e:
        print(f"velox run: cannot write the report into {directory}: {getattr(e, 'strerror', None) or e}",
              file=sys.stderr)
        return
    print(f"report written to {w.html} (summary {w.markdown})", file=out)


def _start_telemetry(parser: argparse.ArgumentParser, args: argparse.Namespace, pipe: Pipeline, out: TextIO):
    """The run's exporters (None when telemetry is off), or 2 after printing
    why the telemetry extra is missing."""
    options = _telemetry_args.options_from_args(args)
    if not options.enabled:
        return None
    from .telemetry import TelemetryUnavailable
    from .telemetry._export import Telemetry, TelemetryConfigError

    try:
        return Telemetry(pipe, options, out=out)
    except TelemetryUnavailable as e:
        print(f"velox run: {e}", file=sys.stderr)
        return 2
    except TelemetryConfigError as e:
        parser.error(str(e))


def _interrupted() -> None:
    print("\ninterrupted: ingress stops, the rings drain", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
