"""The OpenTelemetry instruments over one running pipeline.

Nothing here touches the pipeline's hot path. The native stages already keep
single-writer counters and log-linear latency histograms; every instrument
reads those when a reader collects (the periodic OTLP exporter's thread, a
Prometheus scrape, a test's in-memory reader): counters and gauges through
the SDK's asynchronous (observable) instruments, histograms by converting the
native histogram to an OTel explicit-bucket histogram at collection time.
The OTel Python API has no asynchronous histogram, and recording each of
hundreds of thousands of samples a second again through a synchronous one
would cost more than the pipeline itself, so ``PipelineMetrics`` adds the
histogram points to what each reader collects (cumulative, or the change
since that reader's last collection when the reader prefers delta).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricReader,
    MetricsData,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from .. import __version__
from .._pipeline import Pipeline
from . import _names as n

SCOPE = "velox"


class PipelineMetrics:
    """Registers velox's instruments on ``provider`` for ``pipe`` and adds the
    latency histograms to every reader in ``readers`` (readers the provider
    was built with). Keep the object alive as long as the provider exports."""

    def __init__(self, pipe: Pipeline, provider: MeterProvider, readers: Iterable[MetricReader]) -> None:
        self.pipe = pipe
        self.capacity = pipe.config.ring_capacity
        self.start_ns = time.time_ns()
        self._lock = threading.Lock()
        self._last_collect = 0.0
        meter = provider.get_meter(SCOPE, __version__)
        for inst, cb in ((n.TRANSACTIONS, self._transactions), (n.BUNDLES, self._bundles),
                         (n.BOOK_TIMEOUTS, self._book_timeouts), (n.INGRESS_DROPPED, self._dropped)):
            meter.create_observable_counter(inst.name, [cb], unit=inst.unit, description=inst.description)
        for inst, cb in ((n.RING_UTILIZATION, self._rings), (n.BOOK_DEPTH, self._depth)):
            meter.create_observable_gauge(inst.name, [cb], unit=inst.unit, description=inst.description)
        self._scope = InstrumentationScope(SCOPE, __version__)
        for reader in readers:
            self._hook(reader)

    @property
    def last_collect(self) -> float:
        """time.monotonic() of the latest collection by any reader (0 before)."""
        return self._last_collect

    # -- observable callbacks (called on the collecting thread) -----------

    def _counters(self) -> dict[str, dict[str, int]]:
        return self.pipe.counters()

    def _transactions(self, _: CallbackOptions) -> list[Observation]:
        c = self._counters()
        return [Observation(c[block][name], {"stage": stage})
                for stage, (block, name) in n.TRANSACTION_STAGES.items()]

    def _bundles(self, _: CallbackOptions) -> list[Observation]:
        c = self._counters()["bundle"]
        return [Observation(c[name], {"reason": reason}) for reason, name in n.BUNDLE_REASONS.items()]

    def _book_timeouts(self, _: CallbackOptions) -> list[Observation]:
        return [Observation(self._counters()["book"]["timeouts"])]

    def _dropped(self, _: CallbackOptions) -> list[Observation]:
        return [Observation(self._counters()["ingress"]["dropped"])]

    def _rings(self, _: CallbackOptions) -> list[Observation]:
        lens = self.pipe.ring_lengths()
        return [Observation(lens[i] / self.capacity, {"ring": ring}) for ring, i in n.RINGS.items()]

    def _depth(self, _: CallbackOptions) -> list[Observation]:
        return [Observation(self.pipe.book_depth(side), {"side": name}) for name, side in n.SIDES.items()]

    # -- histograms ---------------------------------------------------------

    def histogram_points(self) -> list[tuple[n.Instrument, dict[str, str], dict[str, Any]]]:
        """(instrument, attributes, cumulative buckets in seconds) per series."""
        bounds_ns = tuple(b * 1e9 for b in n.LATENCY_BOUNDS_S)
        series = [(n.STAGE_LATENCY, {"stage": stage}, hist) for stage, hist in n.LATENCY_STAGES.items()]
        series.append((n.E2E_LATENCY, {}, "e2e"))
        out = []
        for inst, attrs, hist in series:
            h = self.pipe.histogram_buckets(hist, bounds_ns)
            out.append((inst, attrs, {"count": h["count"], "sum": h["sum_ns"] / 1e9, "min": h["min_ns"] / 1e9,
                                      "max": h["max_ns"] / 1e9, "counts": list(h["counts"])}))
        return out

    def _hook(self, reader: MetricReader) -> None:
        """Wrap the reader's collection so each collection carries the
        histograms too. (MetricReader.collect calls the provider's callback
        stored in ``_collect`` and hands the result to the exporter.)"""
        collect = reader._collect
        if collect is None:
            raise ValueError("the reader is not registered with a MeterProvider yet")
        delta = _histogram_temporality(reader) == AggregationTemporality.DELTA
        previous: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, Any]] = {}
        last_ns = [self.start_ns]

        def collect_with_histograms(r: MetricReader, timeout_millis: float = 10_000) -> MetricsData | None:
            data = collect(r, timeout_millis=timeout_millis)
            self._last_collect = time.monotonic()
            if data is None:
                return None
            now = time.time_ns()
            with self._lock:
                metrics = self._histogram_metrics(now, last_ns[0], delta, previous)
            last_ns[0] = now
            return _merge(data, self._scope, metrics)

        reader._collect = collect_with_histograms

    def _histogram_metrics(self, now: int, last: int, delta: bool,
                           previous: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, Any]]) -> list[Metric]:
        points: dict[n.Instrument, list[HistogramDataPoint]] = {}
        for inst, attrs, h in self.histogram_points():
            key = (inst.name, tuple(sorted(attrs.items())))
            start = self.start_ns
            lo, hi = h["min"], h["max"]
            if delta:
                before = previous.get(key)
                previous[key] = h
                start = last
                if before is not None:
                    h = {"count": h["count"] - before["count"], "sum": h["sum"] - before["sum"],
                         "counts": [a - b for a, b in zip(h["counts"], before["counts"], strict=True)]}
                    lo, hi = _range_of(h["counts"], lo, hi)
            points.setdefault(inst, []).append(HistogramDataPoint(
                attributes=attrs, start_time_unix_nano=start, time_unix_nano=now, count=h["count"], sum=h["sum"],
                bucket_counts=h["counts"], explicit_bounds=list(n.LATENCY_BOUNDS_S),
                min=lo if h["count"] else 0.0, max=hi if h["count"] else 0.0))
        temporality = AggregationTemporality.DELTA if delta else AggregationTemporality.CUMULATIVE
        return [Metric(name=inst.name, description=inst.description, unit=inst.unit,
                       data=Histogram(data_points=pts, aggregation_temporality=temporality))
                for inst, pts in points.items()]


def _histogram_temporality(reader: MetricReader) -> AggregationTemporality:
    """The temporality ``reader`` wants for histograms (the SDK keys its table
    by its internal instrument classes, so match by name)."""
    for cls, temporality in reader._instrument_class_temporality.items():
        if cls.__name__.lstrip("_") == "Histogram":
            return temporality
    return AggregationTemporality.CUMULATIVE


def _range_of(counts: list[int], lo: float, hi: float) -> tuple[float, float]:
    """Bounds of the non-empty buckets of a delta (its exact min and max are
    not kept), clamped to the cumulative min and max."""
    bounds = n.LATENCY_BOUNDS_S
    nonempty = [i for i, c in enumerate(counts) if c]
    if not nonempty:
        return 0.0, 0.0
    first, last = nonempty[0], nonempty[-1]
    low = bounds[first - 1] if first > 0 else 0.0
    high = bounds[last] if last < len(bounds) else hi
    return max(low, lo), min(high, hi)


def _merge(data: MetricsData, scope: InstrumentationScope, metrics: list[Metric]) -> MetricsData:
    """``data`` with ``metrics`` added to ``scope``'s metrics."""
    out = []
    for rm in data.resource_metrics:
        scopes = list(rm.scope_metrics)
        for i, sm in enumerate(scopes):
            if sm.scope.name == scope.name:
                scopes[i] = ScopeMetrics(scope=sm.scope, metrics=list(sm.metrics) + metrics, schema_url=sm.schema_url)
                break
        else:
            scopes.append(ScopeMetrics(scope=scope, metrics=metrics, schema_url=""))
        out.append(ResourceMetrics(resource=rm.resource, scope_metrics=scopes, schema_url=rm.schema_url))
        metrics = []  # one resource carries them
    return MetricsData(resource_metrics=out)
