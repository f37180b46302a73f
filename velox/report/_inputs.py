"""The files ``velox report`` reads: ``velox run --json`` reports, ``velox
bench --json`` results and pytest-benchmark JSON, recognised by content."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUN_SCHEMA = "velox.pipeline.report/1"


class ReportError(ValueError):
    """An input ``velox report`` cannot use, or an output it cannot write; the message says which and why."""


@dataclass(frozen=True, kw_only=True)
class Input:
    path: Path
    kind: str
    """``run``, ``bench`` or ``pytest-benchmark``."""
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.name


def load(path: str | Path) -> Input:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ReportError(f"{p}: cannot read: {e.strerror or e}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ReportError(f"{p}: not JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(data, dict):
        raise ReportError(f"{p}: expected a JSON object at the top level")
    if data.get("schema") == RUN_SCHEMA:
        missing = [k for k in ("config", "counters", "latency_ns", "invariants", "elapsed_s") if k not in data]
        if missing:
            raise ReportError(f"{p}: a velox run report without {', '.join(missing)}")
        return Input(path=p, kind="run", data=data)
    if isinstance(data.get("schema"), str) and data["schema"].startswith("velox.pipeline.report/"):
        raise ReportError(f"{p}: run report schema {data['schema']!r} is not supported (this velox reads "
                               f"{RUN_SCHEMA!r})")
    if "cases" in data and "rigtorp_published_mrecords_per_s" in data:
        return Input(path=p, kind="bench", data=data)
    if "benchmarks" in data and "machine_info" in data:
        return Input(path=p, kind="pytest-benchmark", data=data)
    raise ReportError(f"{p}: not a velox run report (velox run --json), velox bench --json result or "
                           "pytest-benchmark JSON file")
