"""Compiling a user's C code for the explorer (``velox.cmodel.build``).

The steps, each failing with a ``BuildError`` that says what went wrong:

1. every function of the ``cdef`` must be declared by the C prelude (checked on
   the preprocessed prelude, before anything is compiled);
2. the user's sources are compiled with ``-DVX_MODEL`` and, when instrumented,
   with gcc's thread-sanitizer instrumentation: to assembly, through the site
   pass of ``velox._native._model_tsan``, then to objects (gcc's own messages
   on any error);
3. the runtime (``vx_model_hooks.c``, and ``vx_model_tsan.c`` when
   instrumented) is compiled without instrumentation;
4. cffi's module source (the prelude, the entry trampolines of every cdef'd
   function, the bindings) is compiled without instrumentation and everything
   is linked into one extension module.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile

from cffi import FFI

from .._native import _model_build as mb
from .._native import _model_tsan as mt


class BuildError(RuntimeError):
    """cmodel.build could not build the module; the message says why (with gcc's output)."""


def compiler() -> list[str]:
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "gcc"
    return shlex.split(cc)[:1] or ["gcc"]


def _run(cmd: list[str], what: str, cwd: str | None = None) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    except FileNotFoundError:
        raise BuildError(f"cmodel.build: cannot run the C compiler {cmd[0]!r} (install gcc, or set CC)") from None
    if proc.returncode != 0:
        raise BuildError(f"cmodel.build: {what} failed:\n{proc.stderr.rstrip()}\n(command: {shlex.join(cmd)})")
    return proc.stdout


def _macro_flags(defines: dict[str, str]) -> list[str]:
    return ["-DVX_MODEL=1"] + [f"-D{k}={v}" if v is not None else f"-D{k}" for k, v in sorted(defines.items())]


def files_read(source: str, sources: list[str], include_dirs: list[str], defines: dict[str, str]) -> list[str]:
    """Every non-system file the compiler reads for the prelude and each source (``gcc -MM``), so the
    build's cache key covers headers wherever they are (a subfolder of include_dirs, beside a source).

    Sources the preprocessor cannot read (a missing header) add nothing here: the build that follows
    fails with gcc's own message, and a failed build is never cached."""
    flags = ["-MM", "-std=gnu11", *_macro_flags(defines), *(f"-I{d}" for d in include_dirs), f"-I{mb.HERE}"]
    found: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="velox-deps-") as work:
        prelude = os.path.join(work, "prelude.c")
        with open(prelude, "w") as f:
            f.write(source + "\n")
        for path in (prelude, *sources):
            try:
                proc = subprocess.run(compiler() + [*flags, path], capture_output=True, text=True)
            except FileNotFoundError:
                return sorted(found)
            if proc.returncode != 0:
                continue
            # "target.o: dep dep \\\n dep ...": every word after the target, continuations dropped.
            words = proc.stdout.replace("\\\n", " ").split()
            found.update(os.path.abspath(w) for w in words[1:] if w != prelude)
    return sorted(found)


def check_cdef_declared(cdef: str, source: str, include_dirs: list[str], defines: dict[str, str],
                        workdir: str) -> None:
    """Raise BuildError naming every cdef function the prelude does not declare."""
    try:
        names = [name for name, _tp in mb.cdef_functions(cdef)]
    except Exception as exc:  # noqa: BLE001 - cffi's parse errors say what is wrong
        raise BuildError(f"cmodel.build: cannot parse the cdef: {exc}") from None
    prelude = os.path.join(workdir, "prelude.c")
    with open(prelude, "w") as f:
        f.write(source + "\n")
    text = _run(compiler() + ["-E", "-dD", "-std=gnu11", *_macro_flags(defines),
                              *(f"-I{d}" for d in include_dirs), f"-I{mb.HERE}", prelude],
                "preprocessing the C prelude (source=...)")
    missing = [n for n in names
               if not re.search(rf"\b{re.escape(n)}\s*\(", text) and not re.search(rf"#define\s+{re.escape(n)}\b", text)]
    if missing:
        headers = ", ".join(re.findall(r'#\s*include\s*["<]([^">]+)[">]', source)) or repr(source)
        raise BuildError(
            f"cmodel.build: the cdef declares {', '.join(f'{n}()' for n in missing)}, but the C prelude "
            f"(source=..., which includes {headers}) does not declare "
            f"{'it' if len(missing) == 1 else 'them'}: add the declaration to the header, or fix the name in the cdef")


def _compile_user_source(src: str, obj: str, include_dirs: list[str], defines: dict[str, str],
                         instrument: bool) -> int:
    """Compile one user source to ``obj``; returns the number of instrumented sites."""
    flags = [*mb.model_cflags(), *_macro_flags(defines), *(f"-I{d}" for d in include_dirs), f"-I{mb.HERE}"]
    if not instrument:
        _run(compiler() + [*flags, "-fPIC", "-c", src, "-o", obj], f"compiling {src}")
        return 0
    asm = obj[:-2] + ".s"
    _run(compiler() + [*flags, *mt.TSAN_CFLAGS, "-S", src, "-o", asm], f"compiling {src}")
    with open(asm) as f:
        text, sites = mt.rewrite(f.read(), os.getcwd())
    with open(asm, "w") as f:
        f.write(text)
    _run(compiler() + ["-c", asm, "-o", obj], f"assembling the instrumented {src}")
    return sites


def compile_module(name: str, *, cdef: str, source: str, sources: list[str], include_dirs: list[str],
                   defines: dict[str, str], instrument: bool, out_dir: str, verbose: bool = False) -> str:
    """Build the extension module into ``out_dir``; returns the path of the shared object."""
    sources = [os.path.abspath(s) for s in sources]
    include_dirs = [os.path.abspath(d) for d in include_dirs]
    for s in sources:
        if not os.path.isfile(s):
            raise BuildError(f"cmodel.build: source file {s} does not exist")
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix=f".{name}-", dir=parent)
    try:
        check_cdef_declared(cdef, source, include_dirs, defines, work)
        try:
            trampolines = mb.entry_trampolines(cdef)
        except mb.CdefError as exc:
            raise BuildError(f"cmodel.build: {exc}") from None
        objects = []
        for i, src in enumerate(sources):
            obj = os.path.join(work, f"u{i}_{os.path.splitext(os.path.basename(src))[0]}.o")
            _compile_user_source(src, obj, include_dirs, defines, instrument)
            objects.append(obj)
        runtime = mb.RUNTIME_SOURCES + (mb.TSAN_RUNTIME_SOURCES if instrument else [])
        for rs in runtime:
            obj = os.path.join(work, f"rt_{rs[:-2]}.o")
            _run(compiler() + [*mb.model_cflags(), "-DVX_MODEL=1", "-fPIC", f"-I{mb.HERE}", "-c",
                               os.path.join(mb.HERE, rs), "-o", obj], f"compiling velox's {rs}")
            objects.append(obj)
        ffi = FFI()
        ffi.cdef(mb.HOOKS_CDEF)
        ffi.cdef(cdef)
        ffi.set_source(name, source + "\n" + trampolines)
        main_c = os.path.join(work, f"{name}.c")
        with contextlib.redirect_stdout(io.StringIO()):  # cffi announces "generating ..." on stdout
            ffi.emit_c_code(main_c)
        main_o = os.path.join(work, f"{name}.o")
        _run(compiler() + ["-std=gnu11", "-O1", "-fPIC", *_macro_flags(defines),
                           *(f"-I{d}" for d in include_dirs), f"-I{mb.HERE}", f"-I{sysconfig.get_paths()['include']}",
                           "-c", main_c, "-o", main_o], "compiling the cffi module (prelude and cdef)")
        so = os.path.join(work, name + (sysconfig.get_config_var("EXT_SUFFIX") or ".so"))
        _run(compiler() + ["-shared", "-pthread", "-o", so, main_o, *objects], "linking the model module")
        if verbose:
            print(f"cmodel.build: built {name} in {out_dir}", file=sys.stderr)
        try:
            os.replace(work, out_dir)  # atomic: a parallel build of the same hash keeps one copy
        except OSError:
            if not os.path.isdir(out_dir):
                raise
        return os.path.join(out_dir, os.path.basename(so))
    finally:
        if os.path.isdir(work):
            shutil.rmtree(work, ignore_errors=True)
