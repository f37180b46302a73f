"""``velox report``: a self-contained HTML report and a Markdown summary
from velox run --json reports (also velox bench --json and pytest-benchmark
JSON files), optionally against a baseline run with a regression verdict.

Exit status: 0 when no run regressed against the baseline (or there is no
baseline), 1 on a regression, 2 for bad input.
"""

from __future__ import annotations

import argparse
import sys
import textwrap

from .report import ReportError, write_report

EPILOG = """\
examples:
  velox run --json run.json && velox report run.json -o report/
  velox report new.json --baseline main.json --threshold 0.15     exit 1 on a regression (for CI)
  velox run --report report/                                        run, then write the report directly

A run regresses when a figure is worse than the baseline's by more than the
threshold: throughput or transactions per CPU second lower than
baseline x (1 - T); end-to-end p50/p99/p99.9 or p99 incl. bundling higher than
baseline x (1 + T); drops where the baseline had none; or any failed invariant.
On a shared machine latency tails are noisy: compare runs taken side by side."""


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction from 0 up to 1 (0.1 = 10%), got {text}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="velox report", description=textwrap.fill(__doc__.split("\n\n")[0].replace("\n", " ")[18:], 79),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", metavar="FILE", help="velox run --json reports (and bench JSON files)")
    p.add_argument("-o", "--out", default="velox-report", metavar="DIR",
                   help="directory for report.html and summary.md (default: velox-report)")
    p.add_argument("--baseline", metavar="FILE", help="a velox run --json report to compare every run with")
    p.add_argument("--threshold", type=_fraction, default=0.10, metavar="FRACTION",
                   help="how much worse than the baseline a figure may be before it is a regression (default 0.10)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        w = write_report(args.files, args.out, baseline=args.baseline, threshold=args.threshold)
    except ReportError as e:
        print(f"velox report: {e}", file=sys.stderr)
        return 2
    print(f"report: {w.html}")
    print(f"summary: {w.markdown}")
    for c in w.comparisons:
        print(f"{c.run} against {c.baseline}: {c.verdict}")
        for r in c.rows:
            if r.regressed:
                ratio = "n/a" if r.ratio is None else f"{r.ratio:.3f}"
                print(f"  {r.label}: {r.baseline:,.4g} -> {r.value:,.4g} (ratio {ratio})")
        if c.config_differences:
            print(f"  note: configurations differ: {'; '.join(c.config_differences)}")
    return 1 if w.regressed else 0


if __name__ == "__main__":
    sys.exit(main())
