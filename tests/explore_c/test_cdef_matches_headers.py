"""The model build's cffi declarations (_model_cdef.h) match the real headers:
same return type and parameter types for every function, so the model build
cannot silently call a function with a stale signature."""

from __future__ import annotations

import re
from pathlib import Path

NATIVE = Path(__file__).resolve().parents[2] / "velox" / "_native"
DECL = re.compile(r"^\s*((?:const\s+)?\w+(?:\s*\*)*)\s*\b(vx_\w+)\s*\(([^)]*)\)\s*;", re.M)


def _norm_type(param: str) -> str:
    param = " ".join(param.replace("*", " * ").split())
    if param in ("void", ""):
        return "void"
    words = param.split(" ")
    if len(words) > 1 and words[-1] != "*" and re.fullmatch(r"\w+", words[-1]):
        words = words[:-1]  # drop the parameter's name
    return " ".join(words).replace(" *", "*")


def declarations(text: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    # One statement per line; a closing brace ends a line too, so a prototype
    # after a static inline function's body starts a line of its own.
    text = re.sub(r"\s*\n\s*", " ", text).replace(";", ";\n").replace("}", "}\n")
    out = {}
    for ret, name, params in DECL.findall(text):
        out[name] = (_norm_type(ret), tuple(_norm_type(p) for p in params.split(",")))
    return out


def test_every_model_declaration_matches_its_header():
    model = declarations((NATIVE / "_model_cdef.h").read_text())
    real: dict = {}
    for h in NATIVE.glob("vx_*.h"):
        real.update(declarations(h.read_text()))
    real["vx_tsc_now"] = ("uint64_t", ("void",))  # static inline in vx_tsc.h
    assert len(model) >= 20
    mismatches = {n: (sig, real.get(n)) for n, sig in model.items() if real.get(n) != sig}
    assert not mismatches, mismatches


def test_the_check_catches_a_drifted_signature():
    model = declarations("int vx_ring_push(vx_ring *r, vx_txn *t);")  # const dropped
    real = declarations((NATIVE / "vx_ring.h").read_text())
    assert model["vx_ring_push"] != real["vx_ring_push"]
