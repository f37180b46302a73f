"""What velox exports: every instrument's name, unit, attributes and meaning.

One table, read by the metrics code, the alert rules' tests, the dashboard
generator and the documentation, so a name cannot drift between them. OTel
instrument names use dots and base units (seconds); the Prometheus names are
what the OTel Prometheus exporter and the OTel Collector derive from them
(dots become underscores, the unit is appended, counters end in ``_total``),
and they are the names users query.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Instrument:
    """One exported instrument."""

    name: str
    """OTel instrument name."""
    prometheus: str
    """The Prometheus metric family name (histograms add _bucket/_sum/_count)."""
    kind: str
    """``counter``, ``histogram`` or ``gauge``."""
    unit: str
    description: str
    attribute: str | None
    """The one attribute (label) key, or None."""
    values: tuple[str, ...] = ()
    """The attribute's values (every series is exported from the start)."""


#: stage attribute of velox.transactions -> (native counter block, counter)
TRANSACTION_STAGES = {
    "ingress": ("ingress", "generated"),
    "book": ("book", "applied"),
    "bundle": ("bundle", "in"),
    "output": ("output", "txns"),
}
#: reason attribute of velox.bundles -> native bundle counter
BUNDLE_REASONS = {"size": "size", "timeout": "timeout", "final": "flush"}
#: stage attribute of velox.stage.latency -> native histogram: the age of a
#: transaction (since its ingress timestamp) when it reaches that stage; at
#: the output stage this includes the time it waited in the bundle builder.
LATENCY_STAGES = {"book": "age_at_book", "bundle": "age_at_bundle", "output": "total"}
#: ring attribute of velox.ring_buffer.utilization -> ring index
RINGS = {"ingress_book": 0, "book_bundle": 1, "bundle_output": 2}
#: side attribute of velox.orderbook.depth -> native side (0 bid, 1 ask)
SIDES = {"bid": 0, "ask": 1}

TRANSACTIONS = Instrument(
    name="velox.transactions", prometheus="velox_transactions_total", kind="counter", unit="{transaction}",
    description="Transactions each stage has processed (ingress: admitted to the pipeline).",
    attribute="stage", values=tuple(TRANSACTION_STAGES))
BUNDLES = Instrument(
    name="velox.bundles", prometheus="velox_bundles_total", kind="counter", unit="{bundle}",
    description="Bundles the builder handed out, by flush reason (full, oldest timed out, final flush).",
    attribute="reason", values=tuple(BUNDLE_REASONS))
BOOK_TIMEOUTS = Instrument(
    name="velox.orderbook.timeouts", prometheus="velox_orderbook_timeouts_total", kind="counter",
    unit="{operation}", description="Order-book operations whose bounded compare-exchange retry gave up.",
    attribute=None)
INGRESS_DROPPED = Instrument(
    name="velox.ingress.dropped", prometheus="velox_ingress_dropped_total", kind="counter", unit="{transaction}",
    description="Arrivals dropped because the first ring was full (drop backpressure).", attribute=None)
STAGE_LATENCY = Instrument(
    name="velox.stage.latency", prometheus="velox_stage_latency_seconds", kind="histogram", unit="s",
    description="Age of a transaction (since its ingress timestamp) when it reaches a stage; at output it "
                "includes the wait in the bundle builder.",
    attribute="stage", values=tuple(LATENCY_STAGES))
E2E_LATENCY = Instrument(
    name="velox.e2e.latency", prometheus="velox_e2e_latency_seconds", kind="histogram", unit="s",
    description="End-to-end latency: ingress to output minus the deliberate wait in the bundle builder.",
    attribute=None)
RING_UTILIZATION = Instrument(
    name="velox.ring_buffer.utilization", prometheus="velox_ring_buffer_utilization", kind="gauge", unit="1",
    description="Occupancy of each SPSC ring between stages, 0 to 1.", attribute="ring", values=tuple(RINGS))
BOOK_DEPTH = Instrument(
    name="velox.orderbook.depth", prometheus="velox_orderbook_depth", kind="gauge", unit="{lot}",
    description="Resting quantity on each side of the order book.", attribute="side", values=tuple(SIDES))

INSTRUMENTS = (TRANSACTIONS, BUNDLES, BOOK_TIMEOUTS, INGRESS_DROPPED, STAGE_LATENCY, E2E_LATENCY,
               RING_UTILIZATION, BOOK_DEPTH)


def _latency_bounds() -> tuple[float, ...]:
    """Histogram bucket upper bounds in seconds, 100 ns to 1 s: seven per
    decade (1, 1.5, 2, 3, 4, 5, 7.5), so a p99 in microseconds reads within
    a step of at most 50% and 20 us (the alert threshold) is a bound."""
    out = []
    for exp in range(-7, 0):
        for m in (1, 1.5, 2, 3, 4, 5, 7.5):
            out.append(float(f"{m}e{exp}"))
    out.append(1.0)
    return tuple(out)


LATENCY_BOUNDS_S = _latency_bounds()


def series_count() -> int:
    """Labelled series velox exports (a histogram counts once per label set)."""
    return sum(max(1, len(i.values)) for i in INSTRUMENTS)
