"""Model builds of catalogued mutants: tests/mutants/catalogue.py's edits
applied to a copy of velox/_native/, compiled with -DVX_MODEL through
velox.cmodel.build (cached by content hash, like every model build)."""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for the mutants package

from mutants.build import shipping_sources  # noqa: E402
from mutants.catalogue import MUTANTS, apply_edits  # noqa: E402

from velox import cmodel  # noqa: E402
from velox._native import _model_build as mb  # noqa: E402

_CDEF = (Path(mb.HERE) / "_model_cdef.h").read_text()
_SOURCE = '#include "vx_ring.h"\n#include "vx_mpmc.h"\n#include "vx_book.h"\n#include "vx_bundle.h"\n#include "vx_tsc.h"\n'


def build_model_mutant(name: str) -> Any:
    """velox's core in model mode with mutant ``name`` applied (hooks attached)."""
    src = apply_edits(MUTANTS[name], shipping_sources())
    digest = hashlib.sha256(repr(sorted(src.items())).encode()).hexdigest()[:12]
    root = Path(tempfile.gettempdir()) / "velox-model-mutants" / f"{name}-{digest}"
    root.mkdir(parents=True, exist_ok=True)
    for fn, text in src.items():
        if fn.endswith((".c", ".h")):
            p = root / fn
            if not p.exists() or p.read_text() != text:
                p.write_text(text)
    return cmodel.build(
        f"vxmodel_{name}",
        cdef=_CDEF,
        source=_SOURCE,
        sources=[os.fspath(root / s) for s in mb.MODEL_SOURCES],
        include_dirs=[os.fspath(root)],
    )
