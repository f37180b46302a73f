"""``velox run``: run the native pipeline and check its invariants.

Ingress (Poisson arrivals, or as fast as the pipeline accepts with
--saturate) feeds the order book, the bundle builder and the output stage over
SPSC rings, each stage on native threads that never take the GIL. A live line
each second shows per-stage rates, drops, the end-to-end p99 so far and the
occupancy of the three rings; the run ends with a summary table and a verdict
on the invariants (FIFO per producer, no loss, bundle sizes within the limit,
timeout flushes within bound, the book conserved). Ctrl-C or SIGTERM stops
ingress early; the rings still drain, the report accounts for every
transaction and the output file gets its trailer (a second signal exits at
once, leaving the file without one).

Exit status (docs/faults.md): 0 every invariant held and every output was
written; 1 an invariant failed; 2 bad flags or an output path that cannot be
used (found before the run); 3 every invariant held but an output (--output,
--json) could not be written completely; 128+N when signal N arrived before
the run started.
"""

from __future__ import annotations

import argparse
import os
import signal
import stat
import sys
import textwrap
from typing import TextIO

from ._pipeline import (
    BACKPRESSURES,
    ORDER_LIFETIME,
    PRICE_MODES,
    TOPOLOGIES,
    TOPOLOGY_THREADS,
    WAIT_CHOICES,
    Pipeline,
    PipelineConfig,
    PipelineConfigError,
    PipelineReport,
    Snapshot,
    drive,
)
from .telemetry import _args as _telemetry_args

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_IO = 0, 1, 2, 3

EPILOG = """\
examples:
  velox run                                   10 s at 100,000 txn/s (the defaults)
  velox run --saturate --duration 5           saturated throughput, end to end
  velox run --price-mode walk --backpressure block --json report.json
  velox run --output bundles.bin              delivered transactions as 32-byte wire records
  velox verify bundles.bin                    is that file complete (header, trailer, checksum, FIFO)?

topologies (I ingress, B book, U bundle builder, O output):
  auto    measured at start: 'single' for a rate one thread carries (at most
          5,000,000 txn/s: no cross-core handoff in any latency); saturated or
          faster, 'stages' with 4 idle CPUs, 'pairs' with 2 idle CPUs whose
          core-to-core round trip is at most 200 ns, else 'single'; the header
          line says why
  single  I+B+U+O      pairs  I+B | U+O      split  I | B+U+O      stages  I | B | U | O
A spinning thread that shares a core with the thread it waits for steals the
time slice that thread needs: with fewer CPUs than threads use 'yield' or 'park'.
--wait auto (the default) picks 'busy' when every thread has an idle CPU of its
own, else 'yield'.

latency: 'e2e' is from the ingress timestamp to the output stage, minus the
time a transaction deliberately waits in the bundle builder; 'total' includes
that wait (up to --bundle-timeout-us).

exit status: 0 pass; 1 an invariant failed; 2 bad flags or unusable output
path (checked before the run); 3 invariants held but --output or --json could
not be written completely; 128+N signal N before the run started."""


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
    g.add_argument("--wait", choices=WAIT_CHOICES, default=d.wait,
                   help="idle strategy: busy spin, spin then yield, spin/yield/sleep, or auto: busy when "
                        f"every pipeline thread has an idle CPU, else yield (default {d.wait})")
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
                   help="write delivered transactions to FILE as 32-byte wire records, in delivery order, "
                        "between a header and a trailer (count, checksum): see 'velox verify'")
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
          f"{'pinned' if r.pinned else 'not pinned'}), wait {r.wait_strategy or r.config['wait']}"
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
    if r.output is not None:
        o = r.output
        if o["error"] is None:
            print(f"  [ok] output file complete: {o['records']} records in {o['path']} "
                  f"(Adler-32 {o['adler32']:#010x}, trailer written)", file=out)
        else:
            print(f"  [FAIL] output file complete: write error: {o['error']}; {o['records']} of "
                  f"{r.delivered} delivered records reached {o['path']}", file=out)
    print(verdict_line(r), file=out)


def verdict_line(r: PipelineReport) -> str:
    if r.ok:
        return "verdict: PASS, every invariant held" + (" and the output file is complete" if r.output else "")
    failed = [i.name for i in r.invariants if not i.ok]
    if r.output_error is not None:
        failed.append(f"output file: {r.output_error}")
    how = f"; reproduce with --seed {r.seed} and the same flags" if not r.invariants_ok else ""
    return f"verdict: FAIL ({', '.join(failed)}){how}"


class _Console:
    """Where the run's text goes. Stdout closed at the start (``>&-``): the
    report goes to stderr instead. Stdout failing mid-run (``| head`` that
    left, a full disk): later lines are dropped rather than stopping the run,
    so the output files and the exit status still tell the truth, and the
    verdict line is repeated on stderr at the end."""

    def __init__(self, stream: TextIO | None) -> None:
        self.note = None
        if stream is None or _closed(stream):
            self.note = "velox run: stdout is closed; the report goes to stderr"
            stream = sys.stderr
        self.stream = stream
        self.broken: OSError | None = None

    def write(self, text: str) -> int:
        if self.broken is None and self.stream is not None:
            try:
                self.stream.write(text)
            except OSError as e:
                self._break(e)
        return len(text)

    def flush(self) -> None:
        if self.broken is None and self.stream is not None:
            try:
                self.stream.flush()
            except OSError as e:
                self._break(e)

    def _break(self, e: OSError) -> None:
        self.broken = e
        # The interpreter flushes sys.stdout at exit: point it at /dev/null so
        # that last flush stays quiet (the recipe of Python's signal docs).
        if self.stream is sys.stdout:
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
            except (OSError, ValueError):
                pass


def _closed(stream: TextIO) -> bool:
    try:
        os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return not hasattr(stream, "getvalue")  # a StringIO (tests) has no fd and is fine
    return False


def main(argv: list[str] | None = None, *, out: TextIO | None = None) -> int:
    console = _Console(out if out is not None else sys.stdout)
    if console.note:
        _err(console.note)
    rc = _main(argv, console)
    console.flush()
    return rc


def _err(text: str) -> None:
    if sys.stderr is not None:
        try:
            print(text, file=sys.stderr, flush=True)
        except OSError:
            pass


class _Signals:
    """SIGINT and SIGTERM during the run set a flag the drive loop polls (the
    rings drain, the report and the trailer are written); before the run they
    raise KeyboardInterrupt (nothing to drain); a second one during the drain
    exits at once."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.running = False
        self._old: dict[int, object] = {}

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)  # type: ignore[arg-type]

    def _handle(self, signum: int, frame: object) -> None:
        if not self.running:
            self.received = signum
            raise KeyboardInterrupt
        if self.received is not None:
            _err(f"velox run: second {signal.Signals(signum).name}: exiting without draining "
                 "(the output file has no trailer)")
            os._exit(128 + signum)
        self.received = signum


def check_output_paths(output: str | None, json_path: str | None) -> str | None:
    """Problems with the output paths that would otherwise surface only after
    the run (None: none found)."""
    if output and json_path:
        same = os.path.realpath(output) == os.path.realpath(json_path)
        if not same and os.path.exists(output) and os.path.exists(json_path):
            same = os.path.samefile(output, json_path)
        if same:
            return f"--output and --json name the same file ({json_path}): the report would overwrite the records"
    if json_path:
        return _check_writable("--json", json_path)
    return None


def _check_writable(flag: str, path: str) -> str | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:
        return f"{flag} {path}: {e.strerror}"
    if st is not None and stat.S_ISDIR(st.st_mode):
        return f"{flag} {path}: is a directory"
    if st is not None and not stat.S_ISREG(st.st_mode):
        return None if os.access(path, os.W_OK) else f"{flag} {path}: not writable"
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        return f"{flag} {path}: directory {parent} does not exist"
    try:  # the only sure test: open it for writing (without truncating), then undo
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.close(fd)
    except OSError as e:
        return f"{flag} {path}: {e.strerror}"
    if st is None:
        os.unlink(path)
    return None


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
    problem = check_output_paths(args.output, args.json)
    if problem:
        parser.error(problem)
    signals = _Signals()
    signals.install()
    try:
        try:
            pipe = Pipeline(cfg, on_output_wait=lambda msg: _err(f"velox run: {msg}"))
        except PipelineConfigError as e:
            parser.error(str(e))
        except KeyboardInterrupt:
            sig = signals.received or signal.SIGINT
            _err(f"velox run: {signal.Signals(sig).name} before the run started; nothing ran")
            return 128 + sig
        signals.running = True  # from here a signal drains the run instead
        load = "saturated" if cfg.saturate else f"{cfg.rate:,.0f} txn/s Poisson"
        length = f"{cfg.duration:g} s" if cfg.duration else "until Ctrl-C"
        print(f"velox run: {length}, {load}, {cfg.price_mode} prices, backpressure "
              f"{'block' if cfg.saturate else cfg.backpressure}, seed {pipe.seed}; topology {pipe.topology} "
              f"({TOPOLOGY_THREADS[pipe.topology]}"
              f"{'; ' + pipe.topology_reason if pipe.topology_reason else ''}), wait {pipe.wait_strategy}"
              f"{' (' + pipe.wait_reason + ')' if pipe.wait_reason else ''}; Ctrl-C stops early",
              file=out, flush=True)
        telemetry = _start_telemetry(parser, args, pipe, out)
        if telemetry == 2:
            pipe.close()
            return 2
        try:
            report = drive(pipe, on_tick=None if args.quiet else _Live(out, cfg.ring_capacity),
                           on_interrupt=lambda: _interrupted(signals.received),
                           stop_requested=lambda: signals.received is not None,
                           measure_round_trip=bool(args.report))
        finally:
            if telemetry is not None:
                telemetry.close()  # the final export, after Ctrl-C too
    finally:
        signals.restore()
    print_summary(report, out)
    json_error = None
    if args.json:
        try:
            report.write_json(args.json)
            print(f"report written to {args.json}", file=out)
        except OSError as e:
            json_error = f"could not write the JSON report to {args.json}: {e.strerror or e}"
            _err(f"velox run: {json_error}")
    if args.output:
        o = report.output
        print(f"{o['records']} of {report.delivered} delivered transactions written to {args.output} "
              f"(32-byte wire records between a header and a trailer; check with 'velox verify')", file=out)
    if args.report:
        _write_report(report, args.report, out)
    out.flush()
    if getattr(out, "broken", None) is not None:
        _err(f"velox run: stdout failed during the run ({out.broken.strerror or out.broken}); {verdict_line(report)}")
    if not report.invariants_ok:
        return EXIT_FAIL
    if report.output_error is not None or json_error is not None:
        return EXIT_IO
    return EXIT_PASS


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


def _interrupted(signum: int | None = None) -> None:
    name = signal.Signals(signum).name if signum else "a signal"
    _err(f"\ninterrupted by {name}: ingress stops, the rings drain (a second signal exits at once)")


if __name__ == "__main__":
    sys.exit(main())
