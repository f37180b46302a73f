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
import weakref
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
}

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
_keys_by_execution: "weakref.WeakKeyDictionary[Any, dict[int, tuple[str, int]]]" = weakref.WeakKeyDictionary()


def _stable_key(rt: ModuleType, address: int) -> tuple[str, int]:
    """("c", n): the n-th distinct C address this execution touched."""
    exe = rt.current_execution("a C model hook")
    keys = _keys_by_execution.get(exe)
    if keys is None:
        keys = _keys_by_execution[exe] = {}
    k = keys.get(address)
    if k is None:
        k = keys[address] = ("c", len(keys))
    return k


def _guard(default: Any):
    """Run a hook body; if it raises (an explorer verdict, or the explorer
    abandoning this execution), remember the exception for this thread and
    return ``default`` to C, chosen so that C loops end (a compare-exchange
    "succeeds", a load reads 0). The exception is raised again as soon as the
    C function returns to Python (see ``GuardedLib``): cffi cannot unwind an
    exception through C frames."""

    def wrap(fn):
        def hook(*args):
            if getattr(_pending, "exc", None) is not None:
                return default
            try:
                return fn(*args)
            except BaseException as e:  # noqa: BLE001 - re-raised by GuardedLib
                _pending.exc = e
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

    def __init__(self, lib: Any):
        self._lib = lib

    def __getattr__(self, name: str) -> Any:
        f = getattr(self._lib, name)
        if not callable(f):
            return f

        def call(*args):
            _pending.exc = None
            try:
                return f(*args)
            finally:
                raise_pending()

        call.__name__ = name
        setattr(self, name, call)
        return call


def _stateless_for_spin_loops() -> None:
    # A GuardedLib only caches wrappers of C functions: no state a spin loop could change.
    from .rt import spin_state

    spin_state.register_identity(GuardedLib)


_stateless_for_spin_loops()


class ModelModule:
    """A model-build module: ``.lib`` (guarded C functions), ``.ffi`` (types)."""

    def __init__(self, module: ModuleType):
        self.module = module
        self.ffi = module.ffi
        self.lib = GuardedLib(module.lib)


def attach(module: ModuleType) -> ModelModule:
    """Attach the explorer hooks to a compiled model-build module (idempotent)."""
    ffi = module.ffi
    rt = _rt()
    with _attach_lock:
        if id(ffi) in _attached:
            return ModelModule(module)
        sites: dict = {}

        def addr(p: Any) -> Any:
            # Locations are named by their order of first appearance in the
            # execution, not by raw address: the test re-runs from scratch for
            # every execution and malloc need not hand out the same addresses
            # each time, while the explorer matches locations across re-runs.
            return _stable_key(rt, int(ffi.cast("uintptr_t", p)))

        @ffi.def_extern(name="vx_model_init")
        @_guard(None)
        def _init(p, value, is_signed, name, file, line):
            key = addr(p)
            label = f"{ffi.string(name).decode()}#{key[1]}"
            rt.rt_init(key, int(value), name=label, site=_site(ffi, sites, file, line))

        @ffi.def_extern(name="vx_model_load")
        @_guard(0)
        def _load(p, order, file, line):
            return rt.rt_load(addr(p), order, _site(ffi, sites, file, line)) & _MASK64

        @ffi.def_extern(name="vx_model_store")
        @_guard(None)
        def _store(p, value, order, file, line):
            rt.rt_store(addr(p), int(value), order, _site(ffi, sites, file, line))

        @ffi.def_extern(name="vx_model_rmw")
        @_guard(0)
        def _rmw(p, kind, operand, order, file, line):
            return rt.rt_rmw(addr(p), _RMW_FNS[kind](int(operand)), order, _site(ffi, sites, file, line)) & _MASK64

        @ffi.def_extern(name="vx_model_cas")
        @_guard(1)
        def _cas(p, expected, desired, weak, succ, fail, file, line):
            ok, old = rt.rt_cas(addr(p), int(expected[0]), int(desired), bool(weak), succ, fail,
                                _site(ffi, sites, file, line))
            if not ok:
                expected[0] = old & _MASK64
            return 1 if ok else 0

        @ffi.def_extern(name="vx_model_fence")
        @_guard(None)
        def _fence(order, file, line):
            rt.rt_fence(order, _site(ffi, sites, file, line))

        @ffi.def_extern(name="vx_model_spin")
        @_guard(None)
        def _spin(file, line):
            rt.rt_spin(_site(ffi, sites, file, line))

        @ffi.def_extern(name="vx_model_cell")
        @_guard(None)
        def _cell(p, size, is_write, file, line):
            rt.rt_cell(addr(p), bool(is_write), _site(ffi, sites, file, line))

        @ffi.def_extern(name="vx_model_clock")
        @_guard(0)
        def _clock():
            return clock.read()

        _attached.add(id(ffi))
    return ModelModule(module)


def core() -> ModelModule:
    """velox's own core in model mode (``velox._native._model``), hooks attached."""
    from .._native import _model

    return attach(_model)


def _cache_dir() -> str:
    d = os.environ.get("VELOX_MODEL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "velox", "models")
    os.makedirs(d, exist_ok=True)
    return d


def build(name: str, *, cdef: str, source: str, sources: list[str], include_dirs: list[str] | None = None,
          defines: dict[str, str] | None = None, cache_dir: str | None = None,
          verbose: bool = False) -> ModelModule:
    """Compile your own C code in model mode and return the loaded cffi module
    (``module.lib`` has your functions, ``module.ffi`` the types).

    ``cdef``: declarations of what Python calls (cffi syntax); ``source``: the
    C prelude (your #includes); ``sources``: your .c files. Include
    ``vx_atomic.h`` in them and reach shared memory only through its wrappers;
    ``defines``: extra ``-D`` macros (name -> value).
    Builds are cached by a hash of everything that goes into them.
    """
    from .._native import _model_build as mb

    if not name.isidentifier():
        raise ValueError(f"module name must be a Python identifier, got {name!r}")
    include_dirs = list(include_dirs or [])
    h = hashlib.sha256()
    defines = dict(defines or {})
    for part in (name, cdef, source, mb.HOOKS_CDEF, " ".join(mb.model_cflags()), sys.version,
                 repr(sorted(defines.items()))):
        h.update(part.encode())
    for path in sources + [os.path.join(mb.HERE, "vx_atomic.h")]:
        with open(path, "rb") as f:
            h.update(f.read())
    for d in include_dirs:
        for fn in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if fn.endswith(".h"):
                with open(os.path.join(d, fn), "rb") as f:
                    h.update(f.read())
    out = os.path.join(cache_dir or _cache_dir(), f"{name}-{h.hexdigest()[:16]}")
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    so = os.path.join(out, name + suffix)
    if not os.path.exists(so):
        os.makedirs(out, exist_ok=True)
        ffi = mb.make_ffibuilder(name, cdef=cdef, source=source,
                                 sources=[os.path.abspath(s) for s in sources],
                                 include_dirs=[os.path.abspath(d) for d in include_dirs],
                                 defines=defines)
        ffi.compile(tmpdir=out, verbose=verbose)
    spec = importlib.util.spec_from_file_location(name, so)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the model build at {so}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return attach(module)
