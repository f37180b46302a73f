"""The Wing-Gong linearizability check with Lowe's memoization.

Algorithm: Wing and Gong, "Testing and verifying concurrent objects" (JPDC
1993), with the cache of (linearized set, state) pairs from Lowe, "Testing
for linearizability" (CCPE 2017); this is what porcupine's ``checker.go`` and
knossos's ``wgl.clj`` implement. The history becomes a doubly linked list of
call and return entries in time order (a call sorts before a return at the
same time: closed intervals). The search walks the list: at a call entry it
tries to linearize that operation now (the model must accept its output);
on success it lifts the operation's call and return out of the list and
starts again from the head; at a return entry it has run out of candidates
(the operation returning here must already be linearized) and backtracks.
The history is linearizable iff the list empties.

Search is exponential in the worst case. ``max_steps`` bounds it: past the
bound the verdict is UNKNOWN, never OK.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._history import Operation
from ._model import Model


class Verdict(enum.Enum):
    """Outcome of a check (porcupine's CheckResult)."""

    OK = "ok"
    ILLEGAL = "illegal"
    UNKNOWN = "unknown"


@dataclass(frozen=True, kw_only=True)
class PartResult:
    """The check of one partition of a history."""

    verdict: Verdict
    operations: tuple[Operation, ...]
    #: Longest sequence of operations the search could linearize (indices into
    #: ``operations``), the best explanation found before it got stuck.
    longest: tuple[int, ...] = ()
    #: Operations that no order could fit after ``longest`` (indices).
    stuck: tuple[int, ...] = ()
    #: Why the model rejected the first stuck operation after ``longest``.
    reason: str = ""
    steps: int = 0


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """The verdict for a whole history, and the parts that decided it."""

    verdict: Verdict
    parts: tuple[PartResult, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK

    def offending(self) -> PartResult | None:
        """The first partition that is not linearizable (or not decided)."""
        for p in self.parts:
            if p.verdict is not Verdict.OK:
                return p
        return None


class _Entry:
    __slots__ = ("is_call", "match", "next", "op_id", "prev", "time")

    def __init__(self, op_id: int, is_call: bool, time: int) -> None:
        self.op_id = op_id
        self.is_call = is_call
        self.time = time
        self.match: _Entry | None = None
        self.prev: _Entry | None = None
        self.next: _Entry | None = None


def _build_list(ops: Sequence[Operation]) -> _Entry:
    events: list[_Entry] = []
    for i, op in enumerate(ops):
        c, r = _Entry(i, True, op.call), _Entry(i, False, op.ret)
        c.match = r
        events.append(c)
        events.append(r)
    # calls before returns at equal times: touching intervals are concurrent
    events.sort(key=lambda e: (e.time, 0 if e.is_call else 1, e.op_id))
    head = _Entry(-1, False, -1)
    prev = head
    for e in events:
        prev.next = e
        e.prev = prev
        prev = e
    return head


def _lift(e: _Entry) -> None:
    """Take a call entry and its return out of the list."""
    assert e.prev is not None and e.match is not None
    e.prev.next = e.next
    if e.next is not None:
        e.next.prev = e.prev
    m = e.match
    assert m.prev is not None
    m.prev.next = m.next
    if m.next is not None:
        m.next.prev = m.prev


def _unlift(e: _Entry) -> None:
    """Put a lifted call entry and its return back (reverse order of _lift)."""
    m = e.match
    assert m is not None and m.prev is not None
    m.prev.next = m
    if m.next is not None:
        m.next.prev = m
    assert e.prev is not None
    e.prev.next = e
    if e.next is not None:
        e.next.prev = e


def _check_max_steps(max_steps: int) -> None:
    if isinstance(max_steps, bool) or not isinstance(max_steps, int):
        raise TypeError(f"max_steps must be an int, got {type(max_steps).__name__} {max_steps!r}")
    if max_steps < 1:
        raise ValueError(f"max_steps must be at least 1 (the search budget), got {max_steps}")


def check_part(model: Model, ops: Sequence[Operation], init_state: Any = None,
               max_steps: int = 1_000_000) -> PartResult:
    """Check one (partition of a) history from ``init_state`` (default
    ``model.init()``)."""
    _check_max_steps(max_steps)
    ops = tuple(ops)
    state = model.init() if init_state is None else init_state
    if not ops:
        return PartResult(verdict=Verdict.OK, operations=ops)
    head = _build_list(ops)
    cache: dict[int, set[Any]] = {}
    calls: list[tuple[_Entry, Any]] = []
    linearized = 0
    longest: tuple[int, ...] = ()
    stuck_reason = ""
    reason_depth = -1
    entry = head.next
    steps = 0
    while head.next is not None:
        steps += 1
        if steps > max_steps:
            return PartResult(verdict=Verdict.UNKNOWN, operations=ops, longest=longest,
                              reason=f"search stopped after {max_steps} steps (raise max_steps)", steps=steps)
        assert entry is not None
        if entry.is_call:
            op = ops[entry.op_id]
            ok, new_state, why = model.step(state, op.input, op.output)
            if ok:
                new_lin = linearized | (1 << entry.op_id)
                seen = cache.setdefault(new_lin, set())
                if new_state not in seen:
                    seen.add(new_state)
                    calls.append((entry, state))
                    state = new_state
                    linearized = new_lin
                    _lift(entry)
                    entry = head.next
                    continue
            elif len(calls) >= reason_depth:
                # the rejection deepest in the search explains the verdict best
                stuck_reason, reason_depth = f"after {len(calls)} linearized: {why}", len(calls)
            entry = entry.next
        else:
            # a return: every operation returning here must be linearized first
            if len(calls) > len(longest):
                longest = tuple(e.op_id for e, _ in calls)
            if not calls:
                stuck = tuple(sorted(i for i in range(len(ops)) if i not in longest))
                return PartResult(verdict=Verdict.ILLEGAL, operations=ops, longest=longest, stuck=stuck,
                                  reason=stuck_reason, steps=steps)
            top, state = calls.pop()
            linearized &= ~(1 << top.op_id)
            _unlift(top)
            entry = top.next
    return PartResult(verdict=Verdict.OK, operations=ops, longest=tuple(range(len(ops))), steps=steps)


def check_operations(model: Model, ops: Sequence[Operation], init_state: Any = None,
                     max_steps: int = 1_000_000) -> CheckResult:
    """Is the history linearizable with respect to ``model``? Partitions it
    with ``model.partition`` when given and checks each part; the verdict is
    ILLEGAL if any part is, else UNKNOWN if any part is undecided, else OK."""
    _check_max_steps(max_steps)
    parts = model.partition(ops) if model.partition is not None else [list(ops)]
    results = []
    verdict = Verdict.OK
    for part in parts:
        r = check_part(model, part, init_state, max_steps)
        results.append(r)
        if r.verdict is Verdict.ILLEGAL:
            verdict = Verdict.ILLEGAL
            break
        if r.verdict is Verdict.UNKNOWN:
            verdict = Verdict.UNKNOWN
    return CheckResult(verdict=verdict, parts=tuple(results))
