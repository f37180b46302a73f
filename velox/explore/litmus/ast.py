"""The litmus AST: what a parsed herd C litmus test holds, and the error every stage raises.

A ``LitmusTest`` has the initial state, one ``Process`` per ``Pn`` body (statements
over registers and ``Access``es to shared locations), the ``locations``/``filter``
clauses and the final ``Condition``. All nodes are frozen dataclasses, so a test
can be hashed and compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class LitmusError(ValueError):
    """Bad or unsupported litmus input; the message names file, line and construct."""

    def __init__(self, filename: str, line: int, message: str) -> None:
        self.filename = filename
        self.line = line
        self.detail = message
        super().__init__(f"{filename}:{line}: {message}")


# --------------------------------------------------------------------------
# AST
# --------------------------------------------------------------------------

ORDERS = {
    "memory_order_relaxed": "relaxed",
    "memory_order_acquire": "acquire",
    "memory_order_release": "release",
    "memory_order_acq_rel": "acq_rel",
    "memory_order_seq_cst": "seq_cst",
}


@dataclass(frozen=True)
class Const:
    value: int


@dataclass(frozen=True)
class Reg:
    name: str
    line: int


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class UnOp:
    op: str  # "!" or "-"
    operand: Expr


@dataclass(frozen=True)
class Access:
    """One shared-memory operation on location ``loc``.

    ``kind`` is ``load``, ``store``, ``fetch_add``, ``fetch_sub``, ``fetch_and``, ``fetch_or``,
    ``fetch_xor``, ``exchange``,
    ``cas_strong``, ``cas_weak`` (atomic), ``read``/``write`` (plain ``*x``) or
    ``fence`` (``loc`` empty). ``expected_reg`` is the register a compare-exchange
    compares against and updates on failure.
    """

    kind: str
    loc: str
    line: int
    value: Expr | None = None
    order: str = "seq_cst"
    failure_order: str = "seq_cst"
    expected_reg: str = ""
    expected_loc: str = ""  # compare-exchange whose expected value is a location parameter (herd's form)


Expr = Const | Reg | BinOp | UnOp | Access


@dataclass(frozen=True)
class Assign:
    reg: str
    expr: Expr
    line: int


@dataclass(frozen=True)
class ExprStmt:
    expr: Expr
    line: int


@dataclass(frozen=True)
class If:
    cond: Expr
    then: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]
    line: int


Stmt = Assign | ExprStmt | If


@dataclass(frozen=True)
class Process:
    pid: int
    params: tuple[tuple[str, bool], ...]  # (location, declared atomic)
    body: tuple[Stmt, ...]
    registers: tuple[str, ...]  # every register the body declares or assigns
    line: int


@dataclass(frozen=True)
class Loc:
    """A location in a condition: a register ``P:r`` (proc >= 0) or a global ``[x]`` (proc -1)."""

    proc: int
    name: str

    def sort_key(self) -> tuple[int, int, str]:
        # herd orders registers (by proc, then name) before globals.
        return (0, self.proc, self.name) if self.proc >= 0 else (1, 0, self.name)

    def __str__(self) -> str:
        return f"{self.proc}:{self.name}" if self.proc >= 0 else f"[{self.name}]"


@dataclass(frozen=True)
class Atom:
    loc: Loc
    value: int | Loc


@dataclass(frozen=True)
class Not:
    prop: Prop


@dataclass(frozen=True)
class And:
    props: tuple[Prop, ...]


@dataclass(frozen=True)
class Or:
    props: tuple[Prop, ...]


@dataclass(frozen=True)
class Implies:
    left: Prop
    right: Prop


Prop = Atom | Not | And | Or | Implies


@dataclass(frozen=True)
class Condition:
    quantifier: str  # "exists", "~exists", "forall"
    prop: Prop


@dataclass(frozen=True)
class LitmusTest:
    name: str
    filename: str
    doc: str
    info: tuple[tuple[str, str], ...]
    init: tuple[tuple[str, int], ...]  # global -> initial value, sorted by name
    register_init: tuple[tuple[int, str, int], ...]
    atomic_locations: frozenset[str]
    processes: tuple[Process, ...]
    locations: tuple[Loc, ...]  # the 'locations [...]' clause
    filter: Prop | None
    condition: Condition
    expectations: tuple[tuple[str, str], ...]  # (model, Always|Sometimes|Never) from '(* expect: ... *)'

    @property
    def displayed(self) -> tuple[Loc, ...]:
        """The locations herd shows in each final state: the condition's plus ``locations``."""
        locs = set(self.locations) | set(prop_locations(self.condition.prop))
        return tuple(sorted(locs, key=Loc.sort_key))

    @property
    def kind(self) -> str:
        return {"exists": "Allowed", "~exists": "Forbidden", "forall": "Required"}[self.condition.quantifier]


def prop_locations(prop: Prop) -> Iterable[Loc]:
    """Every location a proposition mentions, in order of appearance."""
    if isinstance(prop, Atom):
        yield prop.loc
        if isinstance(prop.value, Loc):
            yield prop.value
    elif isinstance(prop, Not):
        yield from prop_locations(prop.prop)
    elif isinstance(prop, (And, Or)):
        for p in prop.props:
            yield from prop_locations(p)
    else:
        yield from prop_locations(prop.left)
        yield from prop_locations(prop.right)
