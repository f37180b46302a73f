"""pytest-benchmark setup for velox's benches, and the per-item summary.

Run with ``python -m pytest benches/ --benchmark-only``. The default ``pytest``
run never sees this folder (its testpaths is ``tests``); here the files are
named ``bench_*.py``, so this conftest collects them.

Python calls of a few tens of nanoseconds cannot be timed one by one (the
timer and the benchmark loop cost as much), so each benchmark times a call
that performs ``items`` operations in a plain ``for`` loop, and the summary
divides the median by ``items``. Every operation is timed with the same loop
as its peer in the same run (``queue.SimpleQueue`` and ``collections.deque``
for the ring, ``time.perf_counter_ns`` for the TSC, ...), so the ratios are
fair even though the absolute figures include the loop's own cost, which the
``loop overhead`` row of each run shows.

At the end the summary table (median ns per item and ratio to the group's
reference peer) is printed, and written as JSON with ``--bench-summary PATH``.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass

import pytest


def pytest_collect_file(file_path, parent):
    # Files named on the command line are collected by pytest itself.
    if parent.session.isinitpath(file_path):
        return None
    if file_path.suffix == ".py" and file_path.name.startswith("bench_"):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


def pytest_addoption(parser):
    parser.addoption("--bench-summary", metavar="PATH", default=None,
                     help="write the per-item summary (medians, ratios to peers) to PATH as JSON")


@dataclass
class PerItem:
    """One benchmark reduced to a figure per item."""

    group: str
    label: str
    items: int
    reference: bool
    median_ns_per_item: float | None = None
    rounds: int | None = None


_RESULTS: list[PerItem] = []


@pytest.fixture
def per_item(benchmark, request):
    """``per_item(fn, items=, label=, reference=False)`` times ``fn`` (which
    performs ``items`` operations) with pytest-benchmark and records the median
    per operation for the summary. The group comes from
    ``@pytest.mark.benchmark(group=...)``."""
    entries: list[PerItem] = []

    def run(fn: Callable[[], object], *, items: int, label: str, reference: bool = False,
            setup: Callable[[], object] | None = None, rounds: int = 30) -> object:
        entry = PerItem(group=benchmark.group or request.node.name, label=label, items=items,
                        reference=reference)
        entries.append(entry)
        benchmark.extra_info.update(items_per_call=items, label=label)
        if setup is None:
            return benchmark(fn)

        # A fresh state before every call (e.g. an empty ring): pedantic mode,
        # one call per round.
        def _setup():
            setup()

        return benchmark.pedantic(fn, setup=_setup, rounds=rounds, iterations=1, warmup_rounds=2)

    yield run
    meta = getattr(benchmark, "stats", None)
    stats = getattr(meta, "stats", None)
    for entry in entries:
        if stats is not None and stats.rounds:
            entry.median_ns_per_item = stats.median * 1e9 / entry.items
            entry.rounds = stats.rounds
        _RESULTS.append(entry)


def _load_note() -> str:
    try:
        one, five, fifteen = os.getloadavg()
        return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"
    except OSError:
        return "load average unknown"


def _summary_rows() -> list[dict]:
    rows = []
    groups = dict.fromkeys(r.group for r in _RESULTS)
    for group in groups:
        members = [r for r in _RESULTS if r.group == group and r.median_ns_per_item is not None]
        ref = next((r for r in members if r.reference), None)
        for r in members:
            ratio = r.median_ns_per_item / ref.median_ns_per_item if ref else None
            rows.append(asdict(r) | {"ratio_to_reference": ratio,
                                     "reference_label": ref.label if ref else None})
    return rows


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    rows = _summary_rows()
    if not rows:
        return
    tr = terminalreporter
    tr.section("velox per-item summary (median ns per item; ratio to the group's reference, same run)")
    tr.write_line(_load_note())
    gw = max(len("group"), *(len(r["group"]) for r in rows))
    lw = max(len("operation"), *(len(r["label"]) + 1 for r in rows))
    tr.write_line(f"{'group':<{gw}} {'operation':<{lw}} {'ns/item':>14} {'ratio':>7}  reference")
    for row in rows:
        ratio = f"{row['ratio_to_reference']:.2f}" if row["ratio_to_reference"] is not None else "-"
        mark = "*" if row["reference"] else ""
        tr.write_line(f"{row['group']:<{gw}} {row['label'] + mark:<{lw}} {row['median_ns_per_item']:14.2f} "
                      f"{ratio:>7}  {row['reference_label'] or '-'}")
    tr.write_line("(* the group's reference; ratio < 1 means faster than the reference)")
    path = config.getoption("--bench-summary", default=None)
    if path:
        with open(path, "w") as f:
            json.dump({"load": _load_note(), "python": platform.python_version(), "rows": rows}, f, indent=2)
        tr.write_line(f"summary written to {path}")
