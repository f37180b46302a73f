"""The native stress drivers and the order-book history recorder, for the
stress suite, the linearizability tests and the benches.

The drivers (tests/support/native/vx_stress_*.c) are test-only C: they never
ship in velox's extension. This module builds them with the structures they
drive (source set "stress" of velox/_native/_build.py, the production flags)
into a test extension, ``velox_testing._stress``, cached by content, and
re-exports its classes. Each ``run``/``record`` call starts POSIX threads with
the GIL released, runs one slice, joins them and returns the slice's counts
as a dict: ``ops``, ``checks``, ``violations``, ``timeouts``, ``waits`` and
``first_violation`` (the first failed check, "" when none).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from velox._native import _build as vxb

_HERE = Path(__file__).resolve().parent
_MODULE = "velox_testing._stress"


def _load() -> ModuleType:
    if _MODULE in sys.modules:
        return sys.modules[_MODULE]
    binding = vxb.binding_files(extra={"_stress.pyx": (_HERE / "_stress.pyx").read_text(),
                                       "vx_stress.pxd": (vxb.TESTING / "vx_stress.pxd").read_text()})
    so = vxb.build_cython_extension(
        _MODULE, "_stress.pyx", binding=binding, c_src=vxb.sources("stress"), c_names=vxb.SOURCE_SETS["stress"],
        log=lambda msg: print(f"[velox_testing._stress] {msg}", file=sys.stderr, flush=True))
    spec = importlib.util.spec_from_file_location(_MODULE, so)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_MODULE] = module
    spec.loader.exec_module(module)
    return module


_ext = _load()

LC_OP_SIZE: int = _ext.LC_OP_SIZE
STRESS_HIST_BASE: int = _ext.STRESS_HIST_BASE
BookHistoryRecorder = _ext.BookHistoryRecorder
StressBook = _ext.StressBook
StressMpmc = _ext.StressMpmc
StressRing = _ext.StressRing

__all__ = ["LC_OP_SIZE", "STRESS_HIST_BASE", "BookHistoryRecorder", "StressBook", "StressMpmc", "StressRing"]
