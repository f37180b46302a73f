"""Build a mutant of velox's production extension and import it beside the real one.

API (for the stateful gate, the stress suite and the explorer alike):

``build_core_mutant(name) -> module``
    Copies the sources of ``velox/_native/`` (``*.c *.h *.pxd *.pyx *.pxi``),
    applies the catalogue's edits for ``name`` (``catalogue.MUTANTS``), and
    builds the Cython production extension from the copy exactly as setup.py
    does: the C core with ``_build_config.c_flags(strict=True)`` (``-O2 -Wall
    -Wextra -Werror``), Cython's C with ``c_flags(strict=False)``, linked with
    ``link_flags()``. The module is imported under a distinct name
    (``velox_mutant_<name>._vxm_core``), so it never shadows
    ``velox._native._core``; it exposes the same classes (``SpscRing``,
    ``OrderBook``, ``BundleBuilder``, ``Transaction``, ...).

``build_core_mutant(None)`` builds the unmutated copy the same way (a control:
the builder itself must not change behaviour).

``build_mutant_so(name) -> Path`` builds without importing (for a subprocess
or a stress driver that loads the file itself); ``prebuild(names, jobs=2)``
builds several in parallel worker processes.

``mutant_sources(name) -> dict[str, str]``
    The mutated sources, file name -> text, without building (for a model
    build, a sanitizer build, or reading the diff).

Cache: ``$VELOX_MUTANT_CACHE``, else ``~/.cache/velox/mutants``. Builds are
keyed by a hash of the (mutated) sources, the flags and the Python/Cython
versions, at three levels: Cython's translation of ``_core.pyx`` compiled
(keyed by the binding files and headers: 15-30 s cold), each C file's object
(keyed by that file and the headers), and the linked extension. A mutant that
edits one ``.c`` file costs one C compile and a link (a few seconds). Concurrent builders of the same key (pytest-xdist
workers, other engineers) wait on a lock file instead of racing.

Mutants can corrupt memory (``ring_mask_off_by_one`` writes past the slots):
run machines against them in a child process (``run_isolated``).
"""

from __future__ import annotations

import contextlib
import faulthandler
import fcntl
import hashlib
import importlib.util
import multiprocessing
import os
import shutil
import sys
import sysconfig
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from .catalogue import MUTANTS, apply_edits

_NATIVE = Path(__file__).resolve().parents[2] / "velox" / "_native"
_SOURCE_SUFFIXES = (".c", ".h", ".pxd", ".pyx", ".pxi")
_MODULE = "_vxm_core"  # the compiled module's own name (PyInit__vxm_core)
_DIRECTIVES = {"language_level": "3", "boundscheck": False, "wraparound": False}


def cache_dir() -> Path:
    """Where built mutants live."""
    return Path(os.environ.get("VELOX_MUTANT_CACHE") or Path.home() / ".cache" / "velox" / "mutants")


def _build_config() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_velox_build_config_for_mutants", _NATIVE / "_build_config.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def shipping_sources() -> dict[str, str]:
    """The current sources of the production extension (file name -> text):
    the C files of ``CORE_SOURCES``, every header and every Cython file of
    velox/_native/. Other C files (model build, benchmarks) are left out, so
    editing them does not invalidate cached mutants."""
    core = set(_build_config().CORE_SOURCES)
    return {p.name: p.read_text() for p in sorted(_NATIVE.iterdir())
            if p.suffix in _SOURCE_SUFFIXES and p.name != "_core.c" and not p.name.startswith("_model")
            and (p.suffix != ".c" or p.name in core)}


def mutant_sources(name: str | None) -> dict[str, str]:
    """The sources with mutant ``name``'s edits applied (None: unmutated)."""
    if name is not None and name not in MUTANTS:
        raise KeyError(f"no mutant {name!r}; known: {', '.join(MUTANTS)}")
    src = shipping_sources()
    return src if name is None else apply_edits(MUTANTS[name], src)


def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(repr(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:20]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _compiler() -> Any:
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler

    cc = new_compiler()
    customize_compiler(cc)
    return cc


def _binding_object(src: dict[str, str], cfg: ModuleType, key: str, log: Callable[[str], None]) -> Path:
    """Cython's translation of _core.pyx for these sources, compiled (cached)."""
    out = cache_dir() / "binding" / key / f"{_MODULE}.o"
    if out.exists():
        return out
    with _locked(out.parent.with_suffix(".lock")):
        if out.exists():
            return out
        from Cython.Build import cythonize
        from setuptools import Extension

        log("cythonizing and compiling the binding (10-20 s)")
        with tempfile.TemporaryDirectory(prefix="vxm-binding-") as tmp:
            root = Path(tmp)
            native = _write_tree(root, src)
            pyx = root / f"{_MODULE}.pyx"
            pyx.write_text(src["_core.pyx"])
            for name, text in src.items():  # include "x.pxi" resolves beside the .pyx
                if name.endswith(".pxi"):
                    (root / name).write_text(text)
            ext = Extension(_MODULE, [str(pyx)])
            cythonize([ext], include_path=[str(root)], compiler_directives=_DIRECTIVES, quiet=True, force=True)
            cc = _compiler()
            objs = cc.compile([str(root / f"{_MODULE}.c")], output_dir=str(root / "obj"),
                              include_dirs=[str(native), sysconfig.get_paths()["include"]],
                              extra_postargs=cfg.c_flags(strict=False) + ["-fPIC"])
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(objs[0], str(out) + ".tmp")
            os.replace(str(out) + ".tmp", out)
    return out


def _write_tree(root: Path, src: dict[str, str]) -> Path:
    """Lay the sources out as velox/_native/ under root (for cimports)."""
    native = root / "velox" / "_native"
    native.mkdir(parents=True)
    (root / "velox" / "__init__.py").write_text("")
    (native / "__init__.py").write_text("")
    for name, text in src.items():
        (native / name).write_text(text)
    return native


def _so_suffix() -> str:
    return sysconfig.get_config_var("EXT_SUFFIX") or ".so"


def _core_objects(src: dict[str, str], cfg: ModuleType, env: tuple, say: Callable[[str], None]) -> list[Path]:
    """Objects of the C core for these sources, each cached by its own file,
    every header and the flags: a mutant recompiles only the file it edits."""
    headers = sorted((k, v) for k, v in src.items() if k.endswith(".h"))
    flags = cfg.c_flags(strict=True) + ["-fPIC"]
    objs = []
    for name in cfg.CORE_SOURCES:
        obj = cache_dir() / "obj" / _digest(name, src[name], headers, flags, env) / (name[:-2] + ".o")
        if not obj.exists():
            with _locked(obj.parent.with_suffix(".lock")):
                if not obj.exists():
                    say(f"compiling {name}")
                    with tempfile.TemporaryDirectory(prefix="vxm-c-") as tmp:
                        native = _write_tree(Path(tmp), src)
                        built = _compiler().compile([str(native / name)], output_dir=str(Path(tmp) / "obj"),
                                                    include_dirs=[str(native)], extra_postargs=flags)
                        obj.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy(built[0], str(obj) + ".tmp")
                        os.replace(str(obj) + ".tmp", obj)
        objs.append(obj)
    return objs


def build_mutant_so(name: str | None, *, log: Callable[[str], None] | None = None) -> Path:
    """Build (or find in the cache) mutant ``name``'s extension file without
    importing it; returns its path. ``name=None`` builds the unmutated sources."""
    say = log or (lambda msg: print(f"[mutant {name}] {msg}", file=sys.stderr, flush=True))
    src = mutant_sources(name)
    cfg = _build_config()
    import Cython

    env = (sys.version, Cython.__version__, _so_suffix())
    binding_files = {k: v for k, v in src.items() if not k.endswith(".c")}
    binding_key = _digest(sorted(binding_files.items()), cfg.c_flags(strict=False), env)
    core_key = _digest(sorted(src.items()), cfg.c_flags(strict=True), cfg.link_flags(), env, cfg.CORE_SOURCES)
    so = cache_dir() / "so" / core_key / f"{_MODULE}{_so_suffix()}"
    if so.exists():
        return so
    binding = _binding_object(src, cfg, binding_key, say)
    objs = _core_objects(src, cfg, env, say)
    with _locked(so.parent.with_suffix(".lock")):
        if not so.exists():
            say(f"linking {so.name}")
            with tempfile.TemporaryDirectory(prefix="vxm-link-") as tmp:
                tmp_so = Path(tmp) / so.name
                _compiler().link_shared_object([str(binding)] + [str(o) for o in objs], str(tmp_so),
                                               extra_postargs=cfg.link_flags())
                so.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(tmp_so, str(so) + ".tmp")
                os.replace(str(so) + ".tmp", so)
    return so


def prebuild(names: list[str | None], jobs: int = 2) -> None:
    """Build several mutants at once, in ``jobs`` forked processes (the
    compilers run in parallel; imports stay in the caller). Mutants sharing a
    binding wait for one another on its lock instead of compiling it twice."""
    if jobs <= 1 or len(names) <= 1:
        for n in names:
            build_mutant_so(n)
        return
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs) as pool:
        pool.map(build_mutant_so, names, chunksize=1)


def build_core_mutant(name: str | None, *, log: Callable[[str], None] | None = None) -> ModuleType:
    """Build (or reuse from the cache) mutant ``name`` and import it under a
    distinct module name. ``name=None`` builds the unmutated sources."""
    fullname = f"velox_mutant_{name or 'none'}.{_MODULE}"
    if fullname in sys.modules:
        return sys.modules[fullname]
    so = build_mutant_so(name, log=log)
    spec = importlib.util.spec_from_file_location(fullname, so)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[fullname] = module
    spec.loader.exec_module(module)
    return module


def _limit_memory(extra_bytes: int) -> None:
    """Cap this process's address space at its current size plus extra_bytes,
    so a mutant that corrupts the heap fails fast instead of eating the
    machine's memory (which other test runs share)."""
    import resource

    with open("/proc/self/statm") as f:
        current = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (current + extra_bytes, resource.RLIM_INFINITY))


def run_isolated(fn: Callable[[], Any], timeout: float = 180.0, memory_bytes: int = 2 << 30) -> dict[str, Any]:
    """Run ``fn()`` in a forked child so a mutant that corrupts memory cannot
    take the test process down. The child gets ``memory_bytes`` more address
    space than it starts with and ``timeout`` seconds. Returns ``{"ok": True,
    "value": ...}``, ``{"ok": False, "error": "<type>: <message>",
    "traceback": ...}`` when fn raised, or ``{"ok": False, "error": "crashed:
    exit code N"}`` when the child died or was killed at the timeout (a signal
    is a negative code), with the child's fault dump (faulthandler: where it
    crashed, or where it was when the timeout came) as ``"traceback"``. The
    dump goes to the result and never to the run's stderr, so a mutant that is
    meant to crash leaves nothing alarming in a passing run's output."""
    ctx = multiprocessing.get_context("fork")
    reader, writer = ctx.Pipe(duplex=False)
    dump = tempfile.TemporaryFile()

    def child() -> None:
        # Replaces the parent's faulthandler target (pytest points it at the terminal's stderr).
        faulthandler.enable(file=dump, all_threads=True)
        faulthandler.dump_traceback_later(max(timeout - 0.25, timeout / 2), file=dump)
        try:
            if os.path.exists("/proc/self/statm"):
                _limit_memory(memory_bytes)
            result: dict[str, Any] = {"ok": True, "value": fn()}
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        writer.send(result)
        writer.close()
        os._exit(0)

    proc = ctx.Process(target=child)
    proc.start()
    writer.close()
    result = None
    timed_out = not reader.poll(timeout)
    if timed_out:
        proc.kill()
    else:
        try:
            result = reader.recv()
        except EOFError:  # the child died before answering
            pass
    proc.join(timeout=5)
    if proc.is_alive():  # answered but did not exit: do not leave it behind
        proc.kill()
        proc.join()
    dump.seek(0)
    fault = dump.read().decode(errors="replace").strip()
    dump.close()
    if result is None:
        why = f"no answer within {timeout:.0f} s, killed" if timed_out else "died"
        crashed: dict[str, Any] = {"ok": False, "error": f"crashed: {why} (exit code {proc.exitcode})"}
        if fault:
            crashed["traceback"] = fault
        return crashed
    return result
