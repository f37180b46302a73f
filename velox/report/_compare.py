"""A run against a baseline run: ratios per metric and a regression verdict.

A metric regresses when it is worse than the baseline by more than the
threshold (a fraction): throughput lower than baseline x (1 - threshold), a
latency higher than baseline x (1 + threshold). Drops regress when the
baseline had none and the run has some, and a run whose invariants failed is
a regression whatever its figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: (key, label, higher is better, unit)
METRICS = (
    ("throughput", "throughput end to end", True, "txn/s"),
    ("per_cpu", "transactions per CPU second", True, "txn/CPU s"),
    ("e2e_p50", "end-to-end p50", False, "us"),
    ("e2e_p99", "end-to-end p99", False, "us"),
    ("e2e_p999", "end-to-end p99.9", False, "us"),
    ("total_p99", "p99 incl. bundling", False, "us"),
    ("drop_fraction", "dropped fraction of arrivals", False, ""),
)
#: configuration keys that must agree for a fair comparison
SAME_CONFIG = ("saturate", "rate", "topology", "wait", "bundle_size", "bundle_timeout_us", "price_mode",
               "backpressure", "batch", "ring_capacity")


def figures(run: dict[str, Any]) -> dict[str, float]:
    lat = run["latency_ns"]
    arrivals = run["counters"]["ingress"].get("arrivals") or 0
    return {
        "throughput": float(run.get("throughput_txn_per_s", 0.0)),
        "per_cpu": float(run.get("txn_per_cpu_s", 0.0)),
        "e2e_p50": lat["e2e"]["p50"] / 1000,
        "e2e_p99": lat["e2e"]["p99"] / 1000,
        "e2e_p999": lat["e2e"]["p999"] / 1000,
        "total_p99": lat["total"]["p99"] / 1000,
        "drop_fraction": run["counters"]["ingress"]["dropped"] / arrivals if arrivals else 0.0,
    }


@dataclass(frozen=True, kw_only=True)
class Row:
    key: str
    label: str
    unit: str
    higher_is_better: bool
    baseline: float
    value: float
    ratio: float | None
    """value / baseline; None when the baseline is 0."""
    regressed: bool


@dataclass(frozen=True, kw_only=True)
class Comparison:
    run: str
    baseline: str
    threshold: float
    rows: list[Row]
    invariants_ok: bool
    config_differences: list[str]

    @property
    def regressed(self) -> bool:
        return not self.invariants_ok or any(r.regressed for r in self.rows)

    @property
    def verdict(self) -> str:
        if not self.regressed:
            return f"no regression (threshold {self.threshold:.0%})"
        why = [r.label for r in self.rows if r.regressed]
        if not self.invariants_ok:
            why.insert(0, "invariants failed")
        return f"REGRESSION: {', '.join(why)} (threshold {self.threshold:.0%})"


def compare(run: dict[str, Any], baseline: dict[str, Any], *, threshold: float, run_name: str = "run",
            baseline_name: str = "baseline") -> Comparison:
    if not 0 <= threshold < 1:
        raise ValueError(f"threshold must be a fraction in [0, 1), got {threshold!r}")
    a, b = figures(run), figures(baseline)
    rows = []
    for key, label, higher, unit in METRICS:
        new, old = a[key], b[key]
        ratio = new / old if old else None
        if higher:
            regressed = new < old * (1 - threshold)
        elif old == 0:
            regressed = new > 0
        else:
            regressed = new > old * (1 + threshold)
        rows.append(Row(key=key, label=label, unit=unit, higher_is_better=higher, baseline=old, value=new,
                        ratio=ratio, regressed=regressed))
    diffs = [f"{k}: {baseline['config'].get(k)!r} -> {run['config'].get(k)!r}" for k in SAME_CONFIG
             if run["config"].get(k) != baseline["config"].get(k)]
    return Comparison(run=run_name, baseline=baseline_name, threshold=threshold, rows=rows,
                      invariants_ok=bool(run.get("ok")), config_differences=diffs)
