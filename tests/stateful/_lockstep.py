"""Shared plumbing for the lockstep machines: run a native call, turn what it
did into a model result, compare with the model's step, fail with context.

Every machine here drives one native object and its reference model from
``velox.models`` side by side. A native call's outcome is its return value or,
if it raised, ``models._step.Raises`` with the exception's class name; the
model's ``step`` says what it must be. The machines take the module that
provides the native classes as a parameter, so the same machine runs against
the shipping ``velox._native._core`` and against a mutant build
(``velox_testing.catalogue``) that must make it fail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine

from velox.models._step import Inconsistent, raised


def outcome(call: Callable[[], Any], convert: Callable[[Any], Any] = lambda v: v) -> Any:
    """What ``call()`` did: its (converted) return value, or ``Raises`` for an
    exception. Only ``Exception`` is caught: a crash stays a crash."""
    try:
        value = call()
    except Exception as exc:  # noqa: BLE001 - compared with the model's Raises
        return raised(exc)
    return convert(value)


class LockstepMachine(RuleBasedStateMachine):
    """Base of the machines: holds the model state and compares each step.

    ``examples`` counts machine instances (one per example, shrinking
    included) and ``first_failure_at`` records how many had run when a
    comparison first failed: tests/stateful/test_mutants_caught.py reports it.
    """

    model: Any = None  # the model module (velox.models.ring, ...)
    examples: int = 0
    first_failure_at: int | None = None

    def __init__(self) -> None:
        super().__init__()
        type(self).examples += 1
        self.state: Any = None

    def fail(self, msg: str) -> None:
        """Fail the example with ``msg`` and the model state for context."""
        cls = type(self)
        if cls.first_failure_at is None:
            cls.first_failure_at = cls.examples
        where = self.model.describe_state(self.state) if self.state is not None else "before init"
        raise AssertionError(f"{msg}\n  model state before the step: {where}")

    def expect(self, op: Any, observed: Any) -> Any:
        """Step the model with ``op`` and the native ``observed`` result;
        fail on disagreement; return the agreed result."""
        res = self.model.step(self.state, op, observed)
        if isinstance(res, Inconsistent):
            self.fail(f"native and model disagree: {res.msg}")
        self.state = res.state
        return res.result

    def check(self, ok: bool, msg: str) -> None:
        """Fail with ``msg`` unless ``ok`` (for invariants beyond the model)."""
        if not ok:
            self.fail(msg)


def scaled_settings(factor: int) -> settings:
    """The loaded profile (``ci`` or ``nightly``) with ``factor`` times its
    examples: these machines run a step in microseconds, so they can afford
    more examples than the profile's default while staying proportional to it."""
    return settings(settings.default, max_examples=factor * settings.default.max_examples)
