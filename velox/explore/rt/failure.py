"""What went wrong in a failing execution, and how sites and orders are displayed."""

from __future__ import annotations

from typing import Any

from .orders import NAMES


class Failure:
    """What went wrong in a failing execution."""

    __slots__ = ("exc", "kind", "message", "stamps", "tid")

    def __init__(self, kind: str, message: str, tid: int | None = None, stamps: tuple[int, ...] = (),
                 exc: BaseException | None = None) -> None:
        self.exc = exc  # the exception, for usage errors that check() re-raises
        self.kind = kind  # "assertion", "exception", "data race", "deadlock", "livelock", "step bound", ...
        self.message = message
        self.tid = tid
        self.stamps = stamps  # events the failure is about (for the trace table)


def format_site(site: Any) -> str:
    """A call site as ``file:line`` (sites are (filename, line) tuples or strings)."""
    if site is None:
        return "?"
    if isinstance(site, tuple):
        import os

        return f"{os.path.basename(site[0])}:{site[1]}"
    return str(site)


def order_name(order: int) -> str:
    """Display name of an order."""
    return NAMES.get(order, str(order))
