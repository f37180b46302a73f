"""What ``velox run --otlp URL --prometheus HOST:PORT`` builds around a run.

One MeterProvider with up to two readers: a periodic OTLP/HTTP (protobuf)
exporter and a Prometheus scrape endpoint. The standard OpenTelemetry
variables apply: ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`` (when ``--otlp`` is given without a
URL), ``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_METRIC_EXPORT_INTERVAL``
(velox's default is 10 s instead of the SDK's 60 s),
``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES``. ``close()`` makes the
final collection and export after the run (also after Ctrl-C), and can keep
the scrape endpoint up until Prometheus has read the final values.
"""

from __future__ import annotations

import ipaddress
import os
import time
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import urlsplit

from . import require

DEFAULT_EXPORT_INTERVAL_MS = 10_000


class TelemetryConfigError(ValueError):
    """A telemetry flag the run cannot use; the message says why."""


@dataclass(frozen=True, kw_only=True)
class TelemetryOptions:
    otlp: str | None = None
    """OTLP/HTTP base URL (``/v1/metrics`` is appended); "" means from the
    OTEL_* variables; None: no OTLP export."""
    prometheus: tuple[str, int] | None = None
    """(host, port) of the scrape endpoint; port 0 picks a free one."""
    prometheus_linger_s: float = 0.0
    """After the run, keep the endpoint up until one scrape has read the final values, at most this long."""
    trace_sample: float = 0.01
    """Fraction of transactions traced (OTLP only); 0 turns tracing off."""

    @property
    def enabled(self) -> bool:
        return self.otlp is not None or self.prometheus is not None


def parse_otlp_url(text: str) -> str:
    """The OTLP/HTTP base URL, checked; "" stands for the OTEL_* variables."""
    if text == "":
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TelemetryConfigError(f"expected an http(s) URL such as http://127.0.0.1:4318, got {text!r}")
    return text.rstrip("/")


def parse_host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) with a port from 0 to 65535."""
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise TelemetryConfigError(f"expected HOST:PORT such as 127.0.0.1:9464, got {text!r}")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        p = int(port)
    except ValueError:
        raise TelemetryConfigError(f"port must be an integer, got {port!r}") from None
    if not 0 <= p <= 65535:
        raise TelemetryConfigError(f"port must be from 0 to 65535, got {p}")
    return host, p


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Telemetry:
    """The exporters of one run; build after the Pipeline, close after wait()."""

    def __init__(self, pipe, options: TelemetryOptions, *, out: TextIO) -> None:
        require()
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.resources import Resource

        from .. import __version__
        from ._metrics import PipelineMetrics

        self.options = options
        self.out = out
        self.prometheus_address: tuple[str, int] | None = None
        self._server = None
        self._end: float | None = None
        attrs = {"service.version": __version__, "velox.seed": str(pipe.seed), "velox.topology": pipe.topology}
        if "OTEL_SERVICE_NAME" not in os.environ:
            attrs["service.name"] = "velox"
        resource = Resource.create(attrs)
        readers = []
        if options.prometheus is not None:
            readers.append(self._start_prometheus(*options.prometheus))
        if options.otlp is not None:
            readers.append(self._otlp_reader(options.otlp))
        self.provider = MeterProvider(metric_readers=readers, resource=resource)
        self.metrics = PipelineMetrics(pipe, self.provider, readers)
        self.tracer = None
        self.tracer_provider = None
        if options.otlp is not None and options.trace_sample > 0:
            self._start_traces(pipe, options.otlp, options.trace_sample, resource)

    def _start_traces(self, pipe, url: str, rate: float, resource) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        from ._traces import PipelineTracer

        self.tracer_provider = TracerProvider(resource=resource)
        kw = {} if os.environ.get("OTEL_BSP_MAX_QUEUE_SIZE") else {
            "max_queue_size": 1 << 16, "max_export_batch_size": 4096, "schedule_delay_millis": 1000}
        self.tracer_provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{url}/v1/traces" if url else None), **kw))
        self.tracer = PipelineTracer(pipe, self.tracer_provider, rate=rate)
        where = f"{url}/v1/traces" if url else "the endpoint in OTEL_EXPORTER_OTLP_*"
        print(f"telemetry: OTLP/HTTP traces of {rate:.4%} of transactions to {where}", file=self.out, flush=True)

    def _start_prometheus(self, host: str, port: int):
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from prometheus_client import CollectorRegistry, start_http_server

        registry = CollectorRegistry(auto_describe=False)
        reader = PrometheusMetricReader(scope_info_enabled=False, registry=registry)
        try:
            server, _thread = start_http_server(port, addr=host, registry=registry)
        except OSError as e:
            raise TelemetryConfigError(f"cannot serve Prometheus metrics on {host}:{port}: {e.strerror or e}") from None
        self._server = server
        self.prometheus_address = (host, server.server_address[1])
        where = f"http://{host if ':' not in host else f'[{host}]'}:{self.prometheus_address[1]}/metrics"
        note = "" if _is_loopback(host) else " (not a loopback address: reachable from the network)"
        print(f"telemetry: Prometheus metrics at {where}{note}", file=self.out, flush=True)
        return reader

    def _otlp_reader(self, url: str):
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter,
        )
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

        exporter = OTLPMetricExporter(endpoint=f"{url}/v1/metrics" if url else None)
        interval = None if os.environ.get("OTEL_METRIC_EXPORT_INTERVAL") else DEFAULT_EXPORT_INTERVAL_MS
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=interval)
        where = f"{url}/v1/metrics" if url else "the endpoint in OTEL_EXPORTER_OTLP_*"
        every = (f"{interval / 1000:g} s" if interval else
                 f"{float(os.environ['OTEL_METRIC_EXPORT_INTERVAL']) / 1000:g} s (OTEL_METRIC_EXPORT_INTERVAL)")
        print(f"telemetry: OTLP/HTTP metrics to {where} every {every}", file=self.out, flush=True)
        return reader

    def close(self) -> None:
        """Final collection and export (the run has ended or was interrupted);
        then, with a Prometheus linger, wait for one scrape of the final values."""
        self._end = time.monotonic()
        if self._server is not None and self.options.prometheus_linger_s > 0:
            deadline = self._end + self.options.prometheus_linger_s
            print(f"telemetry: waiting up to {self.options.prometheus_linger_s:g} s for a final Prometheus "
                  "scrape (Ctrl-C skips)", file=self.out, flush=True)
            try:
                while self.metrics.last_collect <= self._end and time.monotonic() < deadline:
                    time.sleep(0.05)
            except KeyboardInterrupt:
                pass
            scraped = self.metrics.last_collect > self._end
            print(f"telemetry: final values {'scraped' if scraped else 'NOT scraped (linger ran out)'}",
                  file=self.out, flush=True)
        if self.tracer is not None:
            t = self.tracer.close()
            self.tracer_provider.shutdown()  # exports the spans still queued
            print(f"telemetry: traces: {t['selected']} transactions selected by the sampling hash, "
                  f"{t['over_budget']} over the span budget, "
                  f"{t['book_dropped'] + t['output_dropped']} samples dropped (side ring full), "
                  f"{t['spans']} spans exported", file=self.out, flush=True)
            self.trace_counts = t
        self.provider.shutdown()  # the OTLP reader's final collect and export
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
