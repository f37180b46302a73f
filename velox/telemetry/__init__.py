"""velox.telemetry: OpenTelemetry metrics (and sampled traces) of a pipeline run.

Layout:

* ``_names``: every exported instrument (name, unit, attribute values) and
  the histogram buckets: the one table the alert rules, the dashboard and
  the docs are checked against. Needs nothing beyond the standard library.
* ``_metrics``: ``PipelineMetrics``, the instruments over a running
  ``velox.Pipeline`` (needs the ``velox[telemetry]`` extra).
* ``_export``: what ``velox run --otlp/--prometheus`` builds: the OTLP/HTTP
  and Prometheus exporters, the standard ``OTEL_*`` variables, the final
  flush.

The OpenTelemetry packages are an optional extra; ``require()`` raises
``TelemetryUnavailable`` with the install command when they are missing.
"""

from __future__ import annotations

from ._names import INSTRUMENTS as INSTRUMENTS
from ._names import LATENCY_BOUNDS_S as LATENCY_BOUNDS_S

EXTRA = "velox[telemetry]"


class TelemetryUnavailable(RuntimeError):
    """The OpenTelemetry packages of the ``velox[telemetry]`` extra are not installed."""


def require() -> None:
    """Raise TelemetryUnavailable, naming the extra, unless the telemetry packages import."""
    missing = []
    for module, package in (("opentelemetry.sdk.metrics", "opentelemetry-sdk"),
                            ("opentelemetry.exporter.otlp.proto.http", "opentelemetry-exporter-otlp-proto-http"),
                            ("opentelemetry.exporter.prometheus", "opentelemetry-exporter-prometheus"),
                            ("prometheus_client", "prometheus-client")):
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    if missing:
        raise TelemetryUnavailable(
            f"telemetry needs the {EXTRA} extra (missing: {', '.join(missing)}); "
            f"install it with: pip install '{EXTRA}'")
