"""The report as one self-contained HTML page (inline CSS and SVG, no
script, no external resource) and a Markdown summary of the same figures."""

from __future__ import annotations

import datetime as _dt
from html import escape
from typing import Any

from . import _svg
from ._compare import Comparison
from ._inputs import Input

STAGE_SERIES = (("generated", "ingress"), ("book", "order book"), ("bundle", "bundle builder"),
                ("output", "output"))
HIST_LABELS = {"e2e": "end to end", "total": "incl. bundling", "age_at_book": "at book",
               "age_at_bundle": "at builder", "ingress_lag": "ingress lag"}
SPECTRUM_MAX_X = 1e7  # where the maximum sits on the 1/(1-q) axis
PLOTS_PER_RUN = ("throughput", "spectrum", "rings", "flush", "drops")

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1000px;
       color: #1b1b1b; background: #fff; padding: 0 16px; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 19px; margin-top: 32px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin-top: 20px; }
table { border-collapse: collapse; margin: 8px 0 16px; } th, td { padding: 3px 10px; border-bottom: 1px solid #eee;
       text-align: right; } th:first-child, td:first-child { text-align: left; }
.ok { color: #006d2c; font-weight: 600; } .fail { color: #b30000; font-weight: 600; }
.verdict { padding: 10px 14px; border-radius: 6px; margin: 12px 0; font-weight: 600; }
.verdict.ok { background: #e5f5e0; } .verdict.fail { background: #fde0dd; }
.muted { color: #666; } figure { margin: 12px 0 20px; }
svg.plot { background: #fff; display: block; max-width: 100%; height: auto; }
svg .title { font-size: 14px; font-weight: 600; fill: #1b1b1b; }
svg .tick, svg .legend { font-size: 11px; fill: #333; } svg .label { font-size: 12px; fill: #333; }
svg .grid { stroke: #e6e6e6; stroke-width: 1; } svg .frame { fill: none; stroke: #999; }
svg .axis { stroke: #999; } svg .empty { font-size: 14px; fill: #999; }
table.text td, table.text th { text-align: left; }
code { background: #f4f4f4; padding: 1px 4px; border-radius: 3px; }
"""


def _us(ns: float) -> str:
    return f"{ns / 1000:,.2f}"


def _rate(v: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(v) >= scale:
            return f"{v / scale:.3g}{unit}"
    return f"{v:.3g}"


def _pct_label(x: float) -> str:
    if x >= SPECTRUM_MAX_X:
        return "max"
    q = 1 - 1 / x
    return f"{q * 100:.{max(0, len(str(round(x))) - 3)}f}%"


def _lat_fmt(us: float) -> str:
    if us >= 1000:
        return f"{us / 1000:g} ms"
    return f"{us:g} us"


def _rates(samples: list[dict[str, Any]], key: str) -> list[tuple[float, float]]:
    """Per-interval rates at each sample; an interval much shorter than the
    tick (the drain after the last tick) is too short to give a rate and is
    left out."""
    steps = sorted(b["t"] - a["t"] for a, b in zip(samples, samples[1:], strict=False))
    shortest = 0.5 * steps[len(steps) // 2] if steps else 0.0
    out, t0, c0 = [], 0.0, 0
    for s in samples:
        dt = s["t"] - t0
        if dt > 1e-3 and (dt >= shortest or not out):
            out.append((s["t"], (s[key] - c0) / dt))
            t0, c0 = s["t"], s[key]
    return out


def spectrum_points(run: dict[str, Any], hist: str) -> list[tuple[float, float]]:
    """(1/(1-q), latency in us) of a histogram's percentile spectrum."""
    lat = run["latency_ns"].get(hist, {})
    if not lat.get("count"):
        return []
    pairs = run.get("percentiles_ns", {}).get(hist)
    if not pairs:  # an older report: the summary percentiles only
        pairs = [[0.5, lat["p50"]], [0.9, lat["p90"]], [0.99, lat["p99"]], [0.999, lat["p999"]], [1.0, lat["max"]]]
    pts = []
    for q, v in pairs:
        x = SPECTRUM_MAX_X if q >= 1.0 else 1 / (1 - q)
        if v > 0:
            pts.append((x, v / 1000))
    return pts


def run_plots(run: dict[str, Any], idx: int, baseline: dict[str, Any] | None) -> list[str]:
    samples = run.get("samples") or []
    cap = run["config"].get("ring_capacity") or 1
    plots = []
    plots.append(_svg.line_chart(
        "Throughput by stage", [_svg.Series(name=label, points=_rates(samples, key)) for key, label in STAGE_SERIES],
        _svg.Axis(label="seconds since start"), _svg.Axis(label="transactions per second", fmt=_rate),
        plot_id=f"run{idx}-throughput"))
    series = [_svg.Series(name=label, points=spectrum_points(run, h)) for h, label in HIST_LABELS.items()
              if not (h == "ingress_lag" and run["config"].get("saturate"))]
    if baseline is not None:
        series.append(_svg.Series(name="baseline e2e", points=spectrum_points(baseline, "e2e"), dashed=True))
    ticks = [2.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, SPECTRUM_MAX_X]
    plots.append(_svg.line_chart(
        "Latency by percentile (log axes)", series,
        _svg.Axis(label="percentile", log=True, fmt=_pct_label, ticks=ticks),
        _svg.Axis(label="latency", log=True, fmt=_lat_fmt), plot_id=f"run{idx}-spectrum"))
    plots.append(_svg.line_chart(
        "Ring occupancy", [_svg.Series(name=name, points=[(s["t"], 100 * s["rings"][i] / cap) for s in samples])
                           for i, name in enumerate(("ingress -> book", "book -> builder", "builder -> output"))],
        _svg.Axis(label="seconds since start"), _svg.Axis(label="% of capacity"), plot_id=f"run{idx}-rings"))
    b = run["counters"]["bundle"]
    plots.append(_svg.bar_chart("Bundle flushes by reason", [("size (full)", b["size"]),
                                                             ("timeout", b["timeout"]), ("final flush", b["flush"])],
                                plot_id=f"run{idx}-flush"))
    plots.append(_svg.line_chart(
        "Drops and order-book timeouts per second",
        [_svg.Series(name="ingress drops", points=_rates(samples, "dropped")),
         _svg.Series(name="book timeouts", points=_rates(samples, "book_timeouts")
                     if samples and "book_timeouts" in samples[0] else [])],
        _svg.Axis(label="seconds since start"), _svg.Axis(label="per second", fmt=_rate),
        plot_id=f"run{idx}-drops"))
    return plots


def _table(head: list[str], rows: list[list[str]], *, cls: str = "") -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _run_title(inp: Input) -> str:
    c = inp.data["config"]
    load = "saturated" if c.get("saturate") else f"{c.get('rate', 0):,.0f} txn/s"
    return (f"{inp.name}: {load}, {inp.data['elapsed_s']:.2f} s, seed {inp.data.get('seed')}, "
            f"topology {inp.data.get('topology')}, wait {_wait(inp.data)}")


def _wait(run: dict[str, Any]) -> str:
    """The wait strategy a run used ('auto' resolved, when the report says what it resolved to)."""
    asked = run["config"].get("wait")
    used = (run.get("wait") or {}).get("strategy")
    return f"{used} (auto)" if used and asked == "auto" else str(used or asked)


def _machine_rows(m: dict[str, Any], run: dict[str, Any]) -> list[list[str]]:
    def load(v):
        return ", ".join(f"{x:.2f}" for x in v) if v else "?"
    rt = m.get("round_trip_ns")
    return [["CPUs usable / online", f"{m.get('cpus', run.get('cpus', '?'))} / {m.get('cpus_online', '?')}"],
            ["pipeline threads", f"{run.get('threads', '?')} ({'pinned' if run.get('pinned') else 'not pinned'})"],
            ["load average before (1/5/15 min)", load(m.get("loadavg_before"))],
            ["load average after", load(m.get("loadavg_after"))],
            ["core-to-core round trip", f"{rt:.0f} ns" if rt else "not measured"],
            ["system", escape(f"{m.get('system', '?')} {m.get('machine', '')}, Python {m.get('python', '?')}")]]


def _comparison_html(c: Comparison) -> str:
    cls = "fail" if c.regressed else "ok"
    rows = []
    for r in c.rows:
        ratio = "n/a" if r.ratio is None else f"{r.ratio:.3f}"
        fmt = (lambda v: f"{v:.2e}") if r.key == "drop_fraction" else (lambda v: f"{v:,.2f}")
        rows.append([escape(r.label), fmt(r.baseline), fmt(r.value), ratio,
                     "higher" if r.higher_is_better else "lower",
                     '<span class="fail">regressed</span>' if r.regressed else '<span class="ok">ok</span>'])
    diffs = ("<p class='muted'>configurations differ: " + escape("; ".join(c.config_differences)) + "</p>"
             if c.config_differences else "")
    return (f"<h3>{escape(c.run)} against {escape(c.baseline)}</h3>"
            f'<div class="verdict {cls}">{escape(c.verdict)}</div>{diffs}'
            + _table(["metric", "baseline", "this run", "ratio", "better", ""], rows))


def html(inputs: list[Input], comparisons: list[Comparison], baseline: Input | None) -> str:
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<title>velox benchmark report</title>", f"<style>{CSS}</style></head><body>",
             "<h1>velox benchmark report</h1>",
             f"<p class='muted'>generated {now} from {', '.join(escape(i.name) for i in inputs)}"
             + (f"; baseline {escape(baseline.name)}" if baseline else "") + "</p>"]
    if comparisons:
        parts.append("<h2>Against the baseline</h2>")
        parts.extend(_comparison_html(c) for c in comparisons)
    runs = [i for i in inputs if i.kind == "run"]
    for idx, inp in enumerate(runs):
        d = inp.data
        lat = d["latency_ns"]
        parts.append(f"<h2>Run {escape(_run_title(inp))}</h2>")
        verdict = ("<span class='ok'>PASS, every invariant held</span>" if d["ok"]
                   else "<span class='fail'>FAIL</span>")
        parts.append(f"<p>verdict: {verdict}" + (" (interrupted)" if d.get("interrupted") else "") + "</p>")
        ing, out = d["counters"]["ingress"], d["counters"]["output"]
        parts.append(_table(["figure", "value"], [
            ["delivered", f"{out['txns']:,}"], ["dropped at ingress", f"{ing['dropped']:,}"],
            ["throughput end to end", f"{d.get('throughput_txn_per_s', 0):,.0f} txn/s"],
            ["transactions per CPU second", f"{d.get('txn_per_cpu_s', 0):,.0f}"],
            ["order-book timeouts", f"{d['counters']['book']['timeouts']:,}"]]))
        rows = [[escape(HIST_LABELS.get(h, h)), f"{lat[h]['count']:,}", _us(lat[h]["p50"]), _us(lat[h]["p90"]),
                 _us(lat[h]["p99"]), _us(lat[h]["p999"]), _us(lat[h]["max"])]
                for h in HIST_LABELS if h in lat and lat[h]["count"]]
        parts.append(_table(["latency (us)", "count", "p50", "p90", "p99", "p99.9", "max"], rows))
        base = baseline.data if baseline is not None else None
        for svg in run_plots(d, idx, base):
            parts.append(f"<figure>{svg}</figure>")
        parts.append("<h3>Invariants</h3>")
        parts.append(_table(["invariant", "verdict", "detail"], [
            [escape(i["name"]), "<span class='ok'>ok</span>" if i["ok"] else "<span class='fail'>FAIL</span>",
             f"<span class='muted'>{escape(i['detail'])}</span>"] for i in d["invariants"]], cls="text"))
        parts.append("<h3>Machine</h3>")
        parts.append(_table(["", ""], _machine_rows(d.get("machine") or {}, d)))
    for idx, inp in enumerate(i for i in inputs if i.kind == "bench"):
        cases = inp.data["cases"]
        parts.append(f"<h2>Ring benchmark {escape(inp.name)}</h2>")
        bars = [(f"{c['label']} cap {c['capacity']}", c.get("median_mrecords_per_s") or 0.0) for c in cases]
        parts.append("<figure>" + _svg.bar_chart("Median throughput (M records/s)", bars,
                                                 plot_id=f"bench{idx}", fmt=lambda v: f"{v:.1f}") + "</figure>")
        parts.append(_table(["case", "capacity", "median M rec/s", "median round trip ns"], [
            [escape(c["label"]), str(c["capacity"]), f"{c.get('median_mrecords_per_s') or 0:.2f}",
             f"{c.get('median_round_trip_ns') or 0:.0f}"] for c in cases]))
    for idx, inp in enumerate(i for i in inputs if i.kind == "pytest-benchmark"):
        benches = inp.data["benchmarks"]
        parts.append(f"<h2>pytest-benchmark {escape(inp.name)}</h2>")
        bars = [(b.get("name", "?"), b["stats"]["median"] * 1e6) for b in benches]
        parts.append("<figure>" + _svg.bar_chart("Median time per call (us)", bars, plot_id=f"pytest{idx}",
                                                 fmt=lambda v: f"{v:,.2f}") + "</figure>")
        parts.append(_table(["benchmark", "median us", "mean us", "stddev us", "rounds"], [
            [escape(b.get("name", "?")), f"{b['stats']['median'] * 1e6:,.2f}", f"{b['stats']['mean'] * 1e6:,.2f}",
             f"{b['stats']['stddev'] * 1e6:,.2f}", str(b["stats"].get("rounds", "?"))] for b in benches]))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def markdown(inputs: list[Input], comparisons: list[Comparison], baseline: Input | None) -> str:
    lines = ["# velox benchmark report", ""]
    if comparisons:
        lines += ["## Against the baseline", ""]
        for c in comparisons:
            lines += [f"**{c.run}** against **{c.baseline}**: {c.verdict}", ""]
            if c.config_differences:
                lines += ["Configurations differ: " + "; ".join(c.config_differences), ""]
            lines += ["| metric | baseline | this run | ratio | |", "|---|---:|---:|---:|---|"]
            for r in c.rows:
                ratio = "n/a" if r.ratio is None else f"{r.ratio:.3f}"
                fmt = (lambda v: f"{v:.2e}") if r.key == "drop_fraction" else (lambda v: f"{v:,.2f}")
                lines.append(f"| {r.label}{' (' + r.unit + ')' if r.unit else ''} | {fmt(r.baseline)} | "
                             f"{fmt(r.value)} | {ratio} | {'**regressed**' if r.regressed else 'ok'} |")
            lines.append("")
    for inp in (i for i in inputs if i.kind == "run"):
        d = inp.data
        lat = d["latency_ns"]
        lines += [f"## {_run_title(inp)}", "",
                  f"- verdict: {'PASS' if d['ok'] else 'FAIL'}" + (" (interrupted)" if d.get("interrupted") else ""),
                  (f"- delivered {d['counters']['output']['txns']:,}, dropped {d['counters']['ingress']['dropped']:,}, "
                  f"throughput {d.get('throughput_txn_per_s', 0):,.0f} txn/s "
                  f"({d.get('txn_per_cpu_s', 0):,.0f} per CPU second)")]
        m = d.get("machine") or {}
        if m:
            rt = m.get("round_trip_ns")
            lines.append(f"- machine: {m.get('cpus')} CPUs, load {', '.join(f'{x:.2f}' for x in m.get('loadavg_before', []))}"
                         f" before, round trip {f'{rt:.0f} ns' if rt else 'not measured'}")
        lines += ["", "| latency (us) | p50 | p99 | p99.9 | max |", "|---|---:|---:|---:|---:|"]
        for h, label in HIST_LABELS.items():
            if h in lat and lat[h]["count"]:
                lines.append(f"| {label} | {_us(lat[h]['p50'])} | {_us(lat[h]['p99'])} | {_us(lat[h]['p999'])} | "
                             f"{_us(lat[h]['max'])} |")
        lines += ["", "| invariant | |", "|---|---|"]
        lines += [f"| {i['name']} | {'ok' if i['ok'] else '**FAIL**'} |" for i in d["invariants"]]
        lines.append("")
    for inp in (i for i in inputs if i.kind == "bench"):
        lines += [f"## Ring benchmark {inp.name}", "", "| case | capacity | median M rec/s |", "|---|---:|---:|"]
        lines += [f"| {c['label']} | {c['capacity']} | {c.get('median_mrecords_per_s') or 0:.2f} |"
                  for c in inp.data["cases"]]
        lines.append("")
    for inp in (i for i in inputs if i.kind == "pytest-benchmark"):
        lines += [f"## pytest-benchmark {inp.name}", "", "| benchmark | median us |", "|---|---:|"]
        lines += [f"| {b.get('name', '?')} | {b['stats']['median'] * 1e6:,.2f} |" for b in inp.data["benchmarks"]]
        lines.append("")
    return "\n".join(lines)
