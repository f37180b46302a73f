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


def test_rmw_kinds() -> None:
    model = defines(header("vx_atomic.h"), after="#else")
    kinds = {model["VX_RMW_ADD"]: (5, 3, 8), model["VX_RMW_SUB"]: (5, 3, 2), model["VX_RMW_XCHG"]: (5, 3, 3),
             model["VX_RMW_OR"]: (5, 3, 7), model["VX_RMW_AND"]: (5, 3, 1)}
    assert set(kinds) == set(cmodel._RMW_FNS)
    for kind, (old, operand, new) in kinds.items():
        assert cmodel._RMW_FNS[kind](operand)(old) == new, kind


def test_hook_declarations() -> None:
    """The hooks cffi implements are exactly those vx_atomic.h calls."""
    c_side = {n: d for n, d in declarations(header("vx_atomic.h")).items() if n.startswith("vx_model_")}
    py_side = declarations(_model_build.HOOKS_CDEF)
    assert len(c_side) >= 9
    assert py_side == c_side


def test_the_checks_can_fail() -> None:
    drifted = "enum { VX_IN_GENERATED = 0, VX_IN_ARRIVALS, VX_IN_DROPPED };"
    assert _python_names(_enum(drifted, "VX_IN_"), "VX_IN_", {}) != _pipeline._CTR["ingress"]
    assert declarations("void vx_model_spin(const char *file);") != declarations(_model_build.HOOKS_CDEF)
