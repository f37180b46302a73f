"""Human-readable reports of a failed check: a per-thread table of the
offending window (as lincheck prints its "Invalid execution results"), the
longest linearization found and why the next operation did not fit."""

from __future__ import annotations

import html
from typing import Any

from ._model import Model
from ._wgl import PartResult, Verdict


def render_part(model: Model, part: PartResult, init_state: Any = None, title: str = "") -> str:
    """A text report of one checked partition (normally the offending one)."""
    ops = part.operations
    lines = []
    if title:
        lines.append(title)
    lines.append(f"verdict: {part.verdict.value} ({len(ops)} operations, {part.steps} search steps)")
    if init_state is not None:
        lines.append(f"initial state: {model.describe_state(init_state)}")
    if not ops:
        return "\n".join(lines)
    t0 = min(op.call for op in ops)
    lines.append("operations by thread (times relative to the first call; [call, return]):")
    for client in sorted({op.client for op in ops}):
        lines.append(f"  thread {client}:")
        for i, op in sorted(((i, op) for i, op in enumerate(ops) if op.client == client), key=lambda x: x[1].call):
            mark = " " if i in part.longest else "!"
            lines.append(f"   {mark} #{i:<3} [{op.call - t0:>8}, {op.ret - t0:>8}]  "
                         f"{model.describe_operation(op.input, op.output)}")
    if part.verdict is not Verdict.OK:
        order = ", ".join(f"#{i}" for i in part.longest) or "(none)"
        lines.append(f"longest linearization found: {order}")
        if part.stuck:
            lines.append("operations no order could place after it (marked !): "
                         + ", ".join(f"#{i}" for i in part.stuck))
        if part.reason:
            lines.append(f"model says: {part.reason}")
    return "\n".join(lines)


def render_html(model: Model, part: PartResult, init_state: Any = None, title: str = "") -> str:
    """A self-contained HTML page with a porcupine-style timeline of one
    partition: a lane per thread, a bar per operation from call to return,
    bars outside the longest linearization drawn in red, the linearization
    order numbered on the bars, and the text report below."""
    ops = part.operations
    esc = html.escape
    if not ops:
        return f"<!doctype html><title>{esc(title)}</title><p>empty history</p>"
    t0 = min(op.call for op in ops)
    span = max(max(op.ret for op in ops) - t0, 1)
    clients = sorted({op.client for op in ops})
    lane = {c: i for i, c in enumerate(clients)}
    width, lane_h, left = 1000, 44, 80
    order = {op_id: k + 1 for k, op_id in enumerate(part.longest)}
    bars = []
    for i, op in enumerate(ops):
        x = left + (op.call - t0) / span * (width - left - 10)
        w = max((op.ret - op.call) / span * (width - left - 10), 3)
        y = 10 + lane[op.client] * lane_h
        ok = i in order
        label = model.describe_operation(op.input, op.output)
        tag = f"{order[i]}" if ok else "!"
        bars.append(
            f'<g><title>#{i} [{op.call - t0}, {op.ret - t0}] {esc(label)}</title>'
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{lane_h - 14}" rx="3" '
            f'fill="{"#9ecae1" if ok else "#fb6a4a"}" stroke="#333"/>'
            f'<text x="{x + 3:.1f}" y="{y + 19}" font-size="11">{tag} {esc(label)[:40]}</text></g>')
    lanes = "".join(f'<text x="4" y="{10 + lane[c] * lane_h + 19}" font-size="12">thread {c}</text>'
                    for c in clients)
    height = 20 + len(clients) * lane_h
    text = esc(render_part(model, part, init_state, title))
    return (f"<!doctype html><meta charset='utf-8'><title>{esc(title or 'lincheck')}</title>"
            f"<h3>{esc(title)}</h3><svg width='{width}' height='{height}' "
            f"xmlns='http://www.w3.org/2000/svg'>{lanes}{''.join(bars)}</svg><pre>{text}</pre>")
