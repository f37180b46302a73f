"""The Python front end: std-shaped shims over the runtime (``rt/runtime.py``).

Concurrent algorithms written in Python use these classes the way C code uses
``vx_atomic.h``: every operation becomes a scheduled, recorded event of the
execution being explored, tagged with the caller's ``file:line``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from .rt import runtime as rt
from .rt import spin_state
from .rt.orders import _LOAD_NAMES, _RMW_NAMES, _STORE_NAMES, ACQ_REL, ACQUIRE, RELAXED, RELEASE
from .rt.threads import JoinHandle, _tls

# The common case, an order given by name inside an exploration, goes straight to the execution;
# anything else (outside an exploration, an order given as a number, an invalid order) takes the
# runtime's checked path, which gives the same result or the same error.
_getframe = sys._getframe
_CAS_DEFAULT_FAILURE = {name: {RELEASE: RELAXED, ACQ_REL: ACQUIRE}.get(num, num) for name, num in _RMW_NAMES.items()}


def _site() -> tuple[str, int]:
    f = sys._getframe(2)
    return (f.f_code.co_filename, f.f_lineno)


class Atomic:
    """An atomic memory location. Create it inside the test: each execution needs fresh state."""

    __slots__ = ("name",)

    def __init__(self, initial: Any, *, name: str | None = None) -> None:
        self.name = name
        rt.rt_init(self, initial, name, _site())

    def load(self, order: Any = "seq_cst") -> Any:
        """Atomic load with the given order (relaxed, acquire or seq_cst)."""
        t = getattr(_tls, "thread", None)
        if t is None or type(order) is not str or order not in _LOAD_NAMES:
            return rt.rt_load(self, order, _site())
        f = _getframe(1)
        return t.exe.op_load(self, _LOAD_NAMES[order], (f.f_code.co_filename, f.f_lineno), t)

    def store(self, value: Any, order: Any = "seq_cst") -> None:
        """Atomic store with the given order (relaxed, release or seq_cst)."""
        t = getattr(_tls, "thread", None)
        if t is None or type(order) is not str or order not in _STORE_NAMES:
            rt.rt_store(self, value, order, _site())
            return
        f = _getframe(1)
        t.exe.op_store(self, value, _STORE_NAMES[order], (f.f_code.co_filename, f.f_lineno), t)

    def _rmw(self, fn: Callable[[Any], Any], order: Any, op: str) -> Any:
        t = getattr(_tls, "thread", None)
        f = _getframe(2)
        site = (f.f_code.co_filename, f.f_lineno)
        if t is None or type(order) is not str or order not in _RMW_NAMES:
            return rt.rt_rmw(self, fn, order, site, op)
        return t.exe.op_rmw(self, fn, _RMW_NAMES[order], site, op, t)

    def _cas(self, expected: Any, new: Any, weak: bool, success: Any, failure: Any) -> tuple[bool, Any]:
        t = getattr(_tls, "thread", None)
        f = _getframe(2)
        site = (f.f_code.co_filename, f.f_lineno)
        if t is not None and type(success) is str and success in _RMW_NAMES:
            if failure is None:
                return t.exe.op_cas(self, expected, new, weak, _RMW_NAMES[success], _CAS_DEFAULT_FAILURE[success],
                                    site, t)
            if type(failure) is str and failure in _LOAD_NAMES:
                return t.exe.op_cas(self, expected, new, weak, _RMW_NAMES[success], _LOAD_NAMES[failure], site, t)
        return rt.rt_cas(self, expected, new, weak, success, _default_failure(success, failure), site)

    def fetch_add(self, v: Any, order: Any = "seq_cst") -> Any:
        """Add ``v`` atomically; return the previous value."""
        return self._rmw(lambda old: old + v, order, "fetch_add")

    def fetch_sub(self, v: Any, order: Any = "seq_cst") -> Any:
        """Subtract ``v`` atomically; return the previous value."""
        return self._rmw(lambda old: old - v, order, "fetch_sub")

    def fetch_and(self, v: Any, order: Any = "seq_cst") -> Any:
        """Bitwise-and ``v`` in atomically; return the previous value."""
        return self._rmw(lambda old: old & v, order, "fetch_and")

    def fetch_or(self, v: Any, order: Any = "seq_cst") -> Any:
        """Bitwise-or ``v`` in atomically; return the previous value."""
        return self._rmw(lambda old: old | v, order, "fetch_or")

    def fetch_xor(self, v: Any, order: Any = "seq_cst") -> Any:
        """Bitwise-xor ``v`` in atomically; return the previous value."""
        return self._rmw(lambda old: old ^ v, order, "fetch_xor")

    def exchange(self, v: Any, order: Any = "seq_cst") -> Any:
        """Store ``v`` atomically; return the previous value."""
        return self._rmw(lambda old: v, order, "exchange")

    def compare_exchange_strong(self, expected: Any, new: Any, success: Any = "seq_cst",
                                failure: Any = None) -> tuple[bool, Any]:
        """If the value equals ``expected``, store ``new``. Returns (succeeded, value read)."""
        return self._cas(expected, new, False, success, failure)

    def compare_exchange_weak(self, expected: Any, new: Any, success: Any = "seq_cst",
                              failure: Any = None) -> tuple[bool, Any]:
        """Like compare_exchange_strong, but may fail spuriously (the explorer explores that)."""
        return self._cas(expected, new, True, success, failure)

    def __repr__(self) -> str:
        return f"<Atomic {self.name or hex(id(self))}>"


def _default_failure(success: Any, failure: Any) -> Any:
    """C++'s rule: without a failure order, use the success order minus its release part."""
    if failure is not None:
        return failure
    from .rt.orders import ACQ_REL, ACQUIRE, RELAXED, RELEASE, parse

    s = parse(success, "compare_exchange success order")
    return {RELEASE: RELAXED, ACQ_REL: ACQUIRE}.get(s, s)


class Cell:
    """Plain, non-atomic shared data. Conflicting accesses not ordered by happens-before are a data race."""

    __slots__ = ("name",)

    def __init__(self, initial: Any = None, *, name: str | None = None) -> None:
        self.name = name
        rt.rt_cell_init(self, initial, name, _site())

    def get(self) -> Any:
        """Read the value (a non-atomic read)."""
        return rt.rt_cell(self, False, _site(), None, self.name)

    def set(self, v: Any) -> None:
        """Write the value (a non-atomic write)."""
        rt.rt_cell(self, True, _site(), v, self.name)

    def __repr__(self) -> str:
        return f"<Cell {self.name or hex(id(self))}>"


def spawn(fn: Callable[..., Any], *args: Any) -> JoinHandle:
    """Start a thread running ``fn(*args)``; its handle's ``join()`` returns the result."""
    return rt.rt_spawn(fn, args, _site())


def fence(order: Any = "seq_cst") -> None:
    """A thread fence (atomic_thread_fence)."""
    rt.rt_fence(order, _site())


def spin_hint() -> None:
    """Call in every iteration of a spin loop: the explorer runs other threads first (it changes no outcome).

    An iteration that re-reads exactly the values the previous one read, writes nothing and leaves
    the thread's state (its local variables, loop counters included) unchanged is redundant and is
    not explored again; a loop that gives up after some iterations keeps its give-up path.
    """
    rt.rt_spin(_site(), "spin_hint")


def yield_now() -> None:
    """Like spin_hint(): this thread waits for another thread to make progress."""
    rt.rt_spin(_site(), "yield_now")


spin_state.skip_frames(spin_hint.__code__, yield_now.__code__, Atomic.compare_exchange_weak.__code__,
                       Atomic.compare_exchange_strong.__code__, Atomic._cas.__code__)
spin_state.register_identity(Atomic, Cell)


def choose(n: int) -> int:
    """A nondeterministic choice in range(n), explored exhaustively."""
    return rt.rt_choose(n, _site())
