"""Which runtime modules the build compiles with Cython, and the guard that keeps a stale build out.

The modules named in ``COMPILED`` hold the per-event work of the explorer (the graph, the memory
operations, consistency checks, revisits, scheduling). They are plain Python, and the build also
compiles each of them, unchanged, into an extension module of the same name (``setup.py``), which
runs the same code without the interpreter's dispatch. Python prefers an extension module to a
``.py`` of the same name, so an edit to one of these sources would silently not run after an
editable install. The build therefore writes, beside each extension, the SHA-256 of the source it
was compiled from, and ``install`` puts a finder in front of the import system that loads the
extension only when that digest matches the ``.py`` beside it; otherwise it loads the ``.py`` and
warns (``StaleBuildWarning``), naming the module.

``VELOX_EXPLORE_PURE=1`` loads every one of them from its ``.py`` (for a debugger, a profiler or
coverage, which see only Python frames). Modules that walk Python frames (the thread entry point,
the state capture at spin hints, the front ends that read their caller's ``file:line``) are not in
the list: compiled functions have no frames.

This file imports only the standard library: ``setup.py`` reads ``COMPILED`` and ``DIGEST_SUFFIX``
from it before velox is built.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import sys
import warnings

COMPILED = ("orders", "graph", "plan", "psc", "revisit", "memory", "schedule")
DIGEST_SUFFIX = ".source-sha256"  # appended to the extension's file name


class StaleBuildWarning(RuntimeWarning):
    """A compiled runtime module is older than its source: the source runs instead."""


def source_digest(path: str) -> str:
    """The SHA-256 of a source file, as the build records it."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def pure_requested() -> bool:
    """True when ``VELOX_EXPLORE_PURE`` asks for the pure-Python runtime."""
    return os.environ.get("VELOX_EXPLORE_PURE", "").strip().lower() in ("1", "true", "yes", "on")


class _Finder:
    """Meta-path finder for ``<package>.<m>``, ``m`` in ``COMPILED``: the extension when it is current."""

    def __init__(self, package: str, directory: str) -> None:
        self.package = package
        self.directory = directory
        self.stale: list[str] = []

    def find_spec(self, fullname: str, path: object = None, target: object = None):
        head, _, name = fullname.rpartition(".")
        if head != self.package or name not in COMPILED:
            return None
        source = os.path.join(self.directory, name + ".py")
        if pure_requested():
            return importlib.util.spec_from_file_location(fullname, source)
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            ext = os.path.join(self.directory, name + suffix)
            if os.path.exists(ext):
                break
        else:
            return None  # not built: the default machinery loads the .py
        if os.path.exists(source) and not self._current(ext, source):
            self.stale.append(name)
            warnings.warn(
                f"velox.explore: the compiled runtime module {fullname} was built from an older {name}.py; "
                "running the source instead (slower). Rebuild with `pip install -e .` or "
                "`python setup.py build_ext --inplace`.",
                StaleBuildWarning, stacklevel=2)
            return importlib.util.spec_from_file_location(fullname, source)
        return importlib.util.spec_from_file_location(
            fullname, ext, loader=importlib.machinery.ExtensionFileLoader(fullname, ext))

    @staticmethod
    def _current(ext: str, source: str) -> bool:
        try:
            with open(ext + DIGEST_SUFFIX, encoding="ascii") as f:
                recorded = f.read().strip()
        except OSError:
            return False  # no record of what it was built from: it cannot be shown current
        return recorded == source_digest(source)


def install(package: str, directory: str) -> None:
    """Put the finder for ``package``'s compiled modules first on ``sys.meta_path`` (once)."""
    for finder in sys.meta_path:
        if isinstance(finder, _Finder) and finder.package == package:
            return
    sys.meta_path.insert(0, _Finder(package, directory))


def compiled_modules(package: str = __name__.rpartition(".")[0]) -> tuple[str, ...]:
    """The modules of ``COMPILED`` that this process imported as extension modules."""
    out = []
    for name in COMPILED:
        mod = sys.modules.get(f"{package}.{name}")
        if mod is not None and isinstance(getattr(mod, "__loader__", None), importlib.machinery.ExtensionFileLoader):
            out.append(name)
    return tuple(out)


def stale_modules() -> tuple[str, ...]:
    """The modules this process loaded from source because their extension was older than the source."""
    return tuple(name for finder in sys.meta_path if isinstance(finder, _Finder) for name in finder.stale)
