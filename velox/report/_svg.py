"""Plots as inline SVG, drawn in Python: a report that needs no network, no
JavaScript and no plotting library. Two kinds: a line chart (linear or log
axes, one polyline per series) and a horizontal bar chart."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

#: colour-blind-safe palette (Okabe and Ito)
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")

WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 78, 150, 34, 48


@dataclass(frozen=True, kw_only=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]
    dashed: bool = False


@dataclass(frozen=True, kw_only=True)
class Axis:
    label: str
    log: bool = False
    fmt: Callable[[float], str] = field(default=lambda v: f"{v:g}")
    ticks: Sequence[float] | None = None
    """Fixed tick positions (data units); None picks them."""


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _linear_ticks(lo: float, hi: float) -> list[float]:
    step = _nice_step(hi - lo)
    first = math.ceil(lo / step) * step
    n = math.floor((hi - first) / step + 1e-9) + 1
    return [first + i * step for i in range(max(n, 1))]


def _log_ticks(lo: float, hi: float) -> list[float]:
    return [10.0 ** e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
            if lo <= 10.0 ** e <= hi * 1.0001]


class _Scale:
    def __init__(self, lo: float, hi: float, log: bool, a: float, b: float) -> None:
        self.log = log
        if log:
            lo, hi = math.log10(lo), math.log10(hi)
        if hi <= lo:
            hi = lo + 1.0
        self.lo, self.hi, self.a, self.b = lo, hi, a, b

    def __call__(self, v: float) -> float:
        if self.log:
            v = math.log10(v)
        return self.a + (v - self.lo) / (self.hi - self.lo) * (self.b - self.a)


def _range(values: list[float], log: bool, zero: bool) -> tuple[float, float]:
    if log:
        pos = [v for v in values if v > 0]
        lo, hi = (min(pos), max(pos)) if pos else (1.0, 10.0)
        return 10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi) + 1e-12)
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if zero:
        lo = min(lo, 0.0)
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    step = _nice_step(hi - lo)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step


def line_chart(title: str, series: Sequence[Series], x: Axis, y: Axis, *, plot_id: str) -> str:
    """An SVG line chart; series without points are left out of the legend."""
    series = [s for s in series if s.points]
    xs = [p[0] for s in series for p in s.points]
    ys = [p[1] for s in series for p in s.points]
    x_lo, x_hi = _range(xs, x.log, zero=False)
    if not x.log and xs:  # a time axis: from 0 (or the first point) to the last point
        x_lo = 0.0 if min(xs) >= 0 else min(xs)
        x_hi = max(xs) if max(xs) > x_lo else x_lo + 1
    y_lo, y_hi = _range(ys, y.log, zero=True)
    sx = _Scale(x_lo, x_hi, x.log, LEFT, WIDTH - RIGHT)
    sy = _Scale(y_lo, y_hi, y.log, HEIGHT - BOTTOM, TOP)
    out = [_open(plot_id, title)]
    out.append(f'<text class="title" x="{LEFT}" y="20">{escape(title)}</text>')
    xt = x.ticks if x.ticks is not None else (_log_ticks(x_lo, x_hi) if x.log else _linear_ticks(x_lo, x_hi))
    yt = _log_ticks(y_lo, y_hi) if y.log else _linear_ticks(y_lo, y_hi)
    for t in xt:
        px = sx(t)
        out.append(f'<line class="grid" x1="{px:.1f}" y1="{TOP}" x2="{px:.1f}" y2="{HEIGHT - BOTTOM}"/>')
        out.append(f'<text class="tick" x="{px:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
                   f"{escape(x.fmt(t))}</text>")
    for t in yt:
        py = sy(t)
        out.append(f'<line class="grid" x1="{LEFT}" y1="{py:.1f}" x2="{WIDTH - RIGHT}" y2="{py:.1f}"/>')
        out.append(f'<text class="tick" x="{LEFT - 6}" y="{py + 4:.1f}" text-anchor="end">{escape(y.fmt(t))}</text>')
    out.append(f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
               f'height="{HEIGHT - TOP - BOTTOM}"/>')
    out.append(f'<text class="label" x="{(LEFT + WIDTH - RIGHT) / 2:.0f}" y="{HEIGHT - 10}" '
               f'text-anchor="middle">{escape(x.label)}</text>')
    out.append(f'<text class="label" transform="translate(16 {(TOP + HEIGHT - BOTTOM) / 2:.0f}) rotate(-90)" '
               f'text-anchor="middle">{escape(y.label)}</text>')
    if not series:
        out.append(f'<text class="empty" x="{(LEFT + WIDTH - RIGHT) / 2:.0f}" y="{HEIGHT / 2:.0f}" '
                   'text-anchor="middle">no data</text>')
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        pts = " ".join(f"{sx(px):.1f},{sy(max(py, y_lo) if y.log else py):.1f}"
                       for px, py in s.points if not (x.log and px <= 0))
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        out.append(f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2"{dash} points="{pts}">'
                   f"<title>{escape(s.name)}</title></polyline>")
        if len(s.points) == 1:
            px, py = s.points[0]
            out.append(f'<circle cx="{sx(px):.1f}" cy="{sy(py):.1f}" r="3" fill="{colour}"/>')
        ly = TOP + 14 + 18 * i
        out.append(f'<line x1="{WIDTH - RIGHT + 12}" y1="{ly - 4}" x2="{WIDTH - RIGHT + 32}" y2="{ly - 4}" '
                   f'stroke="{colour}" stroke-width="2"{dash}/>')
        out.append(f'<text class="legend" x="{WIDTH - RIGHT + 38}" y="{ly}">{escape(s.name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def bar_chart(title: str, bars: Sequence[tuple[str, float]], *, plot_id: str,
              fmt: Callable[[float], str] = lambda v: f"{v:,.0f}") -> str:
    """Horizontal bars, one per (label, value)."""
    height = TOP + 30 * max(len(bars), 1) + 20
    top = max((v for _, v in bars), default=0) or 1.0
    out = [_open(plot_id, title, height=height),
           f'<text class="title" x="{LEFT}" y="20">{escape(title)}</text>']
    inner = WIDTH - LEFT - RIGHT
    for i, (label, value) in enumerate(bars):
        y = TOP + 30 * i
        w = max(inner * value / top, 1.0 if value > 0 else 0.0)
        out.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>')
        out.append(f'<rect class="bar" x="{LEFT}" y="{y}" width="{w:.1f}" height="20" '
                   f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(label)}: {escape(fmt(value))}</title></rect>')
        out.append(f'<text class="tick" x="{LEFT + w + 6:.1f}" y="{y + 15}">{escape(fmt(value))}</text>')
    out.append(f'<line class="axis" x1="{LEFT}" y1="{TOP - 4}" x2="{LEFT}" y2="{TOP + 30 * max(len(bars), 1)}"/>')
    out.append("</svg>")
    return "\n".join(out)


def _open(plot_id: str, title: str, *, height: int = HEIGHT) -> str:
    return (f'<svg class="plot" id="{escape(plot_id)}" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
            f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">')
