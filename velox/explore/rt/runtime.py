"""The low-level runtime: the operations every front end lands in.

Two front ends share this one mechanism: the Python classes in ``_api.py``
(``Atomic``, ``Cell``, ``spawn``...) and the hooks of the C core's model build
(``-DVX_MODEL``: ``vx_model_load`` and friends, bound through cffi). Each function
acts on the execution the calling thread belongs to. Locations are identified by
any hashable key (the C address as an int, or the Python object) and call sites by
a string such as ``"vx_ring.c:123"`` or a ``(filename, line)`` tuple; orders may be
names or C numbers. Values are Python ints for C, any value for Python tests.

Every function must be called from a thread of a running exploration (the thread
running the test, or one it spawned); outside one they raise ``RuntimeError``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import orders as _orders
from . import spin_state
from .execution import Execution
from .threads import current_thread


def current_execution(what: str) -> Execution:
    """The execution the calling thread belongs to (a clear error outside an exploration)."""
    return current_thread(what).exe


def rt_init(key: Any, value: Any, name: str | None = None, site: Any = None) -> None:
    """Declare an atomic location with its initial value (an initial write by this thread)."""
    t = current_thread("rt_init")
    t.exe.declare(t, key, value, name, site, is_cell=False)


def rt_cell_init(key: Any, value: Any = None, name: str | None = None, site: Any = None) -> None:
    """Declare a plain location with its initial value (a non-atomic write by this thread)."""
    t = current_thread("rt_cell_init")
    t.exe.declare(t, key, value, name, site, is_cell=True)


def rt_load(key: Any, order: Any, site: Any = None) -> Any:
    """Atomic load: returns the value of the store the explorer lets it read."""
    t = current_thread("rt_load")
    return t.exe.op_load(key, _orders.check_load(order), site, t)


def rt_store(key: Any, value: Any, order: Any, site: Any = None) -> None:
    """Atomic store."""
    t = current_thread("rt_store")
    t.exe.op_store(key, value, _orders.check_store(order), site, t)


def rt_rmw(key: Any, fn: Callable[[Any], Any], order: Any, site: Any = None, op: str = "rmw") -> Any:
    """Atomic read-modify-write: stores ``fn(old)`` and returns ``old``."""
    t = current_thread("rt_rmw")
    return t.exe.op_rmw(key, fn, _orders.check_rmw(order, op), site, op, t)


def rt_cas(key: Any, expected: Any, desired: Any, weak: bool, success: Any, failure: Any,
           site: Any = None) -> tuple[bool, Any]:
    """Compare-exchange: returns (succeeded, value read). A weak one may fail spuriously."""
    s, f = _orders.check_cas(success, failure)
    t = current_thread("rt_cas")
    return t.exe.op_cas(key, expected, desired, bool(weak), s, f, site, t)


def rt_fence(order: Any, site: Any = None) -> None:
    """Thread fence."""
    current_execution("rt_fence").op_fence(_orders.check_fence(order), site)


def rt_spin(site: Any = None, op: str = "spin", state: Any = spin_state.NOT_GIVEN) -> None:
    """A spin-loop iteration ends here: block until the values read since the last write can change.

    ``state``: the thread's own state at the hint, when the front end captures it itself (C code,
    whose frames ``spin_state.snapshot`` cannot see); ``spin_state.UNKNOWN`` when it cannot.
    """
    current_execution("rt_spin").op_spin(site, op, state)


spin_state.skip_frames(rt_spin.__code__, rt_cas.__code__)


def rt_cell(key: Any, is_write: bool, site: Any = None, value: Any = None, name: str | None = None,
            mask: int = -1) -> Any:
    """A plain (non-atomic) access, checked for data races.

    For a location declared with ``rt_cell_init`` (Python cells) a write stores ``value`` and a read
    returns the value of the store it reads from; for C memory (never declared) the value lives with
    the caller and a read returns None. ``name`` names what this access touches (a C expression);
    ``mask`` the bytes of the location it touches: two accesses conflict only if their masks overlap.
    """
    return current_execution("rt_cell").op_cell(key, bool(is_write), site, value, name, mask)


def rt_identify(identity: str) -> None:
    """Record that this execution runs code of the build ``identity`` (replay tokens carry it)."""
    current_execution("rt_identify").identities.add(identity)


def rt_choose(n: int, site: Any = None) -> int:
    """A nondeterministic choice in range(n), explored exhaustively (e.g. a virtual clock)."""
    return current_execution("rt_choose").op_choose(n, site)


def rt_spawn(fn: Callable[..., Any], args: tuple[Any, ...] = (), site: Any = None) -> Any:
    """Start a model thread running ``fn(*args)``; returns a handle whose join() returns its result."""
    return current_execution("rt_spawn").op_spawn(fn, tuple(args), site)
