"""What the exported metrics must equal, given a run's JSON report."""

from __future__ import annotations

from velox.telemetry import _names as n


def expected_counters(report: dict) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(OTel name, sorted attributes) -> final value of every counter series."""
    c = report["counters"]
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for stage, (block, name) in n.TRANSACTION_STAGES.items():
        out[(n.TRANSACTIONS.name, (("stage", stage),))] = c[block][name]
    for reason, name in n.BUNDLE_REASONS.items():
        out[(n.BUNDLES.name, (("reason", reason),))] = c["bundle"][name]
    out[(n.BOOK_TIMEOUTS.name, ())] = c["book"]["timeouts"]
    out[(n.INGRESS_DROPPED.name, ())] = c["ingress"]["dropped"]
    return out


def expected_histogram_counts(report: dict) -> dict[tuple[str, tuple[tuple[str, str], ...]], int]:
    lat = report["latency_ns"]
    out = {(n.STAGE_LATENCY.name, (("stage", stage),)): lat[h]["count"] for stage, h in n.LATENCY_STAGES.items()}
    out[(n.E2E_LATENCY.name, ())] = lat["e2e"]["count"]
    return out


def mismatches(got: dict, want: dict) -> list[str]:
    """Human-readable differences between exported and expected values."""
    bad = [f"{k}: exported {got.get(k)!r}, run total {v!r}" for k, v in want.items() if got.get(k) != v]
    bad += [f"{k}: exported but not expected" for k in got if k not in want]
    return bad
