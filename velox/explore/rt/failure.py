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


def user_traceback(exc: BaseException) -> str:
    """The traceback of an exception raised in a test thread, without the explorer's own frames.

    The first frame (the model thread's entry point) and every frame that sets
    ``__tracebackhide__`` (pytest's convention, used by velox's pytest plugin)
    are left out, so the report starts at the test's code.
    """
    import traceback

    frames = [(f, line) for f, line in traceback.walk_tb(exc.__traceback__)][1:]
    shown = [(f, line) for f, line in frames if not f.f_locals.get("__tracebackhide__", False)]
    stack = traceback.StackSummary.extract(iter(shown))
    lines = ["Traceback (most recent call last):\n", *stack.format(), *traceback.format_exception_only(exc)]
    return "".join(lines).rstrip()


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
