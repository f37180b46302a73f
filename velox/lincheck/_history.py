"""Histories: completed operations with their call and return times.

An ``Operation`` is one completed call, as porcupine's ``Operation``: the
client (thread) that made it, the time just before the call and just after
the return, the operation as the model understands it (``input``) and what
the implementation returned (``output``). Times come from any clock that is
consistent across clients (velox's recorder uses the fenced TSC).

Intervals are closed: operation A precedes B in real time only when
``A.ret < B.call``. Two operations whose stamps touch (``A.ret == B.call``)
count as concurrent, so ties never produce a false violation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Operation:
    """One completed operation of a concurrent history."""

    client: int
    call: int
    ret: int
    input: Any
    output: Any

    def __post_init__(self) -> None:
        for name in ("call", "ret"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise TypeError(f"{name} must be a number (a clock reading), got {type(v).__name__} {v!r}")
            if isinstance(v, float) and not math.isfinite(v):
                raise ValueError(f"{name} must be a finite clock reading, got {v!r} ({self.input!r})")
        if self.ret < self.call:
            raise ValueError(f"operation returns before it is called: call={self.call} ret={self.ret} ({self.input!r})")


def precedes(a: Operation, b: Operation) -> bool:
    """Does a return strictly before b is called?"""
    return a.ret < b.call
