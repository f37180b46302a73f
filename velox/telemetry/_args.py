"""The telemetry flags of ``velox run`` (no OpenTelemetry import needed)."""

from __future__ import annotations

import argparse

from ._export import (
    TelemetryConfigError,
    TelemetryOptions,
    parse_host_port,
    parse_otlp_url,
)


def _typed(parse):
    def convert(text: str):
        try:
            return parse(text)
        except TelemetryConfigError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    convert.__name__ = parse.__name__.replace("parse_", "")
    return convert


def _seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= v <= 3600:
        raise argparse.ArgumentTypeError(f"must be from 0 to 3600 seconds, got {text}")
    return v


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction from 0 to 1, got {text}")
    return v


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group(
        "telemetry (off by default; needs the velox[telemetry] extra)",
        "Metrics read off the pipeline's own counters and histograms by the exporter's thread: "
        "velox_transactions_total{stage}, velox_bundles_total{reason}, velox_orderbook_timeouts_total, "
        "velox_ingress_dropped_total, velox_stage_latency_seconds{stage}, velox_e2e_latency_seconds, "
        "velox_ring_buffer_utilization{ring}, velox_orderbook_depth{side}. The final values are exported "
        "when the run ends, Ctrl-C included.")
    g.add_argument("--otlp", nargs="?", const="", default=None, type=_typed(parse_otlp_url), metavar="URL",
                   help="export metrics over OTLP/HTTP (protobuf) to URL/v1/metrics (e.g. http://127.0.0.1:4318); "
                        "without URL, OTEL_EXPORTER_OTLP_[METRICS_]ENDPOINT decides; interval "
                        "OTEL_METRIC_EXPORT_INTERVAL ms (default 10 s)")
    g.add_argument("--prometheus", type=_typed(parse_host_port), default=None, metavar="HOST:PORT",
                   help="serve a Prometheus scrape endpoint at http://HOST:PORT/metrics (e.g. 127.0.0.1:9464; "
                        "port 0 picks a free port and prints it)")
    g.add_argument("--trace-sample", type=_fraction, default=0.01, metavar="FRACTION",
                   help="with --otlp, trace this fraction of transactions: one span each, an event per stage "
                        "(default 0.01; 0 turns tracing off); at most 2,000 spans a second, the rest counted "
                        "and reported at the end")
    g.add_argument("--prometheus-linger", type=_seconds, default=0.0, metavar="SECONDS",
                   help="after the run, keep the endpoint up until Prometheus has scraped the final values, "
                        "at most SECONDS (default 0: close at once)")


def options_from_args(args: argparse.Namespace) -> TelemetryOptions:
    return TelemetryOptions(otlp=args.otlp, prometheus=args.prometheus,
                            prometheus_linger_s=args.prometheus_linger, trace_sample=args.trace_sample)
