"""The dashboard's eight panels as data: title, kind, unit and PromQL queries.

The Grafana dashboard generator (``_dashboard``) lays these out, and the
Prometheus integration test runs every query against a real Prometheus that
scraped a real run, so a panel cannot silently show "No data". Queries use
Grafana's ``$__rate_interval``; ``expr(window)`` substitutes a fixed window
for use outside Grafana.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Query:
    expr: str
    legend: str


@dataclass(frozen=True, kw_only=True)
class Panel:
    title: str
    kind: str
    """``timeseries`` or ``stat``."""
    unit: str
    """Grafana unit id (``s``, ``percentunit``, ``ops`` ...)."""
    description: str
    queries: tuple[Query, ...]


RATE = "$__rate_interval"


def expr(q: Query, window: str) -> str:
    """``q``'s expression with a fixed range window instead of Grafana's variable."""
    return q.expr.replace(RATE, window)


PANELS = (
    Panel(title="Transactions per second by stage", kind="timeseries", unit="ops",
          description="rate of velox_transactions_total for each stage",
          queries=(Query(expr=f"sum by (stage) (rate(velox_transactions_total[{RATE}]))", legend="{{stage}}"),)),
    Panel(title="Throughput (delivered)", kind="stat", unit="ops",
          description="transactions per second leaving the output stage",
          queries=(Query(expr=f'sum(rate(velox_transactions_total{{stage="output"}}[{RATE}]))',
                         legend="delivered"),)),
    Panel(title="End-to-end latency p50 / p95 / p99", kind="timeseries", unit="s",
          description="velox_e2e_latency_seconds: ingress to output minus the deliberate wait in the bundle builder",
          queries=tuple(Query(expr=f"histogram_quantile({q}, sum by (le) "
                                   f"(rate(velox_e2e_latency_seconds_bucket[{RATE}])))", legend=f"p{label}")
                        for q, label in (("0.5", "50"), ("0.95", "95"), ("0.99", "99")))),
    Panel(title="Stage latency p99", kind="timeseries", unit="s",
          description="p99 of the age of a transaction when it reaches each stage",
          queries=(Query(expr=f"histogram_quantile(0.99, sum by (stage, le) "
                              f"(rate(velox_stage_latency_seconds_bucket[{RATE}])))", legend="{{stage}}"),)),
    Panel(title="Ring buffer utilisation", kind="timeseries", unit="percentunit",
          description="occupancy of each SPSC ring (alert above 80%)",
          queries=(Query(expr="max by (ring) (velox_ring_buffer_utilization)", legend="{{ring}}"),)),
    Panel(title="Bundle flushes by reason", kind="timeseries", unit="ops",
          description="bundles per second, full (size), timed out, or the final flush",
          queries=(Query(expr=f"sum by (reason) (rate(velox_bundles_total[{RATE}]))", legend="{{reason}}"),)),
    Panel(title="Order-book timeout rate", kind="timeseries", unit="percentunit",
          description="order-book operations that gave up their bounded retry, per transaction (alert above 1%)",
          queries=(Query(expr=f"sum(rate(velox_orderbook_timeouts_total[{RATE}])) / "
                              f'sum(rate(velox_transactions_total{{stage="book"}}[{RATE}]))', legend="timeouts"),)),
    Panel(title="Ingress drop rate", kind="timeseries", unit="ops",
          description="arrivals per second dropped because the first ring was full (alert above 0)",
          queries=(Query(expr=f"sum(rate(velox_ingress_dropped_total[{RATE}]))", legend="dropped"),)),
)
