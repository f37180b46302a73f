"""velox.cmodel: C code under the explorer (the model build).

The C sources under ``velox/_native/`` reach shared memory only through
``vx_atomic.h``. Compiled with ``-DVX_MODEL``, its wrappers call hooks
(``vx_model_load``, ``vx_model_store``, ...) instead of ``<stdatomic.h>``; this
module attaches those hooks to ``velox.explore``'s runtime, so the explorer
chooses the schedule and which store every C load reads from while the real C
code runs. Each location is keyed by its C address and named after the C
expression that initialised it; every step records the C ``file:line``.

Two ways in:

* ``core()``: velox's own structures (SPSC ring, order book, bundle builder),
  built by the normal install as ``velox._native._model``;
* ``build(name, cdef=..., source=..., sources=[...])``: your own C structure,
  compiled in model mode into a cached cffi module (see docs/explore-c.md).

Call the C functions only inside an explored test (``velox.explore.check``):
outside one there is no execution for the hooks to report to, and they raise.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import sysconfig
import threading
from types import ModuleType
from typing import Any


def _rt() -> ModuleType:
    # Imported when first used: the runtime is the explorer's, and building a
    # model module should not need it.
    from .rt import runtime as _runtime

    return _runtime

_MASK64 = (1 << 64) - 1
_RMW_FNS = {
    0: lambda v: (lambda old: (old + v) & _MASK64),  # VX_RMW_ADD
    1: lambda v: (lambda old: (old - v) & _MASK64),  # VX_RMW_SUB
    2: lambda v: (lambda old: v),  # VX_RMW_XCHG
    3: lambda v: (lambda old: old | v),  # VX_RMW_OR
    4: lambda v: (lambda old: old & v),  # VX_RMW_AND
}

# vx_model_tsan.c's operation codes for atomics written with <stdatomic.h>.
_AT_LOAD, _AT_STORE, _AT_CAS_STRONG, _AT_CAS_WEAK, _AT_FENCE = 0, 1, 9, 10, 11
_AT_RMW = {
    2: lambda old, v: v,  # exchange
    3: lambda old, v: old + v,
    4: lambda old, v: old - v,
    5: lambda old, v: old & v,
    6: lambda old, v: old | v,
    7: lambda old, v: old ^ v,
    8: lambda old, v: ~(old & v),  # nand
}
# C11's memory_order numbers; consume is treated as acquire, as compilers implement it.
_C11_ORDERS = {0: 0, 1: 2, 2: 2, 3: 3, 4: 4, 5: 5}

_attached: set[int] = set()
_attach_lock = threading.Lock()


class VirtualClock:
    """The model build's clock. Each read of the clock in C may see time stand
    still or jump ahead by ``step`` (the explorer explores both), so timeout
    logic is explored deterministically. Reset it at the start of each test
    body: the test re-runs from scratch for every execution."""

    def __init__(self, step: int = 1_000_000, start: int = 1_000):
        self.step = step
        self.start = start
        self.now = start

    def reset(self, *, step: int | None = None, start: int | None = None) -> None:
        if step is not None:
            self.step = step
        if start is not None:
            self.start = start
        self.now = self.start

    def read(self) -> int:
        if _rt().rt_choose(2):
            self.now += self.step
        return self.now


#: The clock behind ``vx_tsc_now()`` / ``vx_model_clock()`` in model builds.
clock = VirtualClock()


def _site(ffi: Any, cache: dict, file: Any, line: int) -> str:
    key = (int(ffi.cast("uintptr_t", file)), line)
    s = cache.get(key)
    if s is None:
        path = ffi.string(file).decode(errors="replace")
        s = f"{os.path.basename(path)}:{line}"
        cache[key] = s
    return s


_pending = threading.local()


class _ExecutionState:
    """What the C front end keeps per execution: stable names for C addresses."""

    __slots__ = ("atomic_bytes", "atomics", "cells", "plain")

    def __init__(self) -> None:
        self.atomics: dict[int, tuple[str, int]] = {}  # address -> key of an atomic location
        self.atomic_bytes: dict[int, int] = {}  # 8-byte word -> mask of the bytes atomic locations hold
        self.cells: dict[int, tuple[str, int]] = {}  # address -> key of a VX_CELL_* annotated location
        self.plain: dict[int, tuple[str, int]] = {}  # 8-byte word -> key of a plain location (instrumented)


def _state(rt: ModuleType) -> _ExecutionState:
    """This execution's C front-end state (kept on the execution, so it goes with it)."""
    exe = rt.current_execution("a C model hook")
    st = exe.c_state
    if st is None:
        st = exe.c_state = _ExecutionState()
    return st


def _stable_key(rt: ModuleType, address: int, size: int = 8, st: _ExecutionState | None = None) -> tuple[str, int]:
    """("c", n): the n-th distinct C atomic address this execution touched.

    Locations are named by their order of first appearance in the execution, not by raw
    address: the test re-runs from scratch for every execution and malloc need not hand
    out the same addresses each time, while the explorer matches locations across re-runs.
    """
    if st is None:
        st = _state(rt)
    k = st.atomics.get(address)
    if k is None:
        k = st.atomics[address] = ("c", len(st.atomics))
        for b in range(address, address + size):  # its bytes: plain accesses to them are not data accesses
            word = b - b % _WORD
            st.atomic_bytes[word] = st.atomic_bytes.get(word, 0) | (1 << (b - word))
    return k


def _guard(default: Any, lib: Any):
    """Run a hook body; if it raises (an explorer verdict, or the explorer
    abandoning this execution), remember the exception for this thread, tell
    the C runtime to unwind (``vx_model_abort``) and return ``default``. The
    hook's C caller then jumps back to the entry trampoline of the C function
    Python called, which returns, and the exception is raised again in Python
    (see ``GuardedLib``): no jump ever crosses a Python frame, and C loops
    that wait for something end with the execution."""

    def wrap(fn):
        def hook(*args):
            if getattr(_pending, "exc", None) is not None:
                lib.vx_model_abort()
                return default
            try:
                return fn(*args)
            except BaseException as e:  # noqa: BLE001 - re-raised by GuardedLib
                _pending.exc = e
                lib.vx_model_abort()
                return default

        hook.__name__ = fn.__name__
        return hook

    return wrap


def raise_pending() -> None:
    """Raise the exception a hook caught in this thread, if any."""
    exc = getattr(_pending, "exc", None)
    if exc is not None:
        _pending.exc = None
        raise exc


class GuardedLib:
    """``module.lib`` with every function call followed by ``raise_pending()``."""

    def __init__(self, lib: Any, identity: str | None = None):
        self._lib = lib
        self._identity = identity

    def __getattr__(self, name: str) -> Any:
        f = getattr(self._lib, name)
        if not callable(f):
            return f
        call = _guarded_call(f, name, self._identity)
        setattr(self, name, call)
        return call


def _guarded_call(f: Any, name: str, identity: str | None) -> Any:
    from .rt.threads import _tls

    def call(*args):
        t = getattr(_tls, "thread", None)
        if identity is not None:
            if t is not None:
                t.exe.identities.add(identity)  # rt_identify, without its checks: inside an execution
            else:
                _identify(identity)
        _pending.exc = None
        if t is not None:
            t.in_c += 1  # C frames of this thread are on its OS thread's stack (Scheduling.run_nested)
        try:
            return f(*args)
        finally:
            if t is not None:
                t.in_c -= 1
            raise_pending()

    call.__name__ = name
    return call


#: The code of every guarded call: the Python frame that entered C, seen from a hook.
_CALL_CODE = _guarded_call(None, "", None).__code__


def _identify(identity: str) -> None:
    rt = _rt()
    try:
        rt.rt_identify(identity)
    except RuntimeError:
        pass  # outside an exploration: the first hook says so


def _stateless_for_spin_loops() -> None:
    # A GuardedLib only caches wrappers of C functions: no state a spin loop could change.
    from .rt import spin_state

    spin_state.register_identity(GuardedLib)


_stateless_for_spin_loops()


class ModelModule:
    """A model-build module: ``.lib`` (guarded C functions), ``.ffi`` (types),
    ``.identity`` (the module name and the hash of everything that built it:
    replay tokens record it, so a token is refused by another build)."""

    def __init__(self, module: ModuleType, identity: str | None = None):
        self.module = module
        self.ffi = module.ffi
        self.identity = identity or getattr(module, "__velox_identity__", None) or module.__name__
        self.lib = GuardedLib(module.lib, self.identity)


_WORD = 8


class _Sites:
    """The instrumented access sites of one module: return address -> (file:line, C expression)."""

    def __init__(self, ffi: Any, lib: Any):
        self._ffi = ffi
        first = ffi.new("vx_tsan_site **")
        n = lib.vx_tsan_sites(first)
        self.by_pc: dict[int, tuple[Any, str]] = {}
        self.raw: dict[int, tuple[str, int, int]] = {}
        for i in range(n):
            e = first[0][i]
            self.raw[int(e.pc)] = (ffi.string(e.file).decode(errors="replace"), int(e.line), int(e.col))

    def atomic_object(self, pc: Any) -> str | None:
        """The C object an atomic call at this site acts on (its first argument)."""
        from ._csites import atomic_object

        raw = self.raw.get(int(self._ffi.cast("uintptr_t", pc)))
        return atomic_object(*raw) if raw is not None else None

    def get(self, pc: int) -> tuple[Any, str]:
        hit = self.by_pc.get(pc)
        if hit is None:
            from ._csites import describe

            raw = self.raw.get(pc)
            hit = describe(*raw) if raw is not None else ("?", f"C memory (code at {pc:#x})")
            self.by_pc[pc] = hit
        return hit


def attach(module: ModuleType) -> ModelModule:
    """Attach the explorer hooks to a compiled model-build module (idempotent)."""
    ffi = module.ffi
    lib = module.lib
    rt = _rt()
    from .rt import orders as _orders
    from .rt.threads import _tls

    with _attach_lock:
        if id(ffi) in _attached:
            return ModelModule(module)
        sites: dict = {}
        plain_sites = _Sites(ffi, lib)

        def addr(p: Any) -> Any:
            return _stable_key(rt, int(ffi.cast("uintptr_t", p)))

        def atomic(p: Any, what: str, site: str) -> Any:
            # The key of an atomic that vx_init declared in this execution (else a usage error).
            key = _state(rt).atomics.get(int(ffi.cast("uintptr_t", p)))
            if key is not None:
                return key
            from .rt.orders import UsageError

            raise UsageError(
                f"velox.cmodel: {what} at {site} on an atomic that was never initialised in this execution: "
                "initialise every vx_atomic_u64/vx_atomic_i64 with vx_init before its first use (and create "
                "the structure inside the test body: each execution starts from scratch)")

        @ffi.def_extern(name="vx_py_init")
        @_guard(None, lib)
        def _init(p, value, is_signed, name, file, line):
            key = addr(p)
            label = f"{ffi.string(name).decode()}#{key[1]}"
            rt.rt_init(key, int(value), name=label, site=_site(ffi, sites, file, line))

        @ffi.def_extern(name="vx_py_load")
        @_guard(0, lib)
        def _load(p, order, file, line):
            site = _site(ffi, sites, file, line)
            # The common case straight to the execution (a declared atomic, a valid order); anything
            # else takes the checked path, which raises the clear error.
            t = getattr(_tls, "thread", None)
            o = _orders._LOAD_NUMS.get(order)
            if t is not None and o is not None:
                st = t.exe.c_state
                key = None if st is None else st.atomics.get(int(ffi.cast("uintptr_t", p)))
                if key is not None:
                    return t.exe.op_load(key, o, site, t) & _MASK64
            return rt.rt_load(atomic(p, "vx_load", site), order, site) & _MASK64

        @ffi.def_extern(name="vx_py_store")
        @_guard(None, lib)
        def _store(p, value, order, file, line):
            site = _site(ffi, sites, file, line)
            t = getattr(_tls, "thread", None)  # the common case straight to the execution, as in _load
            o = _orders._STORE_NUMS.get(order)
            if t is not None and o is not None:
                st = t.exe.c_state
                key = None if st is None else st.atomics.get(int(ffi.cast("uintptr_t", p)))
                if key is not None:
                    t.exe.op_store(key, int(value), o, site, t)
                    return
            rt.rt_store(atomic(p, "vx_store", site), int(value), order, site)

        @ffi.def_extern(name="vx_py_rmw")
        @_guard(0, lib)
        def _rmw(p, kind, operand, order, file, line):
            site = _site(ffi, sites, file, line)
            return rt.rt_rmw(atomic(p, "a read-modify-write", site), _RMW_FNS[kind](int(operand)), order, site) & _MASK64

        @ffi.def_extern(name="vx_py_cas")
        @_guard(1, lib)
        def _cas(p, expected, desired, weak, succ, fail, file, line):
            site = _site(ffi, sites, file, line)
            t = getattr(_tls, "thread", None)  # the common case straight to the execution, as in _load
            s, f = _orders._RMW_NUMS.get(succ), _orders._LOAD_NUMS.get(fail)
            st = None if t is None else t.exe.c_state
            key = None if st is None else st.atomics.get(int(ffi.cast("uintptr_t", p)))
            if key is not None and s is not None and f is not None:
                ok, old = t.exe.op_cas(key, int(expected[0]), int(desired), bool(weak), s, f, site, t)
            else:
                ok, old = rt.rt_cas(atomic(p, "a compare-exchange", site), int(expected[0]), int(desired),
                                    bool(weak), succ, fail, site)
            if not ok:
                expected[0] = old & _MASK64
            return 1 if ok else 0

        @ffi.def_extern(name="vx_py_fence")
        @_guard(None, lib)
        def _fence(order, file, line):
            rt.rt_fence(order, _site(ffi, sites, file, line))

        @ffi.def_extern(name="vx_py_spin")
        @_guard(None, lib)
        def _spin(file, line, state, size):
            # The thread's state at a hint in C: the Python frames above the C call, and the bytes of
            # the C frames (vx_model_hooks.c); unknown when either cannot be captured.
            from .rt import spin_state

            full = spin_state.UNKNOWN
            caller = sys._getframe(2)  # 0: this hook, 1: its guard, 2: the Python frame that called C
            if size and caller.f_code is _CALL_CODE:
                py = spin_state.snapshot(frame=caller, stable=rt.current_execution("vx_spin_hint").stable_id)
                if py is not spin_state.UNKNOWN:
                    full = (py, bytes(ffi.buffer(ffi.cast("char *", state), size)))
            rt.rt_spin(_site(ffi, sites, file, line), "spin", full)

        @ffi.def_extern(name="vx_py_cell")
        @_guard(None, lib)
        def _cell(p, size, is_write, expr, file, line):
            # VX_CELL_READ(&m->a, ...) passes "&m->a": the location is what the pointer points at
            text = " ".join(ffi.string(expr).decode(errors="replace").split())
            name = text[1:].strip() if text.startswith("&") else f"*({text})"
            cells = _state(rt).cells
            a = int(ffi.cast("uintptr_t", p))
            key = cells.get(a)
            if key is None:
                key = cells[a] = ("a", len(cells))
            rt.rt_cell(key, bool(is_write), _site(ffi, sites, file, line), name=name)

        @ffi.def_extern(name="vx_py_plain")
        @_guard(None, lib)
        def _plain(p, size, is_write, pc):
            # A plain access the compiler's instrumentation reported: split into 8-byte words,
            # each a plain location (named by the C expression of its first access); the
            # access's bytes within the word decide whether two accesses conflict.
            st = _state(rt)
            start = int(ffi.cast("uintptr_t", p))
            site, expr = plain_sites.get(int(ffi.cast("uintptr_t", pc)))
            end = start + int(size)
            word = start - start % _WORD
            while word < end:
                lo, hi = max(start, word) - word, min(end, word + _WORD) - word
                # bytes of atomic locations are left to the atomic operations that model them
                mask = (((1 << hi) - 1) ^ ((1 << lo) - 1)) & ~st.atomic_bytes.get(word, 0)
                if mask:
                    key = st.plain.get(word)
                    if key is None:
                        key = st.plain[word] = ("p", len(st.plain))
                    rt.rt_cell(key, bool(is_write), site, name=expr, mask=mask)
                word += _WORD

        @ffi.def_extern(name="vx_py_atomic")
        @_guard(0, lib)
        def _atomic(op, p, size, operand, expected, order, failure_order, pc):
            # An atomic operation written with <stdatomic.h> / __atomic builtins (instrumented builds).
            site, _expr = plain_sites.get(int(ffi.cast("uintptr_t", pc)))
            order = _C11_ORDERS.get(order, order)
            failure_order = _C11_ORDERS.get(failure_order, failure_order)
            if op == _AT_FENCE:
                rt.rt_fence(order, site)
                return 0
            a = int(ffi.cast("uintptr_t", p))
            mask = (1 << (8 * size)) - 1
            st = _state(rt)
            key = st.atomics.get(a)
            if key is None:  # first use: the location starts with the value in memory
                key = _stable_key(rt, a, size)
                initial = int.from_bytes(ffi.buffer(ffi.cast("char *", p), size)[:], sys.byteorder)
                rt.rt_init(key, initial, name=f"{plain_sites.atomic_object(pc) or 'atomic@' + site}#{key[1]}",
                           site=site)
            operand = int(operand) & mask
            if op == _AT_LOAD:
                return rt.rt_load(key, order, site) & mask
            if op == _AT_STORE:
                rt.rt_store(key, operand, order, site)
                return 0
            if op in (_AT_CAS_STRONG, _AT_CAS_WEAK):
                ok, old = rt.rt_cas(key, int(expected[0]) & mask, operand, op == _AT_CAS_WEAK, order, failure_order,
                                    site)
                if not ok:
                    expected[0] = old & mask
                return 1 if ok else 0
            fn = _AT_RMW[op]
            return rt.rt_rmw(key, lambda old: fn(old, operand) & mask, order, site) & mask

        @ffi.def_extern(name="vx_py_unsupported")
        @_guard(None, lib)
        def _unsupported(what, pc):
            from .rt.orders import UsageError

            site, _expr = plain_sites.get(int(ffi.cast("uintptr_t", pc)))
            raise UsageError(
                f"velox.cmodel: {ffi.string(what).decode()} at {site}: 128-bit atomic operations are not supported "
                "by the explorer (its locations hold 64-bit values)")

        @ffi.def_extern(name="vx_py_clock")
        @_guard(0, lib)
        def _clock():
            return clock.read()

        _attached.add(id(ffi))
    return ModelModule(module)


def core() -> ModelModule:
    """velox's own core in model mode (``velox._native._model``), hooks attached."""
    from .._native import _model

    return attach(_model)


def _cache_dir() -> str:
    """The ``models`` folder of velox's one build cache (``$VELOX_BUILD_CACHE``)."""
    from .._native import _build

    d = os.fspath(_build.cache_dir("models"))
    os.makedirs(d, exist_ok=True)
    return d


def build(name: str, *, cdef: str, source: str, sources: list[str], include_dirs: list[str] | None = None,
          defines: dict[str, str] | None = None, cache_dir: str | None = None, instrument: bool = True,
          verbose: bool = False) -> ModelModule:
    """Compile your own C code in model mode and return the loaded module
    (``.lib`` has your functions, ``.ffi`` the types, ``.identity`` the build).

    ``cdef``: the functions and types Python uses, in cffi's syntax (``...;``
    leaves a struct's layout to the compiler); every function must be declared
    by the prelude. ``source``: the C prelude (your ``#include``s).
    ``sources``: your .c files; reach atomics through ``vx_atomic.h``.
    ``include_dirs``: where your headers are (velox's own are always found).
    ``defines``: extra preprocessor macros, name -> value (``{"PUBLISH":
    "VX_RELAXED"}`` is ``-DPUBLISH=VX_RELAXED``; a value of None is ``-DNAME``),
    for building variants of one source. ``instrument`` (default True):
    compile ``sources`` with the compiler's thread-sanitizer instrumentation,
    so every plain access to shared memory reaches the explorer without
    ``VX_CELL_*`` annotations (docs/explore-c.md). Builds are cached by a hash
    of everything that goes into them (``cache_dir``, default the
    ``models`` folder of ``$VELOX_BUILD_CACHE`` or ``~/.cache/velox/build``). A compile error
    raises ``BuildError`` with gcc's own message.
    """
    from .._native import _model_build as mb
    from .._native import _model_tsan as mt
    from . import _cbuild

    if not name.isidentifier():
        raise ValueError(f"module name must be a Python identifier, got {name!r}")
    include_dirs = list(include_dirs or [])
    defines = dict(defines or {})
    h = hashlib.sha256()
    for part in (name, cdef, source, mb.HOOKS_CDEF, " ".join(mb.model_cflags()), sys.version,
                 repr(sorted(defines.items())), repr(instrument), " ".join(mt.TSAN_CFLAGS)):
        h.update(part.encode())
    own = [os.path.join(mb.HERE, f) for f in ("vx_atomic.h", "vx_model_rt.h", *mb.RUNTIME_SOURCES,
                                               *mb.TSAN_RUNTIME_SOURCES, "_model_tsan.py", "_model_build.py")]
    for path in sources + own:
        try:
            with open(path, "rb") as f:
                h.update(f.read())
        except OSError as exc:
            raise _cbuild.BuildError(f"cmodel.build: cannot read {path}: {exc.strerror}") from None
    # Every file the compiler reads, found by the compiler itself (not guessed from include_dirs).
    for path in _cbuild.files_read(source, sources, include_dirs, defines):
        h.update(path.encode())
        try:
            with open(path, "rb") as f:
                h.update(f.read())
        except OSError:
            h.update(b"<unreadable>")
    digest = h.hexdigest()[:16]
    out = os.path.join(cache_dir or _cache_dir(), f"{name}-{digest}")
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    so = os.path.join(out, name + suffix)
    if not os.path.exists(so):
        so = _cbuild.compile_module(name, cdef=cdef, source=source, sources=sources, include_dirs=include_dirs,
                                    defines=defines, instrument=instrument, out_dir=out, verbose=verbose)
    spec = importlib.util.spec_from_file_location(name, so)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the model build at {so}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.__velox_identity__ = f"{name}-{digest}"
    return attach(module)


def __getattr__(name: str) -> Any:
    if name == "BuildError":
        from ._cbuild import BuildError

        return BuildError
    raise AttributeError(name)
