"""Build a mutant of velox's production extension and import it beside the real one.

API (for the stateful gate, the stress suite and the explorer alike):

``build_core_mutant(name) -> module``
    Applies the catalogue's edits for ``name`` (``catalogue.MUTANTS``) to a
    copy of the sources and builds the Cython production extension from it
    exactly as setup.py does, through ``velox/_native/_build.py``: the ``core``
    source set with the ``strict`` profile, Cython's C with the ``binding``
    profile. The module is imported under a distinct name
    (``velox_mutant_<name>._vxm_core``), so it never shadows
    ``velox._native._core``; it exposes the same classes (``SpscRing``,
    ``OrderBook``, ``BundleBuilder``, ``Transaction``, ...).

``build_core_mutant(None)`` builds the unmutated copy the same way (a control:
the builder itself must not change behaviour).

``build_mutant_so(name) -> Path`` builds without importing (for a subprocess
or a stress driver that loads the file itself); ``prebuild(names, jobs=2)``
builds several in parallel worker processes.

``mutant_sources(name) -> dict[str, str]``
    The mutated sources of the production extension, file name -> text,
    without building (for reading the diff).

Everything lands in the one build cache (``velox._native._build.cache_dir()``,
``$VELOX_BUILD_CACHE``): Cython's translation of ``_core.pyx`` (keyed by the
binding files and headers: 15-30 s cold), each C file's object (keyed by its
text, every header and the flags), and the linked extension. A mutant that
edits one ``.c`` file costs one C compile and a link (a few seconds).

Mutants can corrupt memory (``ring_mask_off_by_one`` writes past the slots):
run machines against them in a child process (``run_isolated``).
"""

from __future__ import annotations

import faulthandler
import importlib.util
import multiprocessing
import os
import resource
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from velox._native import _build as vxb

from .catalogue import MUTANTS, apply_edits

_BINDING_SUFFIXES = (".pxd", ".pyx", ".pxi")
_MODULE = "_vxm_core"  # the compiled module's own name (PyInit__vxm_core)
_DIRECTIVES = {"language_level": "3", "boundscheck": False, "wraparound": False}


def cache_dir() -> Path:
    """The build cache built mutants live in (``$VELOX_BUILD_CACHE``, else
    ``~/.cache/velox/build``)."""
    return vxb.cache_dir()


def shipping_sources() -> dict[str, str]:
    """The current sources of the production extension (file name -> text):
    the C files of the ``core`` set, every header and every Cython file of
    velox/_native/. Other C files (benchmark and test drivers) are left out,
    so editing them does not invalidate cached mutants."""
    src = vxb.sources("core")
    for p in sorted(vxb.NATIVE.iterdir()):
        if p.suffix in _BINDING_SUFFIXES:
            src[p.name] = p.read_text()
    return src


def mutant_sources(name: str | None) -> dict[str, str]:
    """The sources with mutant ``name``'s edits applied (None: unmutated)."""
    if name is not None and name not in MUTANTS:
        raise KeyError(f"no mutant {name!r}; known: {', '.join(MUTANTS)}")
    src = shipping_sources()
    return src if name is None else apply_edits(MUTANTS[name], src)


def build_mutant_so(name: str | None, *, log: Callable[[str], None] | None = None) -> Path:
    """Build (or find in the cache) mutant ``name``'s extension file without
    importing it; returns its path. ``name=None`` builds the unmutated sources."""
    say = log or (lambda msg: print(f"[mutant {name}] {msg}", file=sys.stderr, flush=True))
    src = mutant_sources(name)
    binding = {"velox/__init__.py": "", "velox/_native/__init__.py": ""}
    binding |= {f"velox/_native/{k}": v for k, v in src.items() if k.endswith(_BINDING_SUFFIXES)}
    binding[f"{_MODULE}.pyx"] = src["_core.pyx"]
    c_src = {k: v for k, v in src.items() if k.endswith((".c", ".h"))}
    return vxb.build_cython_extension(_MODULE, f"{_MODULE}.pyx", binding=binding, c_src=c_src,
                                      c_names=vxb.SOURCE_SETS["core"], root=vxb.cache_dir(), log=say)


def prebuild(names: list[str | None], jobs: int = 2) -> None:
    """Build several mutants at once, in ``jobs`` forked processes (the
    compilers run in parallel; imports stay in the caller)."""
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
