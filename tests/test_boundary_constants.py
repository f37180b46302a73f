"""Constants that cross the C/Python boundary agree on both sides.

Most Python code takes its C constants from the headers themselves (the
Cython .pxd files cimport them; the test bodies under the explorer read them
with velox_testing.cheaders). What Python keeps as its own copy is pinned
here against the header: the pipeline's stages, counters and histograms, its
enums (price mode, back-pressure, wait, topology), the memory-order numbers
and read-modify-write kinds of the model build, and the model build's hook
declarations.
"""

from __future__ import annotations

import re

import pytest

from velox import _pipeline
from velox._native import _model_build
from velox.explore import cmodel
from velox.explore.rt import orders
from velox_testing.cheaders import declarations, defines, enum_values, enums, header

#: C counter suffix -> the Python name where they differ (the rest is the suffix lowercased).
_COUNTER_NAMES = {"size_viol": "size_violations", "seq_viol": "seq_violations", "early": "early_flushes",
                  "late": "late_flushes", "frame": "frame_errors", "skew": "clock_skew",
                  "write_err": "write_errors", "missed": "missed_deadline"}
_HIST_NAMES = {"lag": "ingress_lag", "age_book": "age_at_book", "age_bundle": "age_at_bundle"}


def _enum(text: str, prefix: str) -> list[tuple[str, int]]:
    """The enumerators of ``text`` starting with ``prefix``, in order."""
    return [(n, v) for _, items in enums(text) for n, v in items if n.startswith(prefix)]


def _python_names(items: list[tuple[str, int]], prefix: str, renames: dict[str, str]) -> list[str]:
    assert [v for _, v in items] == list(range(len(items))), f"{prefix}* values are not 0, 1, 2, ...: {items}"
    names = [n[len(prefix):].lower() for n, _ in items]
    return [renames.get(n, n) for n in names]


def test_pipeline_stages() -> None:
    stages = _enum(header("vx_pipeline.h"), "VX_STAGE_")
    assert _python_names(stages, "VX_STAGE_", {}) == list(_pipeline.STAGES)
    assert enum_values(header("vx_pipeline.h"))["VX_NSTAGES"] == len(_pipeline.STAGES)


@pytest.mark.parametrize("stage, prefix", [("ingress", "VX_IN_"), ("book", "VX_BK_"), ("bundle", "VX_BU_"),
                                           ("output", "VX_OU_")])
def test_pipeline_counters(stage: str, prefix: str) -> None:
    text = header("vx_pipeline.h")
    assert _python_names(_enum(text, prefix), prefix, _COUNTER_NAMES) == _pipeline._CTR[stage]
    assert len(_pipeline._CTR[stage]) <= defines(text)["VX_CTRS"]


def test_pipeline_histograms() -> None:
    text = header("vx_pipeline.h")
    assert _python_names(_enum(text, "VX_H_"), "VX_H_", _HIST_NAMES) == list(_pipeline.HISTOGRAMS)
    assert enum_values(text)["VX_NHIST"] == len(_pipeline.HISTOGRAMS)


@pytest.mark.parametrize("hdr, prefix, names", [
    ("vx_ingress.h", "VX_PRICE_", _pipeline.PRICE_MODES),
    ("vx_pipeline.h", "VX_BP_", _pipeline.BACKPRESSURES),
    ("vx_wait.h", "VX_WAIT_", _pipeline.WAITS),
    ("vx_pipeline.h", "VX_TOPO_", _pipeline.TOPOLOGIES),
])
def test_pipeline_choices(hdr: str, prefix: str, names: tuple[str, ...]) -> None:
    """Python passes each choice to C as its index in the tuple."""
    assert _python_names(_enum(header(hdr), prefix), prefix, {}) == list(names)


def test_memory_order_numbers() -> None:
    model = defines(header("vx_atomic.h"), after="#else")  # the VX_MODEL branch
    for name in ("RELAXED", "ACQUIRE", "RELEASE", "ACQ_REL", "SEQ_CST"):
        assert model[f"VX_{name}"] == getattr(orders, name), name


#: What each read-modify-write kind does to old=0b1100 with operand 0b1010.
_RMW_RESULTS = {"ADD": 0b10110, "SUB": 0b0010, "XCHG": 0b1010, "OR": 0b1110, "AND": 0b1000}


def test_rmw_kinds() -> None:
    """Every VX_RMW_* kind of the model build is the operation the explorer applies."""
    kinds = {n[len("VX_RMW_"):]: v for n, v in defines(header("vx_atomic.h"), after="#else").items()
             if n.startswith("VX_RMW_")}
    assert set(kinds) == set(_RMW_RESULTS), f"RMW kinds changed: {sorted(kinds)}; say here what each one does"
    assert set(kinds.values()) == set(cmodel._RMW_FNS)
    for name, kind in kinds.items():
        assert cmodel._RMW_FNS[kind](0b1010)(0b1100) == _RMW_RESULTS[name], name


def _definitions(text: str) -> dict:
    """Function definitions read as prototypes (``f(...) {`` taken as ``f(...);``)."""
    return declarations(re.sub(r"\)\s*\{", ");", text))


def test_hook_declarations() -> None:
    """Every hook vx_atomic.h calls is defined in the C hook layer with the same
    signature, and the Python callbacks cffi implements are exactly those that
    layer declares."""
    called = {n: d for n, d in declarations(header("vx_atomic.h")).items() if n.startswith("vx_model_")}
    defined = _definitions(header("vx_model_hooks.c"))
    assert len(called) >= 9
    assert {n: defined.get(n) for n in called} == called
    py_side = {n: d for n, d in declarations(_model_build.HOOKS_CDEF).items() if n.startswith("vx_py_")}
    c_side = {n: d for n, d in declarations(header("vx_model_rt.h")).items() if n.startswith("vx_py_")}
    assert len(py_side) >= 9
    assert py_side == c_side


def test_the_checks_can_fail() -> None:
    drifted = "enum { VX_IN_GENERATED = 0, VX_IN_ARRIVALS, VX_IN_DROPPED };"
    assert _python_names(_enum(drifted, "VX_IN_"), "VX_IN_", {}) != _pipeline._CTR["ingress"]
    assert declarations("void vx_py_spin(const char *file);")["vx_py_spin"] != declarations(
        _model_build.HOOKS_CDEF)["vx_py_spin"]
