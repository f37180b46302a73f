"""Failure reports: the trace table, the failure, and the replay token.

A replay token is the compact encoding of one execution's choices (which thread
performed each event, which store each read read, where each store went in mo,
each ``choose``). ``check(test, replay=token)``, or ``VELOX_EXPLORE_REPLAY=token``
in the environment, re-runs exactly that execution, so a debugger can step through
it (breakpoints in the test work: threads run one at a time).
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

from .rt import graph as g
from .rt.execution import Execution
from .rt.failure import Failure, format_site, order_name

_PREFIX = "vx1."
_KINDS = [g.INIT, g.LOAD, g.STORE, g.RMW, g.CAS, g.FENCE, g.NA_READ, g.NA_WRITE, g.SPAWN, g.JOIN, g.SPIN,
          g.CHOOSE]


class ExplorationFailure(AssertionError):
    """An execution of the test failed. ``str()`` is the trace, the failure and how to replay it."""

    def __init__(self, text: str, *, kind: str, token: str, executions: int, failure_message: str) -> None:
        super().__init__(text)
        self.kind = kind  # "assertion", "exception", "data race", "deadlock", "livelock", ...
        self.token = token
        self.executions = executions  # executions explored up to and including the failing one
        self.failure_message = failure_message


ExplorationFailure.__module__ = "velox.explore"  # its public name, in tracebacks and pytest's reports


def encode_token(model: str, name: str, items: list[tuple[int, Any, Any]], builds: list[str] | None = None) -> str:
    """Pack an execution's choices into a printable token. ``name`` is the test's module and qualified
    name; ``builds`` the identities of the C builds the execution ran (module name and content hash)."""
    packed = [[tid, _pack_choice(choice), _KINDS.index(kind) if kind in _KINDS else -1] for tid, choice, kind in items]
    data: dict[str, Any] = {"m": model, "n": name, "i": packed}
    if builds:
        data["b"] = sorted(builds)
    raw = json.dumps(data, separators=(",", ":")).encode()
    return _PREFIX + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


#: Bounds on what a token may cost to decode: its length, the JSON it inflates
#: to, and how deeply a choice may nest (real choices are flat tuples).
MAX_TOKEN_CHARS = 1 << 20
MAX_TOKEN_JSON = 16 << 20
_MAX_CHOICE_DEPTH = 8


def decode_token(token: str) -> tuple[str, str, list[tuple[int, Any, Any]]]:
    """Unpack a token into (model, test name, items); ValueError on a malformed token."""
    model, name, items, _builds = decode_token_builds(token)
    return model, name, items


def decode_token_builds(token: str) -> tuple[str, str, list[tuple[int, Any, Any]], list[str]]:
    """Unpack a token into (model, test name, items, C build identities); ValueError on a malformed token."""
    if not isinstance(token, str):
        raise TypeError(f"a replay token is a str, got {type(token).__name__}")
    token = token.strip()
    if not token.startswith(_PREFIX):
        raise ValueError(f"not a velox.explore replay token (expected it to start with {_PREFIX!r}): {token[:40]!r}")
    if len(token) > MAX_TOKEN_CHARS:
        raise ValueError(f"velox.explore replay token is {len(token)} characters, longer than the {MAX_TOKEN_CHARS} "
                         "any real execution needs; copy the token from the report")
    body = token[len(_PREFIX):]
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_TOKEN_JSON)
        if inflater.unconsumed_tail:
            raise ValueError(f"it inflates past {MAX_TOKEN_JSON >> 20} MB")
        data = json.loads(raw)
        if not isinstance(data, dict) or not isinstance(data.get("i"), list):
            raise ValueError("not a token document")
        items = []
        for tid, c, k in data["i"]:
            if not isinstance(tid, int) or not isinstance(k, int) or not -1 <= k < len(_KINDS):
                raise ValueError(f"bad item {[tid, c, k]!r:.60}")
            items.append((tid, _unpack_choice(c, 0), _KINDS[k] if k >= 0 else None))
        builds = data.get("b", [])
        if not isinstance(builds, list):
            raise ValueError("bad build list")
        return str(data["m"]), str(data["n"]), items, [str(b) for b in builds]
    except Exception as exc:  # noqa: BLE001 - any decoding problem (RecursionError too) is a bad token
        if "inflates past" in str(exc):
            raise ValueError(f"velox.explore replay token {exc}: not a token velox wrote") from None
        raise ValueError(f"corrupt velox.explore replay token ({type(exc).__name__}: {str(exc)[:80]}); "
                         "copy the whole token from the report") from None


def _pack_choice(c: Any) -> Any:
    if isinstance(c, tuple):
        return [_pack_choice(x) for x in c]
    return c


def _unpack_choice(c: Any, depth: int = 0) -> Any:
    if isinstance(c, list):
        if depth >= _MAX_CHOICE_DEPTH:
            raise ValueError(f"a choice nested deeper than {_MAX_CHOICE_DEPTH}")
        return tuple(_unpack_choice(x, depth + 1) for x in c)
    return c


def describe(e: g.Event, names: dict[int, int] | None = None) -> tuple[str, str, str, str]:
    """(operation, order, value, reads-from) cells of one trace row (``names``: see ``describe_value``)."""
    names = {} if names is None else names

    def v(value: Any) -> str:
        return g.describe_value(value, names)

    order = "" if e.shown_order == -1 or e.kind in (g.SPAWN, g.JOIN, g.SPIN, g.CHOOSE) else order_name(e.shown_order)
    rf = "" if e.rf is None else f"#{e.rf.stamp} (t{e.rf.tid})"
    if e.kind == g.INIT:
        return "init", "", v(e.value), ""
    if e.kind == g.LOAD:
        return "load", order, v(e.value), rf
    if e.kind == g.STORE:
        return "store", order, v(e.value), ""
    if e.kind == g.RMW:
        return e.op, order, f"{v(e.value)} -> {v(e.written)}", rf
    if e.kind == g.CAS:
        if e.is_write:
            return f"{e.op} ok", order, f"{v(e.value)} -> {v(e.written)}", rf
        why = "spurious" if e.spurious else f"expected {v(e.expected)}"
        return f"{e.op} fail", order, f"{v(e.value)} ({why})", rf
    if e.kind == g.FENCE:
        return "fence", order, "", ""
    if e.kind in (g.NA_READ, g.NA_WRITE):
        return e.op, "na", "" if e.value is None else v(e.value), ""
    if e.kind == g.SPAWN:
        return f"spawn t{e.arg}", "", "", ""
    if e.kind == g.JOIN:
        return f"join t{e.arg}", "", "", ""
    if e.kind == g.CHOOSE:
        return "choose", "", v(e.value), ""
    return e.op, "", "", ""


def trace_table(exe: Execution, marked: tuple[int, ...] = ()) -> str:
    """The execution as a table, one row per event in the order the explorer added them."""
    header = ("#", "thread", "operation", "location", "order", "value", "reads-from", "site")
    rows = []
    names: dict[int, int] = {}  # Python objects shown in the table, by first appearance
    for e in exe.events:
        op, order, value, rf = describe(e, names)
        loc = (e.what or e.loc.name) if e.loc is not None else ""
        mark = ">" if e.stamp in marked else " "
        rows.append((f"{mark}{e.stamp}", f"t{e.tid}", op, loc, order, value, rf, format_site(e.site)))
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths)).rstrip()]
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return "\n".join("  " + line for line in lines)


def failure_report(exe: Execution, failure: Failure, token: str, executions: int, header: str) -> str:
    """The whole text of an ExplorationFailure."""
    return (
        f"{header}\n\n"
        f"{trace_table(exe, failure.stamps)}\n\n"
        f"{failure.kind.upper()}: {failure.message}\n\n"
        f"replay token: {token}\n"
        "replay exactly this execution (threads run one at a time, so a debugger can step through it) with\n"
        f"    velox.explore.check(test, replay=\"{token}\")\n"
        f"or by re-running the test with VELOX_EXPLORE_REPLAY={token}"
    )
