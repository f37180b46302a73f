"""Model builds of catalogued mutants: the catalogue's edits applied to the
``model`` source set (``velox/_native/_build.py``), compiled with -DVX_MODEL
through ``velox.cmodel.build`` (cached by content, like every model build)."""

from __future__ import annotations

import os
from typing import Any

from velox import cmodel
from velox._native import _build as vxb
from velox._native import _model_build as mb

from .catalogue import MUTANTS, edits_of

_CDEF = (vxb.NATIVE / "_model_cdef.h").read_text()


def build_model_mutant(name: str) -> Any:
    """velox's core in model mode with mutant ``name`` applied (hooks attached)."""
    src = vxb.sources("model", edits=edits_of(name), label=f"mutant {name}")
    if src == vxb.sources("model"):
        raise ValueError(f"mutant {name} edits no file of the model build ({MUTANTS[name].edits[0].file})")
    tree = vxb.source_tree(src)
    return cmodel.build(
        f"vxmodel_{name}",
        cdef=_CDEF,
        source=mb.MODEL_PRELUDE,
        sources=[os.fspath(tree / s) for s in mb.MODEL_SOURCES],
        include_dirs=[os.fspath(tree)],
    )
