"""Parser unit tests for herd's C litmus dialect: every construct, every error with its line."""

from __future__ import annotations

import os

import pytest
from test_litmus_sc_oracle import sc_result  # noqa: E402

from velox.explore.litmus import (
    Access,
    And,
    Assign,
    Atom,
    BinOp,
    Const,
    ExprStmt,
    If,
    Implies,
    LitmusError,
    Loc,
    Not,
    Or,
    Reg,
    parse_litmus,
    thread_program,
)


def parse(text: str):
    return parse_litmus(text, "t.litmus")


MP = """C MP+rel+acq
"a doc string"
Hash=0123abcd
(* a (* nested *) comment *)
{ [x] = 0; y = 1; }
P0 (atomic_int* x, atomic_int* y) {
  atomic_store_explicit(x, 1, memory_order_relaxed); // trailing comment
  /* block
     comment */
  atomic_store_explicit(y, 2, memory_order_release);
}
P1 (atomic_int* x, atomic_int* y) {
  int r0 = atomic_load_explicit(y, memory_order_acquire);
  int r1 = atomic_load_explicit(x, memory_order_relaxed);
}
exists (1:r0=2 /\\ 1:r1=0)
"""


def test_smoke_header_doc_info_init_processes_condition():
    t = parse(MP)
    assert t.name == "MP+rel+acq"
    assert t.doc == "a doc string"
    assert t.info == (("Hash", "0123abcd"),)
    assert t.init == (("x", 0), ("y", 1))
    assert [p.pid for p in t.processes] == [0, 1]
    assert t.processes[0].params == (("x", True), ("y", True))
    assert t.processes[0].body[1] == ExprStmt(Access("store", "y", 10, value=Const(2), order="release"), 10)
    assert t.processes[1].body[0] == Assign("r0", Access("load", "y", 13, order="acquire"), 13)
    assert t.processes[1].registers == ("r0", "r1")
    assert t.condition.quantifier == "exists"
    assert t.condition.prop == And((Atom(Loc(1, "r0"), 2), Atom(Loc(1, "r1"), 0)))
    assert t.kind == "Allowed"


@pytest.mark.parametrize("init, expected", [
    ("{ }", (("x", 0),)),
    ("{}", (("x", 0),)),
    ("{ x=3; }", (("x", 3),)),
    ("{ x = 3 }", (("x", 3),)),
    ("{ [x] = -2; }", (("x", -2),)),
    ("{ int x = 4; }", (("x", 4),)),
    ("{ atomic_int x = 5; }", (("x", 5),)),
    ("{ x; }", (("x", 0),)),
    ("{ x = 0x10; }", (("x", 16),)),
])
def test_init_block_forms(init, expected):
    t = parse(f"C T\n{init}\nP0 (atomic_int* x) {{ int r0 = atomic_load(x); }}\nexists (0:r0=0)\n")
    assert t.init == expected


def test_register_initialisation_in_init_block():
    t = parse("C T\n{ 0:r0 = 7; }\nP0 (atomic_int* x) { atomic_store(x, 1); }\nexists (0:r0=7)\n")
    assert t.register_init == ((0, "r0", 7),)
    assert sc_result(t).observation == "Always"


def test_plain_int_locations_are_cells_and_atomic_int_plain_access_is_seq_cst():
    t = parse("C T\n{ }\nP0 (int* x, atomic_int* y) { *x = 1; *y = 2; int r0 = *x; int r1 = *y; }\nexists (0:r0=1)\n")
    assert "x" not in t.atomic_locations and "y" in t.atomic_locations
    ops = []
    prog = thread_program(t, 0)
    result = None
    try:
        while True:
            op = prog.send(result)
            ops.append((op.kind, op.loc, op.order))
            result = 1 if op.kind in ("read", "load") else None
    except StopIteration:
        pass
    assert ops == [("write", "x", "seq_cst"), ("store", "y", "seq_cst"), ("read", "x", "seq_cst"), ("load", "y", "seq_cst")]


def test_param_type_spellings():
    t = parse("C T\n{ }\nP0 (volatile int* x, const int *y, _Atomic int* z, atomic_int *w) { int r0 = *x; }\nexists (0:r0=0)\n")
    assert t.processes[0].params == (("x", False), ("y", False), ("z", True), ("w", True))


def test_every_atomic_call_form():
    t = parse("""C T
{ }
P0 (atomic_int* x) {
  int r0 = atomic_load(x);
  atomic_store(x, 1);
  int r1 = atomic_fetch_add(x, 2);
  int r2 = atomic_fetch_sub_explicit(x, 1, memory_order_acq_rel);
  int r3 = atomic_exchange(x, 9);
  int r4 = atomic_exchange_explicit(x, 8, memory_order_seq_cst);
  int r5 = atomic_fetch_sub(x, 1);
  int e = 7;
  int ok = atomic_compare_exchange_strong(x, &e, 3);
  int ok2 = atomic_compare_exchange_weak_explicit(x, &e, 4, memory_order_release, memory_order_relaxed);
  atomic_thread_fence(memory_order_seq_cst);
  atomic_fetch_add_explicit(x, 1, memory_order_relaxed);
}
exists (0:r0=0)
""")
    kinds = []
    for s in t.processes[0].body:
        e = s.expr
        kinds.append((e.kind, e.order) if isinstance(e, Access) else ("const", e.value))
    assert kinds == [
        ("load", "seq_cst"), ("store", "seq_cst"), ("fetch_add", "seq_cst"), ("fetch_sub", "acq_rel"),
        ("exchange", "seq_cst"), ("exchange", "seq_cst"), ("fetch_sub", "seq_cst"), ("const", 7),
        ("cas_strong", "seq_cst"), ("cas_weak", "release"), ("fence", "seq_cst"), ("fetch_add", "relaxed"),
    ]
    cas = t.processes[0].body[9].expr
    assert cas.expected_reg == "e" and cas.failure_order == "relaxed"


def test_registers_arithmetic_and_if_else():
    t = parse("""C T
{ }
P0 (atomic_int* x) {
  int a = 5, b;
  b = a + 2 - 1;
  int c = (a ^ 3) == 6;
  int d = a != 5 || c && !0;
  int e = -a;
  if (b == 6) { e = 1; } else e = 2;
  if (a < 3) { e = 9; }
  { int f = a * 2 >= 10; }
}
exists (0:a=5 /\\ 0:b=6 /\\ 0:c=1 /\\ 0:d=1 /\\ 0:e=1 /\\ 0:f=1)
""")
    body = t.processes[0].body
    assert isinstance(body[6], If) and isinstance(body[1], Assign)
    assert body[2] == Assign("b", BinOp("-", BinOp("+", Reg("a", 5), Const(2)), Const(1)), 5)
    assert sc_result(t).observation == "Always"


def test_compare_exchange_updates_expected_register_on_failure():
    t = parse("""C T
{ x = 3; }
P0 (atomic_int* x) {
  int e = 1;
  int ok = atomic_compare_exchange_strong_explicit(x, &e, 5, memory_order_relaxed, memory_order_relaxed);
  int ok2 = atomic_compare_exchange_strong_explicit(x, &e, 6, memory_order_relaxed, memory_order_relaxed);
}
forall (0:ok=0 /\\ 0:ok2=1 /\\ 0:e=3 /\\ x=6)
""")
    assert sc_result(t).observation == "Always"


@pytest.mark.parametrize("cond, quant, prop", [
    ("exists (x=1)", "exists", Atom(Loc(-1, "x"), 1)),
    ("exists x=1", "exists", Atom(Loc(-1, "x"), 1)),
    ("~exists ([x]=1)", "~exists", Atom(Loc(-1, "x"), 1)),
    ("~ exists (x=1)", "~exists", Atom(Loc(-1, "x"), 1)),
    ("forall (0:r0=1 \\/ x=2)", "forall", Or((Atom(Loc(0, "r0"), 1), Atom(Loc(-1, "x"), 2)))),
    ("exists (~0:r0=1 /\\ x=2)", "exists", And((Not(Atom(Loc(0, "r0"), 1)), Atom(Loc(-1, "x"), 2)))),
    ("exists (0:r0 != 1)", "exists", Not(Atom(Loc(0, "r0"), 1))),
    ("exists (0:r0=1 /\\ (x=1 \\/ x=2))", "exists",
     And((Atom(Loc(0, "r0"), 1), Or((Atom(Loc(-1, "x"), 1), Atom(Loc(-1, "x"), 2)))))),
    ("exists (0:r0=1 \\/ x=1 /\\ x=2)", "exists",
     Or((Atom(Loc(0, "r0"), 1), And((Atom(Loc(-1, "x"), 1), Atom(Loc(-1, "x"), 2)))))),
    ("forall (x=1 => 0:r0=1)", "forall", Implies(Atom(Loc(-1, "x"), 1), Atom(Loc(0, "r0"), 1))),
    ("exists (0:r0=x)", "exists", Atom(Loc(0, "r0"), Loc(-1, "x"))),
    ("exists (x=-1)", "exists", Atom(Loc(-1, "x"), -1)),
    ("forall (true)", "forall", And(())),
])
def test_condition_syntax(cond, quant, prop):
    t = parse(f"C T\n{{ }}\nP0 (atomic_int* x) {{ int r0 = atomic_load(x); }}\n{cond}\n")
    assert t.condition.quantifier == quant
    assert t.condition.prop == prop


def test_locations_and_filter_clauses():
    t = parse("C T\n{ }\nP0 (atomic_int* x) { int r0 = atomic_load(x); int r1 = 2; }\n"
              "locations [0:r1; x;]\nfilter (0:r0=0)\nexists (0:r0=0)\n")
    assert t.locations == (Loc(0, "r1"), Loc(-1, "x"))
    assert t.filter == Atom(Loc(0, "r0"), 0)
    assert t.displayed == (Loc(0, "r0"), Loc(0, "r1"), Loc(-1, "x"))


def test_filter_drops_executions():
    t = parse("C T\n{ }\nP0 (atomic_int* x) { atomic_store(x, 1); }\n"
              "P1 (atomic_int* x) { int r0 = atomic_load(x); }\nfilter (1:r0=1)\nforall (1:r0=1)\n")
    r = sc_result(t)
    assert r.states == {(1,): 1} and r.observation == "Always"


def test_expectation_comment():
    t = parse("C T\n(* expect: rc11=Sometimes sc=Never *)\n{ }\nP0 (atomic_int* x) { atomic_store(x, 1); }\nexists (x=1)\n")
    assert dict(t.expectations) == {"rc11": "Sometimes", "sc": "Never"}
    t = parse("C T\n(* expect: rc11=Sometimes+Undef sc=Never *)\n{ }\nP0 (atomic_int* x) { atomic_store(x, 1); }\nexists (x=1)\n")
    assert dict(t.expectations) == {"rc11": "Sometimes+Undef", "sc": "Never"}


# --------------------------------------------------------------------------
# Errors: each names the file, the line and the construct.
# --------------------------------------------------------------------------

HEAD = "C T\n{ }\nP0 (atomic_int* x, int* y) {\n"  # the body starts on line 4
TAIL = "}\nexists (x=0)\n"

ERRORS = [
    ("  while (1) { }\n", 4, "unsupported construct 'while'"),
    ("  for (;;) { }\n", 4, "unsupported construct 'for'"),
    ("  int r0 = atomic_fetch_nand_explicit(x, 1, memory_order_relaxed);\n", 4, "unsupported function 'atomic_fetch_nand_explicit'"),
    ("  int r0 = atomic_load_explicit(x, memory_order_consume);\n", 4, "memory_order_consume is not supported"),
    ("  int r0 = atomic_load_explicit(x, memory_order_weird);\n", 4, "unknown memory order 'memory_order_weird'"),
    ("  int r0 = atomic_load_explicit(x, memory_order_release);\n", 4, "a load cannot have memory order release"),
    ("  atomic_store_explicit(x, 1, memory_order_acquire);\n", 4, "a store cannot have memory order acquire"),
    ("  int e = 0;\n  int ok = atomic_compare_exchange_strong_explicit(x, &e, 1, memory_order_acq_rel, memory_order_release);\n",
     5, "failure order cannot be release"),
    ("  int ok = atomic_compare_exchange_strong(x, 0, 1);\n", 4, "expected '&'"),
    ("  int ok = atomic_compare_exchange_strong(x, q, 1);\n", 4, "expected '&'"),
    ("  int e = 0;\n  int ok = atomic_compare_exchange_strong(x, &q, 1);\n", 5, "register 'q' is used before it is declared"),
    ("  int r0 = r9 + 1;\n", 4, "register 'r9' is used before it is declared"),
    ("  int r0 = atomic_load(z);\n", 4, "'z' is not a location parameter of this process"),
    ("  int r0 = x;\n", 4, "location 'x' used as a value"),
    ("  int r0 = &x;\n", 4, "'&' is only supported as the expected-value argument"),
    ("  int* p = x;\n", 4, "pointer-typed registers are not supported"),
    ("  int r0 = 1 / 2;\n", 4, "unsupported operator '/'"),
    ("  int r0 = 1 @ 2;\n", 4, "unexpected character '@'"),
    ("  int r0 = atomic_load(x)\n  int r1 = 0;\n", 5, "expected ';' ending the declaration"),
    ("  int r0 = *y;\n  atomic_store(y, 1);\n", 4, "location 'y' is accessed both non-atomically here and atomically at line 5"),
    ("  x = 1;\n", 4, "'x' is a location parameter, not a register"),
    ("  int r0 = 0; /* unterminated\n", 4, "unterminated comment '/*'"),
    ("  int r0 = atomic_store(x, 1);\n", 4, "atomic_store returns no value: it can only be a statement"),
    ("  int r0 = 1 + atomic_thread_fence(memory_order_seq_cst);\n", 4, "atomic_thread_fence returns no value"),
    ("  if (atomic_store_explicit(x, 1, memory_order_relaxed)) { }\n", 4, "atomic_store_explicit returns no value"),
]


@pytest.mark.parametrize("body, line, message", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_errors_name_file_line_and_construct(body, line, message):
    with pytest.raises(LitmusError) as info:
        parse(HEAD + body + TAIL)
    assert info.value.filename == "t.litmus"
    assert info.value.line == line, str(info.value)
    assert message in str(info.value)
    assert str(info.value).startswith(f"t.litmus:{line}: ")


WHOLE_FILE_ERRORS = [
    ("", 1, "empty file"),
    ("AArch64 T\n{ }\n", 1, "only C litmus tests are supported; the header names architecture 'AArch64'"),
    ("C T\n{ x = y; }\nP0 (atomic_int* x) { }\nexists (x=0)\n", 2, "initial value of 'x' must be an integer"),
    ("C T\n{ x = 0; x = 1; }\nP0 (atomic_int* x) { }\nexists (x=0)\n", 2, "location 'x' is initialised twice"),
    ("C T\n{ x = 0;\n", 2, "initial state block opened here is not closed"),
    ("C T\n{ }\nP1 (atomic_int* x) { }\nexists (x=0)\n", 3, "processes must be numbered in order: expected P0, found P1"),
    ("C T\n{ }\nP0 (atomic_int x) { }\nexists (x=0)\n", 3, "expected '*' (parameters are pointers to shared locations)"),
    ("C T\n{ }\nP0 (atomic_int* x) { }\n", 3, "missing final condition"),
    ("C T\n{ }\nexists (x=0)\n", 3, "expected at least one process"),
    ("C T\n{ }\nP0 (atomic_int* x) { }\nexists (1:r0=0)\n", 3, "there is no process P1"),
    ("C T\n{ }\nP0 (atomic_int* x) { }\nexists (0:r0=0)\n", 3, "P0 has no register 'r0'"),
    ("C T\n{ }\nP0 (atomic_int* x) { }\nexists (z=0)\n", 3, "condition names location 'z'"),
    ("C T\n{ }\nP0 (atomic_int* x) { }\nexists (x<1)\n", 4, "expected '=' or '!=' after [x]"),
    ("C T\n{ }\nP0 (atomic_int* x) { }\nexists (x=1)\nbogus\n", 5, "unexpected 'bogus' after the processes"),
    ("C T\nwhat\n{ }\n", 2, "expected the initial state block"),
    ("C T\n{ }\nP0 (atomic_int* x) { }\n(* unterminated\nexists (x=0)\n", 4, "unterminated comment '(*'"),
]


@pytest.mark.parametrize("text, line, message", WHOLE_FILE_ERRORS, ids=[e[2][:40] for e in WHOLE_FILE_ERRORS])
def test_whole_file_errors(text, line, message):
    with pytest.raises(LitmusError) as info:
        parse(text)
    assert info.value.line == line, str(info.value)
    assert message in str(info.value)


def test_every_suite_file_parses():
    folder = os.path.join(os.path.dirname(__file__), "litmus")
    names = sorted(f for f in os.listdir(folder) if f.endswith(".litmus"))
    assert len(names) >= 40
    for name in names:
        with open(os.path.join(folder, name)) as fh:
            t = parse_litmus(fh.read(), name)
        assert t.name + ".litmus" == name
        assert dict(t.expectations).keys() == {"rc11", "sc"}, name
