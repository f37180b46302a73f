"""The order book under the checker: the native recorder's windows as
histories of ``velox.models.book`` operations, partitioned by price level.

What is checked (see docs/lincheck.md): ``add``, ``remove`` and ``depth`` on
shared levels from concurrent native threads, each window against the
sequential model from the quiescent snapshot taken before it. A level is an
independent object for these three operations (none reads or writes another
level), so the history of a window splits by (side, level) and each part is
checked alone (P-compositionality). Best prices are not in the recorded
histories: the native best price may lag a concurrent update by design
(vx_book.h), so they are checked at quiescence by the stress driver instead.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from velox.models import book as book_model
from velox.models._step import Raises

from ._history import Operation
from ._model import Model, from_step
from ._render import render_html, render_part
from ._wgl import CheckResult, Verdict, check_operations

#: The recorder's record layout (vx_lc_op of the native history recorder).
LC_OP = struct.Struct("<QQqqqiBBH")
KIND_ADD, KIND_REMOVE, KIND_DEPTH = 0, 1, 2
# velox error codes (vx_txn.h)
_ERRORS = {-1: "ValueError", -2: "ValueError", -3: "ValueError", -4: "ValueError", -5: "Timeout",
           -6: "MemoryError"}


def partition_by_level(ops: Sequence[Operation]) -> list[list[Operation]]:
    """Split a book history into one sub-history per (side, price): each level
    is independent for add/remove/depth (tick_shift 0: a price is a level)."""
    parts: dict[tuple[int, int], list[Operation]] = {}
    for op in ops:
        parts.setdefault((op.input.side, op.input.price), []).append(op)
    return [parts[k] for k in sorted(parts)]


def book_model_from(state: book_model.State) -> Model:
    """The checker's Model for the order book, starting from ``state``."""
    return from_step(book_model, state, partition=partition_by_level)


def _output(status: int, result: int, kind: int) -> Any:
    if status != 0:
        return Raises(error=_ERRORS.get(status, f"error {status}"))
    return result if kind == KIND_DEPTH else None


def decode_window(raw: bytes, threads: int, per_window: int, window: int) -> list[Operation]:
    """The operations of one recorded window, from the recorder's bytes."""
    ops = []
    n = threads * per_window
    base = window * n * LC_OP.size
    for k in range(n):
        call, ret, price, arg, result, status, kind, side, thread = LC_OP.unpack_from(raw, base + k * LC_OP.size)
        if kind == KIND_ADD:
            inp: Any = book_model.Add(side=side, price=price, qty=arg)
        elif kind == KIND_REMOVE:
            inp = book_model.Remove(side=side, price=price, qty=arg)
        elif kind == KIND_DEPTH:
            inp = book_model.Depth(side=side, price=price)
        else:
            raise ValueError(f"recorded operation {k} of window {window} has unknown kind {kind}")
        ops.append(Operation(client=thread, call=call, ret=ret, input=inp, output=_output(status, result, kind)))
    return ops


def snap_words(levels: int) -> int:
    """int64 words per window snapshot: depths, then best bid and best ask."""
    return 2 * levels + 2


def snapshot_state(snap: Sequence[int], levels: int, base_price: int) -> book_model.State:
    """The model state of a quiescent snapshot ([side][level] depths)."""
    bids = tuple((lv, q) for lv, q in enumerate(snap[:levels]) if q)
    asks = tuple((lv, q) for lv, q in enumerate(snap[levels:2 * levels]) if q)
    return book_model.State(levels=levels, tick_shift=0, base_price=base_price, bids=bids, asks=asks)


@dataclass
class WindowTotals:
    """Running totals of checked windows."""

    windows: int = 0
    operations: int = 0
    parts: int = 0
    violations: int = 0
    unknown: int = 0
    timeouts: int = 0
    #: best bid/ask comparisons made at the quiescent snapshots
    best_checks: int = 0
    first_report: str = ""
    #: The first offending window as a self-contained HTML timeline.
    first_html: str = ""
    reports: list[str] = field(default_factory=list)


def check_windows(ops_raw: bytes, snaps_raw: bytes, *, threads: int, levels: int, per_window: int,
                  base_price: int, totals: WindowTotals | None = None, label: str = "",
                  max_steps: int = 200_000) -> WindowTotals:
    """Check every recorded window; add to ``totals`` (new ones if None)."""
    t = totals if totals is not None else WindowTotals()
    words = snap_words(levels)
    if len(snaps_raw) % (8 * words):
        raise ValueError(f"snapshot bytes ({len(snaps_raw)}) are not whole windows of {words} int64 words")
    n_windows = len(snaps_raw) // (8 * words)
    snaps = struct.unpack(f"<{n_windows * words}q", snaps_raw)
    for w in range(n_windows):
        snap = snaps[w * words:(w + 1) * words]
        init = snapshot_state(snap, levels, base_price)
        # best prices at quiescence (exact by contract; not linearizable while
        # updates run, so they are checked here and not in the histories)
        for name, got, want in (("bid", snap[2 * levels], book_model.best_bid(init)),
                                ("ask", snap[2 * levels + 1], book_model.best_ask(init))):
            t.best_checks += 1
            if got != (-1 if want is None else want):
                t.violations += 1
                msg = (f"{label}window {w}: best {name} at quiescence is {got} (-1: empty), the levels say "
                       f"{want}: {book_model.describe_state(init)}")
                t.first_report = t.first_report or msg
                if len(t.reports) < 5:
                    t.reports.append(msg)
        ops = decode_window(ops_raw, threads, per_window, w)
        model = book_model_from(init)
        res: CheckResult = check_operations(model, ops, max_steps=max_steps)
        t.windows += 1
        t.operations += len(ops)
        t.parts += len(res.parts)
        t.timeouts += sum(1 for op in ops if isinstance(op.output, Raises) and op.output.error == "Timeout")
        if res.verdict is Verdict.OK:
            continue
        if res.verdict is Verdict.UNKNOWN:
            t.unknown += 1
        else:
            t.violations += 1
        bad = res.offending()
        assert bad is not None
        report = render_part(model, bad, init, title=f"{label}window {w}: not linearizable"
                             if res.verdict is Verdict.ILLEGAL else f"{label}window {w}: undecided")
        if not t.first_report:
            t.first_report = report
            t.first_html = render_html(model, bad, init, title=f"{label}window {w}")
        if len(t.reports) < 5:
            t.reports.append(report)
    return t


def record_and_check(recorder: Any, windows: int, totals: WindowTotals | None = None,
                     label: str = "") -> WindowTotals:
    """Record ``windows`` windows with a history recorder (an object with
    ``record(windows) -> (ops, snapshots)`` and ``threads``, ``levels``,
    ``ops_per_window`` and ``base_price``, such as the test suite's native
    ``BookHistoryRecorder``) and check them."""
    ops_raw, snaps_raw = recorder.record(windows)
    return check_windows(ops_raw, snaps_raw, threads=recorder.threads, levels=recorder.levels,
                         per_window=recorder.ops_per_window, base_price=recorder.base_price, totals=totals,
                         label=label)


def read_dump(path: str) -> tuple[bytes, bytes, int, int, int]:
    """Read a history file written by ``stress_main --dump`` (see its header):
    returns (ops, snapshots, threads, levels, per_window)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"VXH1":
        raise ValueError(f"{path}: not a velox history dump (missing VXH1 header)")
    threads, levels, per, windows = struct.unpack_from("<4I", data, 4)
    off = 20
    ops, snaps = bytearray(), bytearray()
    for _ in range(windows):
        snaps += data[off:off + 8 * snap_words(levels)]
        off += 8 * snap_words(levels)
        ops += data[off:off + LC_OP.size * threads * per]
        off += LC_OP.size * threads * per
    return bytes(ops), bytes(snaps), threads, levels, per
