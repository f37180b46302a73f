"""Sampled traces: one OpenTelemetry span per sampled transaction.

The native book stage selects the transactions the sampling hash picks and
samples those the span budget (``max_spans_per_s``, a token bucket in the
stage) allows: it records their book timestamp into a side ring and marks
them, and the output stage records the other stage timestamps of marked
transactions into a second side ring (``vx_pipeline_trace_enable``). A full
side ring drops the sample and counts it, so tracing never blocks the
pipeline; a selection over the budget is counted, and costs nothing else
(at saturation 1% of the transactions is far more spans than an exporter
wants). ``PipelineTracer``'s thread drains the rings every 50 ms, joins a
transaction's book record with its output record by (producer, id), and
makes one span from its ingress timestamp to its delivery, with one event
per stage: ``book``, ``bundle.arrival``, ``bundle.flush``, ``output``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

from .. import __version__
from .._native import _core
from .._pipeline import Pipeline

SIDE_RING_CAPACITY = 1 << 16
DRAIN_SECONDS = 0.05
#: samples read from each side ring per native call
DRAIN_BATCH = 4096
#: samples waiting for their output record, at most (older ones are given up)
MAX_PENDING = 1 << 20


class PipelineTracer:
    """Drains ``pipe``'s trace side rings into spans of ``provider``.
    Build before ``pipe.start()``; ``close()`` after ``pipe.wait()``."""

    def __init__(self, pipe: Pipeline, provider: TracerProvider, *, rate: float,
                 max_spans_per_s: float = 2_000.0) -> None:
        if not 0 < rate <= 1:
            raise ValueError(f"trace sample rate must be in (0, 1], got {rate!r}")
        self.pipe = pipe
        self.rate = rate
        self.max_spans_per_s = max_spans_per_s
        if not max_spans_per_s >= 1:
            raise ValueError(f"max_spans_per_s must be at least 1, got {max_spans_per_s!r}")
        pipe._native.trace_enable(rate, SIDE_RING_CAPACITY, float(max_spans_per_s))
        self._tracer = provider.get_tracer("velox", __version__)
        self._ns_per_tick = _core.tsc_ns_per_tick()
        # One (wall clock, TSC) pair converts every tick to epoch nanoseconds.
        self._anchor_ns = time.time_ns()
        self._anchor_tick = _core.tsc_now()
        self._book: dict[tuple[int, int], int] = {}
        self.spans = 0
        self.without_book = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="velox-trace-drain", daemon=True)
        self._thread.start()

    def _epoch_ns(self, tick: int) -> int:
        return self._anchor_ns + round((tick - self._anchor_tick) * self._ns_per_tick)

    def _run(self) -> None:
        while not self._stop.wait(DRAIN_SECONDS):
            self.drain()

    def drain(self) -> None:
        """Turn every sample waiting in the side rings into a span (one thread at a time)."""
        with self._lock:
            waiting: list[tuple[int, ...]] = []
            while True:
                book, out = self.pipe._native.trace_drain(DRAIN_BATCH)
                for producer, txn_id, tick in book:
                    self._book[(producer, txn_id)] = tick
                waiting.extend(out)
                if len(book) < DRAIN_BATCH:
                    # The book ring was empty after this read, and every output
                    # record read so far was read before it: their book
                    # records are all in hand (or were dropped).
                    for rec in waiting:
                        self._span(rec)
                    waiting.clear()
                if len(self._book) > MAX_PENDING:  # their output records were dropped
                    for key in list(self._book)[: len(self._book) - MAX_PENDING]:
                        del self._book[key]
                if not book and not out:
                    return

    def _span(self, rec: tuple[int, ...]) -> None:
        producer, txn_id, ingress, arrival, flush, output = rec
        book = self._book.pop((producer, txn_id), None)
        attrs: dict[str, Any] = {"velox.producer": producer, "velox.txn.id": txn_id,
                                 "velox.e2e_ns": round((output - ingress - (flush - arrival)) * self._ns_per_tick)}
        span = self._tracer.start_span("velox.transaction", kind=SpanKind.INTERNAL, attributes=attrs,
                                       start_time=self._epoch_ns(ingress))
        if book is not None:
            span.add_event("book", timestamp=self._epoch_ns(book))
        else:
            self.without_book += 1
        span.add_event("bundle.arrival", timestamp=self._epoch_ns(arrival))
        span.add_event("bundle.flush", timestamp=self._epoch_ns(flush))
        span.add_event("output", timestamp=self._epoch_ns(output))
        span.end(end_time=self._epoch_ns(output))
        self.spans += 1

    def close(self) -> dict[str, int]:
        """Stop the thread, drain what is left (the pipeline has stopped) and
        return the counts: selected by the hash, sampled and dropped per stage,
        over the budget, spans made."""
        self._stop.set()
        self._thread.join()
        self.drain()
        book_rec, book_drop, out_rec, out_drop, over = self.pipe._native.trace_stats()
        return {"selected": book_rec + book_drop + over, "sampled": book_rec, "book_dropped": book_drop,
                "output_dropped": out_drop, "over_budget": over, "spans": self.spans,
                "without_book": self.without_book, "book_recorded": book_rec, "output_recorded": out_rec}
