"""The vocabulary every model shares: what a step returns.

A model is a pure function ``step(state, op) -> StepResult | Inconsistent``
over frozen, hashable states (porcupine's ``Model.Step``, knossos's
``(step model op)``). ``StepResult`` carries the next state and the result the
implementation must return for ``op``; ``Raises`` is such a result when the
operation must fail; ``Inconsistent`` says the operation cannot happen from
this state (for instance, an observed result differs from the model's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

S = TypeVar("S")

#: Sentinel for "no observed result given": the caller wants the expected one.
UNOBSERVED: Any = type("_Unobserved", (), {"__repr__": lambda self: "UNOBSERVED"})()


@dataclass(frozen=True, kw_only=True)
class Raises:
    """The operation must raise an exception of class ``error`` (a class name
    such as ``"ValueError"``, so models need no import of the native code).
    ``reason`` explains why for people; it does not take part in equality."""

    error: str
    reason: str = field(default="", compare=False)

    def __repr__(self) -> str:
        return f"Raises(error={self.error!r}, reason={self.reason!r})"


@dataclass(frozen=True, kw_only=True)
class StepResult(Generic[S]):
    """A legal step: ``state`` after the operation and the ``result`` the
    implementation must have returned (a value, None, or a ``Raises``)."""

    state: S
    result: Any


@dataclass(frozen=True, kw_only=True)
class Inconsistent:
    """The operation (with its observed result) cannot follow this state."""

    msg: str


def raised(exc: BaseException) -> Raises:
    """The ``Raises`` result matching an exception an implementation raised."""
    return Raises(error=type(exc).__name__, reason=str(exc))


def check_observed(expected: StepResult[S], observed: Any, describe: str) -> StepResult[S] | Inconsistent:
    """Compare an observed result with the model's; ``describe`` names the op."""
    if observed is UNOBSERVED or observed == expected.result:
        return expected
    return Inconsistent(msg=f"{describe} returned {observed!r}, the model expects {expected.result!r}")
