"""The model build's cffi declarations (_model_cdef.h) match the real headers:
same return type and parameter types for every function, so the model build
cannot silently call a function with a stale signature."""

from __future__ import annotations

from velox_testing.cheaders import declarations, native_dir

NATIVE = native_dir()


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
