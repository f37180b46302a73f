"""cffi build script of the model build, ``velox._native._model``.

The same C sources as the production build, compiled with ``-DVX_MODEL`` so
that every atomic operation, fence, spin hint, plain-slot annotation and clock
read in them calls a ``vx_model_*`` hook; the hooks are cffi ``extern
"Python+C"`` functions that ``velox.cmodel`` attaches to ``velox.explore``'s
runtime. setup.py builds it through ``cffi_modules``; ``velox.cmodel.build``
uses the same pieces to build a user's own C structure.

This file must stay importable without velox itself (setup.py runs it before
anything is compiled).
"""

from __future__ import annotations

import importlib.util
import os
import sys

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))


def _load_build():
    """velox/_native/_build.py, loaded by path (no velox import: setup.py runs
    this file before anything is compiled)."""
    spec = importlib.util.spec_from_file_location("_velox_native_build", os.path.join(HERE, "_build.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


_vxb = _load_build()

#: The hooks vx_atomic.h calls in the model build (see its VX_MODEL branch).
HOOKS_CDEF = """
extern "Python+C" void vx_model_init(void *addr, uint64_t value, int is_signed, const char *name,
                                     const char *file, int line);
extern "Python+C" uint64_t vx_model_load(void *addr, int order, const char *file, int line);
extern "Python+C" void vx_model_store(void *addr, uint64_t value, int order, const char *file, int line);
extern "Python+C" uint64_t vx_model_rmw(void *addr, int kind, uint64_t operand, int order,
                                       const char *file, int line);
extern "Python+C" int vx_model_cas(void *addr, uint64_t *expected, uint64_t desired, int weak, int succ,
                                   int fail, const char *file, int line);
extern "Python+C" void vx_model_fence(int order, const char *file, int line);
extern "Python+C" void vx_model_spin(const char *file, int line);
extern "Python+C" void vx_model_cell(void *addr, size_t size, int is_write, const char *file, int line);
extern "Python+C" uint64_t vx_model_clock(void);
"""

#: Sources of the model build of velox's own core (the clock is the explorer's).
MODEL_SOURCES = list(_vxb.source_set("model"))

#: The C prelude of the model build of velox's own core.
MODEL_PRELUDE = ('#include "vx_ring.h"\n#include "vx_mpmc.h"\n#include "vx_book.h"\n#include "vx_bundle.h"\n'
                 '#include "vx_tsc.h"\n')


def model_cflags() -> list[str]:
    """The model profile's flags (without -DVX_MODEL, which cffi passes as a macro)."""
    return [f for f in _vxb.profile("model").cflags if not f.startswith("-DVX_MODEL")]


def make_ffibuilder(module_name: str, *, cdef: str, source: str, sources: list[str],
                    include_dirs: list[str], defines: dict[str, str] | None = None) -> FFI:
    """An FFI builder for C code under the explorer: ``cdef`` declares what
    Python calls, ``source`` is the C prelude (#includes), ``sources`` the C
    files compiled with -DVX_MODEL beside the hooks; ``defines`` more -D flags."""
    ffi = FFI()
    ffi.cdef(HOOKS_CDEF)
    ffi.cdef(cdef)
    ffi.set_source(
        module_name,
        source,
        sources=sources,
        include_dirs=[HERE, *include_dirs],
        define_macros=[("VX_MODEL", "1"), *sorted((defines or {}).items())],
        extra_compile_args=model_cflags(),
    )
    return ffi


def _core_builder() -> FFI:
    with open(os.path.join(HERE, "_model_cdef.h")) as f:
        cdef = f.read()
    rel = os.path.relpath(HERE)  # setup.py runs from the project root
    return make_ffibuilder(
        "velox._native._model",
        cdef=cdef,
        source=MODEL_PRELUDE,
        sources=[os.path.join(rel, s) for s in MODEL_SOURCES],
        include_dirs=[],
    )


ffibuilder = _core_builder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
