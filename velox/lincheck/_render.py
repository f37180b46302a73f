"""Human-readable reports of a failed check: a per-thread table of the
offending window (as lincheck prints its "Invalid execution results"), the
longest linearization found and why the next operation did not fit."""

from __future__ import annotations

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
