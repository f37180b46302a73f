"""Running a litmus test: each process as a generator of memory operations, driven by the explorer.

``thread_program`` interprets one process, yielding one ``Op`` per shared-memory
access and receiving the value read; ``make_test`` drives those generators with
the explorer's ``Atomic``/``Cell``/``spawn``/``fence`` and returns the ``test()``
it explores; ``run_litmus`` counts executions per final state into a
``LitmusResult`` (what herd derives: Ok/No, Positive/Negative, Observation).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from .ast import (
    And,
    Assign,
    Atom,
    BinOp,
    Const,
    Expr,
    ExprStmt,
    LitmusTest,
    Loc,
    Not,
    Or,
    Prop,
    Reg,
    Stmt,
    UnOp,
)

# --------------------------------------------------------------------------
# Interpreter: one generator per process, yielding shared-memory operations
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One shared-memory step a process asks its backend to perform.

    ``kind`` is as in ``Access``; the backend sends back the value read (loads,
    plain reads, fetch ops, exchange), ``(ok, old)`` for a compare-exchange, or
    ``None`` (stores, writes, fences).
    """

    kind: str
    loc: str
    value: int = 0
    expected: int = 0
    order: str = "seq_cst"
    failure_order: str = "seq_cst"
    line: int = 0


Program = Generator[Op, Any, dict[str, int]]


def thread_program(test: LitmusTest, pid: int) -> Program:
    """Run process ``pid``; yields ``Op``s, returns its final registers."""
    proc = test.processes[pid]
    regs = {r: 0 for r in proc.registers}
    regs.update({r: v for p, r, v in test.register_init if p == pid})
    yield from _exec_block(proc.body, regs, test.atomic_locations)
    return regs


def _exec_block(stmts: tuple[Stmt, ...], regs: dict[str, int], atomic: frozenset[str]) -> Generator[Op, Any, None]:
    for s in stmts:
        if isinstance(s, Assign):
            regs[s.reg] = yield from _eval(s.expr, regs, atomic)
        elif isinstance(s, ExprStmt):
            yield from _eval(s.expr, regs, atomic, as_statement=True)
        else:
            c = yield from _eval(s.cond, regs, atomic)
            yield from _exec_block(s.then if c else s.orelse, regs, atomic)


def _eval(e: Expr, regs: dict[str, int], atomic: frozenset[str], as_statement: bool = False) -> Generator[Op, Any, int]:
    if isinstance(e, Const):
        return e.value
    if isinstance(e, Reg):
        return regs[e.name]
    if isinstance(e, UnOp):
        v = yield from _eval(e.operand, regs, atomic)
        return int(not v) if e.op == "!" else -v
    if isinstance(e, BinOp):
        a = yield from _eval(e.left, regs, atomic)
        if e.op == "&&" and not a:
            return 0
        if e.op == "||" and a:
            return 1
        b = yield from _eval(e.right, regs, atomic)
        return _BINOPS[e.op](a, b)
    value = 0
    if e.value is not None:
        value = yield from _eval(e.value, regs, atomic)
    kind = e.kind
    if kind in ("read", "write") and e.loc in atomic:
        # A plain access to an atomic_int is a seq_cst atomic access in C11.
        kind = "load" if kind == "read" else "store"
    if kind in ("store", "write", "fence") and not as_statement:
        raise RuntimeError(f"line {e.line}: a {kind} has no value")
    if kind.startswith("cas") and e.expected_loc:
        # herd's form: the expected value is read from a location, and a failure writes the value seen there
        # (plain accesses, as C's compare_exchange does through its pointer argument).
        exp_atomic = e.expected_loc in atomic
        expected = yield Op("load" if exp_atomic else "read", e.expected_loc, 0, 0, "seq_cst", "seq_cst", e.line)
        ok, old = yield Op(kind, e.loc, value, int(expected), e.order, e.failure_order, e.line)
        if not ok:
            yield Op("store" if exp_atomic else "write", e.expected_loc, old, 0, "seq_cst", "seq_cst", e.line)
        return int(ok)
    if kind.startswith("cas"):
        ok, old = yield Op(kind, e.loc, value, regs[e.expected_reg], e.order, e.failure_order, e.line)
        if not ok:
            regs[e.expected_reg] = old
        return int(ok)
    result = yield Op(kind, e.loc, value, 0, e.order, e.failure_order, e.line)
    return 0 if result is None else int(result)


_BINOPS: dict[str, Callable[[int, int], int]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "^": lambda a, b: a ^ b, "&": lambda a, b: a & b, "|": lambda a, b: a | b,
    "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b), ">": lambda a, b: int(a > b),
    "<=": lambda a, b: int(a <= b), ">=": lambda a, b: int(a >= b),
    "&&": lambda a, b: int(bool(a) and bool(b)), "||": lambda a, b: int(bool(a) or bool(b)),
}


# --------------------------------------------------------------------------
# The engine backend: a test() for velox.explore
# --------------------------------------------------------------------------


def _drive(program: Program, objects: dict[str, Any], api: Any) -> dict[str, int]:
    """Run one process generator against explorer objects (runs inside a spawned thread)."""
    result: Any = None
    while True:
        try:
            op = program.send(result)
        except StopIteration as stop:
            return stop.value
        obj = objects.get(op.loc)
        if op.kind == "load":
            result = obj.load(op.order)
        elif op.kind == "store":
            result = obj.store(op.value, op.order)
        elif op.kind == "fetch_add":
            result = obj.fetch_add(op.value, op.order)
        elif op.kind == "fetch_sub":
            result = obj.fetch_sub(op.value, op.order)
        elif op.kind == "exchange":
            result = obj.exchange(op.value, op.order)
        elif op.kind == "fetch_or":
            result = obj.fetch_or(op.value, op.order)
        elif op.kind == "fetch_and":
            result = obj.fetch_and(op.value, op.order)
        elif op.kind == "fetch_xor":
            result = obj.fetch_xor(op.value, op.order)
        elif op.kind == "cas_strong":
            result = obj.compare_exchange_strong(op.expected, op.value, op.order, op.failure_order)
        elif op.kind == "cas_weak":
            result = obj.compare_exchange_weak(op.expected, op.value, op.order, op.failure_order)
        elif op.kind == "fence":
            # A relaxed fence has no effect in C11 (herd accepts it as a no-op too).
            result = None if op.order == "relaxed" else api.fence(op.order)
        elif op.kind == "read":
            result = obj.get()
        elif op.kind == "write":
            result = obj.set(op.value)
        else:  # pragma: no cover - the parser produces no other kinds
            raise AssertionError(op.kind)


#: An outcome: the displayed values in ``test.displayed`` order, and whether the filter holds.
Outcome = tuple[tuple[int, ...], bool]


def final_outcome(test: LitmusTest, registers: list[dict[str, int]], memory: dict[str, int]) -> Outcome:
    """The outcome of one execution from the final registers and memory."""
    def value(loc: Loc) -> int:
        return registers[loc.proc].get(loc.name, 0) if loc.proc >= 0 else memory[loc.name]

    state = tuple(value(loc) for loc in test.displayed)
    ok = True if test.filter is None else eval_prop(test.filter, value)
    return state, ok


def make_test(test: LitmusTest, api: Any = None) -> Callable[[], Outcome]:
    """Build the ``test()`` callable the explorer runs: fresh state, one thread per process."""
    if api is None:
        from velox import explore as api
    init = dict(test.init)

    def litmus_test() -> Outcome:
        objects = {
            loc: (api.Atomic(v, name=loc) if loc in test.atomic_locations else api.Cell(v, name=loc))
            for loc, v in init.items()
        }
        handles = [api.spawn(_drive, thread_program(test, pid), objects, api) for pid in range(len(test.processes))]
        registers = [h.join() for h in handles]
        # After the joins every store happens-before these reads, so each reads the mo-last store.
        memory = {
            loc: (obj.load("relaxed") if loc in test.atomic_locations else obj.get())
            for loc, obj in objects.items()
        }
        return final_outcome(test, registers, memory)

    litmus_test.__name__ = f"litmus_{test.name}"
    return litmus_test


# --------------------------------------------------------------------------
# Running and printing
# --------------------------------------------------------------------------


def eval_prop(prop: Prop, value: Callable[[Loc], int]) -> bool:
    """Evaluate a condition given each location's final value."""
    if isinstance(prop, Atom):
        rhs = value(prop.value) if isinstance(prop.value, Loc) else prop.value
        return value(prop.loc) == rhs
    if isinstance(prop, Not):
        return not eval_prop(prop.prop, value)
    if isinstance(prop, And):
        return all(eval_prop(p, value) for p in prop.props)
    if isinstance(prop, Or):
        return any(eval_prop(p, value) for p in prop.props)
    return (not eval_prop(prop.left, value)) or eval_prop(prop.right, value)


@dataclass
class LitmusResult:
    """Executions per final state, and what herd derives from them."""

    test: LitmusTest
    model: str
    states: dict[tuple[int, ...], int]  # displayed state -> executions
    positive: int  # executions satisfying the condition's proposition
    negative: int
    undef: bool = False  # some execution has a data race (herd's Undef flag)
    elapsed: float = 0.0
    flags: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        q = self.test.condition.quantifier
        if q == "exists":
            return self.positive > 0
        if q == "~exists":
            return self.positive == 0
        return self.negative == 0

    @property
    def verdict(self) -> str:
        """The Observation, with ``+Undef`` when an execution races: what ``(* expect: ... *)`` states."""
        return self.observation + ("+Undef" if self.undef else "")

    @property
    def observation(self) -> str:
        if self.positive == 0:
            return "Never"
        return "Always" if self.negative == 0 else "Sometimes"


def tally(test: LitmusTest, model: str, counts: Counter, elapsed: float = 0.0, undef: bool = False) -> LitmusResult:
    """Turn outcome counts (``Outcome`` -> executions) into a ``LitmusResult``."""
    states: dict[tuple[int, ...], int] = {}
    pos = neg = 0
    displayed = test.displayed
    for (state, filter_ok), n in counts.items():
        if not filter_ok:
            continue
        states[state] = states.get(state, 0) + n
        env = dict(zip(displayed, state))
        if eval_prop(test.condition.prop, env.__getitem__):
            pos += n
        else:
            neg += n
    return LitmusResult(test, model, states, pos, neg, undef=undef, elapsed=elapsed,
                        flags=["*undef*"] if undef else [])


def run_litmus(test: LitmusTest, model: str = "rc11", api: Any = None) -> LitmusResult:
    """Explore every execution of ``test`` under ``model`` and count them per final state."""
    if api is None:
        from velox import explore as api
    if model not in ("rc11", "sc"):
        raise ValueError(f"unknown model {model!r}: expected 'rc11' or 'sc'")
    start = time.process_time()
    # races="flag": a data race marks the execution (herd's Undef) instead of stopping the exploration.
    counts = api.outcome_counts(make_test(test, api), model=model, races="flag")
    racy = {outcome for outcome in getattr(counts, "racy", ()) if outcome[1]}
    return tally(test, model, Counter(counts), time.process_time() - start, undef=bool(racy))
