"""The model interface the checker needs: a pure sequential specification.

As porcupine's ``Model`` and knossos's ``step``: ``init()`` gives the initial
state, ``step(state, input, output)`` says whether ``input`` returning
``output`` is legal from ``state`` and, if so, the next state. States must be
hashable (the checker caches (linearized set, state) pairs). ``partition``
optionally splits a history into independent sub-histories that can be
checked one by one (P-compositionality: Horn and Kroening, "Faster
linearizability checking via P-compositionality", FORTE 2015); a history is
linearizable iff every part is, when the parts touch disjoint parts of the
state.

``from_step`` adapts velox's reference models (``velox.models.*``), whose
``step(state, op, observed)`` returns ``StepResult`` or ``Inconsistent``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from ._history import Operation

#: A step: (legal?, next state, why not when illegal).
StepOutcome = tuple[bool, Any, str]


@dataclass(frozen=True, kw_only=True)
class Model:
    """A sequential specification for the linearizability checker."""

    init: Callable[[], Hashable]
    step: Callable[[Any, Any, Any], StepOutcome]
    partition: Callable[[Sequence[Operation]], list[list[Operation]]] | None = None
    describe_operation: Callable[[Any, Any], str] = lambda inp, out: f"{inp!r} -> {out!r}"
    describe_state: Callable[[Any], str] = repr


def from_step(module: Any, init_state: Hashable,
              partition: Callable[[Sequence[Operation]], list[list[Operation]]] | None = None) -> Model:
    """A Model over one of velox's reference models (``velox.models.book``,
    ``velox.models.ring``): ``module.step(state, op, observed)``,
    ``module.describe_op`` and ``module.describe_state``, starting from
    ``init_state``."""
    from velox.models._step import Inconsistent

    def step(state: Any, inp: Any, out: Any) -> StepOutcome:
        r = module.step(state, inp, out)
        if isinstance(r, Inconsistent):
            return False, state, r.msg
        return True, r.state, ""

    return Model(
        init=lambda: init_state,
        step=step,
        partition=partition,
        describe_operation=lambda inp, out: f"{module.describe_op(inp)} -> {out!r}",
        describe_state=module.describe_state,
    )
