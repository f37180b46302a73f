"""Proof that the pipeline's invariant checks can fail: each "pipeline"
mutant of the catalogue (velox_testing.catalogue), built as a whole
production extension, must fail the invariant named for it."""

from __future__ import annotations

import pytest

from velox import _pipeline
from velox._pipeline import Pipeline, PipelineConfig
from velox_testing.catalogue import for_gate
from velox_testing.mutants import build_core_mutant, run_isolated


def _pipeline_mutants():
    return [m.name for m in for_gate("pipeline")]


def _run_mutant(name: str | None, cfg: dict) -> dict:
    mod = build_core_mutant(name, log=lambda msg: None)
    pipe = Pipeline(PipelineConfig(**cfg), _core_module=mod)
    rep = _pipeline.drive(pipe)
    return {"ok": rep.ok, "failed": [i.name for i in rep.invariants if not i.ok], "seed": rep.seed}


#: mutant -> (config, the invariant that must fail)
MUTANT_EXPECTATIONS = {
    "pipeline_rec_off_by_one_at_wrap": ({"saturate": True, "duration": 0.2, "ring_capacity": 256}, "FIFO per producer"),
    "pipeline_bundle_swaps_first_two": ({"saturate": True, "duration": 0.2, "producers": 1}, "FIFO per producer"),
    # busy wait: a yielding thread on a loaded machine comes back too late to flush early
    "pipeline_timeout_in_ns_not_ticks": ({"rate": 5_000, "duration": 0.5, "topology": "single", "wait": "busy"},
                                         "timeout flushes within bound"),
    "pipeline_bundle_never_polls": ({"rate": 1_000, "duration": 0.5, "topology": "single", "wait": "busy"},
                                    "timeout flushes within bound"),
    "pipeline_drop_not_counted": (
        {"rate": 200_000_000, "duration": 0.2, "ring_capacity": 64, "topology": "split", "wait": "park"}, "no loss"),
    "pipeline_final_cancel_off_by_one": ({"saturate": True, "duration": 0.2},
                                             "book conserved and empty at the end"),
}


@pytest.mark.parametrize("name", sorted(MUTANT_EXPECTATIONS))
def test_invariant_checks_catch_mutant(name):
    assert name in _pipeline_mutants(), f"{name} missing from the catalogue (velox_testing.catalogue)"
    cfg, must_fail = MUTANT_EXPECTATIONS[name]
    cfg = dict(cfg, seed=4242, flush_slack_us=10_000_000)
    res = run_isolated(lambda: _run_mutant(name, cfg), timeout=240)
    assert res["ok"], res.get("error")
    assert not res["value"]["ok"], f"mutant {name} passed every invariant (seed 4242, {cfg})"
    assert must_fail in res["value"]["failed"], res["value"]


def test_unmutated_copy_passes():
    """Control for the mutant tests: the builder's unmutated copy passes."""
    res = run_isolated(lambda: _run_mutant(None, {"saturate": True, "duration": 0.2, "seed": 4242,
                                                                  "flush_slack_us": 10_000_000}), timeout=240)
    assert res["ok"], res.get("error")
    assert res["value"]["ok"], res["value"]


def test_every_pipeline_mutant_has_an_expectation():
    assert sorted(_pipeline_mutants()) == sorted(MUTANT_EXPECTATIONS)


