"""velox.report: the benchmark report a person reads after a run.

Layout: ``_inputs`` recognises the JSON files (``velox run --json``,
``velox bench --json``, pytest-benchmark), ``_compare`` holds a run against
a baseline (ratios, regression verdict), ``_svg`` draws the plots as inline
SVG and ``_render`` writes the self-contained HTML page and the Markdown
summary. ``write_report`` does it all; ``velox report`` is its command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import _render
from ._compare import Comparison, compare
from ._inputs import Input, ReportError, load

__all__ = ["Comparison", "ReportError", "Written", "write_report"]


@dataclass(frozen=True, kw_only=True)
class Written:
    html: Path
    markdown: Path
    comparisons: list[Comparison]

    @property
    def regressed(self) -> bool:
        return any(c.regressed for c in self.comparisons)


def write_report(paths: list[str | Path], out_dir: str | Path, *, baseline: str | Path | None = None,
                 threshold: float = 0.10) -> Written:
    """Read ``paths`` (and the baseline run), write ``report.html`` and
    ``summary.md`` into ``out_dir`` (created if missing)."""
    inputs: list[Input] = [load(p) for p in paths]
    if not inputs:
        raise ReportError("no input files")
    base = load(baseline) if baseline is not None else None
    if base is not None and base.kind != "run":
        raise ReportError(f"{base.path}: the baseline must be a velox run report (velox run --json)")
    comparisons = [compare(i.data, base.data, threshold=threshold, run_name=i.name, baseline_name=base.name)
                   for i in inputs if i.kind == "run"] if base is not None else []
    if base is not None and not comparisons:
        raise ReportError("--baseline compares velox run reports, but no input is one")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        html_path, md_path = out / "report.html", out / "summary.md"
        html_path.write_text(_render.html(inputs, comparisons, base), encoding="utf-8")
        md_path.write_text(_render.markdown(inputs, comparisons, base), encoding="utf-8")
    except OSError as e:
        raise ReportError(f"cannot write the report into {out}: {e.strerror or e}") from None
    return Written(html=html_path, markdown=md_path, comparisons=comparisons)
