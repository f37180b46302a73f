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

#: The Python side of the hooks (vx_model_hooks.c calls them; see vx_model_rt.h),
#: and the C functions of the runtime that Python calls.
HOOKS_CDEF = """
extern "Python+C" void vx_py_init(void *addr, uint64_t value, int is_signed, const char *name,
                                  const char *file, int line);
extern "Python+C" uint64_t vx_py_load(void *addr, int order, const char *file, int line);
extern "Python+C" void vx_py_store(void *addr, uint64_t value, int order, const char *file, int line);
extern "Python+C" uint64_t vx_py_rmw(void *addr, int kind, uint64_t operand, int order,
                                    const char *file, int line);
extern "Python+C" int vx_py_cas(void *addr, uint64_t *expected, uint64_t desired, int weak, int succ,
                                int fail, const char *file, int line);
extern "Python+C" void vx_py_fence(int order, const char *file, int line);
extern "Python+C" void vx_py_spin(const char *file, int line, const void *state, size_t size);
extern "Python+C" void vx_py_cell(void *addr, size_t size, int is_write, const char *expr, const char *file,
                                  int line);
extern "Python+C" uint64_t vx_py_clock(void);
extern "Python+C" void vx_py_plain(void *addr, size_t size, int is_write, void *pc);
extern "Python+C" uint64_t vx_py_atomic(int op, void *addr, int size, uint64_t operand, uint64_t *expected,
                                       int order, int failure_order, void *pc);
extern "Python+C" void vx_py_unsupported(const char *what, void *pc);
void vx_model_abort(void);
typedef struct vx_tsan_site { uintptr_t pc; const char *file; int64_t line; int64_t col; } vx_tsan_site;
size_t vx_tsan_sites(const vx_tsan_site **first);
"""

#: The runtime's C sources, compiled into every model build without instrumentation.
RUNTIME_SOURCES = list(_vxb.source_set("model-runtime"))
#: The thread-sanitizer entry points, added to instrumented builds.
TSAN_RUNTIME_SOURCES = list(_vxb.source_set("model-tsan-runtime"))


class CdefError(ValueError):
    """A cdef the entry trampolines cannot wrap (a variadic function)."""


def cdef_functions(cdef: str) -> list[tuple[str, object]]:
    """The functions a cdef declares, as (name, cffi function type), in order."""
    ffi = FFI()
    ffi.cdef(cdef)
    out = []
    for key, (tp, _quals) in ffi._parser._declarations.items():  # cffi's parsed declarations
        if key.startswith("function "):
            out.append((key[len("function "):], tp))
    return out


def entry_trampolines(cdef: str) -> str:
    """C source wrapping every function of ``cdef`` in an entry trampoline.

    Python calls the trampoline (a macro renames the function for the code cffi
    generates); it sets a jump buffer, calls the real function and returns its
    result. When the explorer ends the execution inside a hook, the hook's C
    caller jumps back here (vx_model_rt.h) and the trampoline returns a zeroed
    value; Python then raises the explorer's verdict. No Python frame is ever
    jumped over.
    """
    parts = ['#include "vx_model_rt.h"', "#include <string.h>"]
    for name, tp in cdef_functions(cdef):
        if tp.ellipsis:
            raise CdefError(f"cdef function {name}() is variadic: velox cannot wrap it in an entry trampoline; "
                            "declare a fixed-argument wrapper in C and put that in the cdef")
        params = ", ".join(a.get_c_name(f" x{i}") for i, a in enumerate(tp.args)) or "void"
        call = f"{name}({', '.join(f'x{i}' for i in range(len(tp.args)))})"
        proto = tp.result.get_c_name(f" vx_entry_{name}({params})")
        is_void = tp.result.get_c_name("") == "void"
        parts.append(f"static {proto} {{")
        parts.append("    jmp_buf jb;")
        parts.append("    jmp_buf *previous = vx_model_enter(&jb); /* set before setjmp: kept by longjmp */")
        parts.append("    if (setjmp(jb) == 0) {")
        if is_void:
            parts.append(f"        {call};")
            parts.append("        vx_model_leave(previous);")
            parts.append("        return;")
            parts.append("    }")
            parts.append("    vx_model_leave(previous);")
        else:
            parts.append(f"        {tp.result.get_c_name(' result')} = {call};")
            parts.append("        vx_model_leave(previous);")
            parts.append("        return result;")
            parts.append("    }")
            parts.append("    vx_model_leave(previous);")
            parts.append("    {")
            parts.append(f"        {tp.result.get_c_name(' zero')};")
            parts.append("        memset(&zero, 0, sizeof zero);")
            parts.append("        return zero;")
            parts.append("    }")
        parts.append("}")
        parts.append(f"#undef {name}")
        parts.append(f"#define {name} vx_entry_{name}")
    return "\n".join(parts) + "\n"


#: Sources of the model build of velox's own core (the clock is the explorer's).
MODEL_SOURCES = list(_vxb.source_set("model"))

#: The C prelude of the model build of velox's own core.
MODEL_PRELUDE = ('#include "vx_ring.h"\n#include "vx_mpmc.h"\n#include "vx_book.h"\n#include "vx_bundle.h"\n'
                 '#include "vx_tsc.h"\n')


def model_cflags() -> list[str]:
    """The model profile's flags (without -DVX_MODEL, which cffi passes as a macro)."""
    return [f for f in _vxb.profile("model").cflags if not f.startswith("-DVX_MODEL")]


def make_ffibuilder(module_name: str, *, cdef: str, source: str, sources: list[str],
                    include_dirs: list[str], defines: dict[str, str] | None = None,
                    extra_cflags: list[str] | None = None) -> FFI:
    """An FFI builder for C code under the explorer (not instrumented: the C
    marks its plain shared accesses with VX_CELL_*): ``cdef`` declares what
    Python calls, ``source`` is the C prelude (#includes), ``sources`` the C
    files compiled with -DVX_MODEL beside the runtime; ``defines`` more -D flags.
    Every cdef'd function is called through an entry trampoline."""
    ffi = FFI()
    ffi.cdef(HOOKS_CDEF)
    ffi.cdef(cdef)
    rel = os.path.relpath(HERE)
    ffi.set_source(
        module_name,
        source + "\n" + entry_trampolines(cdef),
        sources=sources + [os.path.join(rel, s) for s in RUNTIME_SOURCES],
        include_dirs=[HERE, *include_dirs],
        define_macros=[("VX_MODEL", "1"), *sorted((defines or {}).items())],
        extra_compile_args=model_cflags() + list(extra_cflags or []),
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
