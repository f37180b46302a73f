"""Parser for herdtools7's C litmus dialect: text -> ``LitmusTest``.

A hand-written tokenizer and recursive-descent parser for the subset velox runs
(see docs/litmus.md). Anything outside it raises ``LitmusError`` naming the file,
the line and the construct; the parser never guesses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .ast import (
    ORDERS,
    Access,
    And,
    Assign,
    Atom,
    BinOp,
    Condition,
    Const,
    Expr,
    ExprStmt,
    If,
    Implies,
    LitmusError,
    LitmusTest,
    Loc,
    Not,
    Or,
    Process,
    Prop,
    Reg,
    Stmt,
    UnOp,
    prop_locations,
)

# --------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # "name", "num", "str", "op", "eof"
    text: str
    line: int


_PUNCT = [
    "/\\", "\\/", "==", "!=", "&&", "||", "<=", ">=", "=>", "->",
    "{", "}", "(", ")", "[", "]", ";", ",", "=", "*", "&", "+", "-", "^",
    "!", "~", ":", "<", ">", "|", "%", "/", ".",
]
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_NUM_RE = re.compile(r"0[xX][0-9a-fA-F]+|[0-9]+")


def _c_integer(text: str) -> int | None:
    """A C integer literal's value (0x.. hexadecimal, 0.. octal, else decimal); None if malformed."""
    if text[:2] in ("0x", "0X"):
        return int(text, 16)
    if len(text) > 1 and text[0] == "0":
        return int(text, 8) if all(c in "01234567" for c in text) else None
    return int(text)


def tokenize(text: str, filename: str, first_line: int = 1) -> list[Token]:
    """Split litmus text into tokens, dropping ``(* *)``, ``/* */`` and ``//`` comments."""
    tokens: list[Token] = []
    i, line, n = 0, first_line, len(text)
    # Inside a process body herd's C lexer knows only /* */ and // comments: "(*x)" there is code.
    depth, in_body, last_name = 0, False, ""
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif text.startswith("(*", i) and not in_body:
            nest, start_line = 0, line
            while i < n:
                if text.startswith("(*", i):
                    nest += 1
                    i += 2
                elif text.startswith("*)", i):
                    nest -= 1
                    i += 2
                    if nest == 0:
                        break
                else:
                    line += text[i] == "\n"
                    i += 1
            if nest:
                raise LitmusError(filename, start_line, "unterminated comment '(*'")
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise LitmusError(filename, line, "unterminated comment '/*'")
            line += text.count("\n", i, end)
            i = end + 2
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif c == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise LitmusError(filename, line, "unterminated string")
            tokens.append(Token("str", text[i + 1:end], line))
            line += text.count("\n", i, end)
            i = end + 1
        elif c.isascii() and c.isdigit():  # str.isdigit/isalpha also accept non-ASCII digits and letters
            m = _NUM_RE.match(text, i)
            assert m is not None
            tokens.append(Token("num", m.group(), line))
            i = m.end()
        elif (c.isascii() and c.isalpha()) or c == "_":
            m = _NAME_RE.match(text, i)
            assert m is not None
            tokens.append(Token("name", m.group(), line))
            if depth == 0 and len(tokens) > 2:  # not the test's name in the header
                last_name = m.group() if re.fullmatch(r"P\d+", m.group()) else last_name
            i = m.end()
        else:
            for p in _PUNCT:
                if text.startswith(p, i):
                    tokens.append(Token("op", p, line))
                    i += len(p)
                    if p == "{":
                        if depth == 0:
                            in_body, last_name = bool(last_name), ""
                        depth += 1
                    elif p == "}" and depth > 0:
                        depth -= 1
                        in_body = in_body and depth > 0
                    break
            else:
                raise LitmusError(filename, line, f"unexpected character {c!r}")
    tokens.append(Token("eof", "end of file", line))
    return tokens


# --------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------

_TYPE_WORDS = {
    "int", "long", "short", "char", "unsigned", "signed", "volatile", "const",
    "_Atomic", "atomic_int", "atomic_long", "atomic_uint", "atomic_ulong", "atomic_llong",
    "intptr_t", "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t",
    "uint32_t", "uint64_t", "atomic_intptr_t", "__int128", "__int128_t", "__uint128_t",
}
_UNSUPPORTED_STATEMENTS = {
    "while", "for", "do", "goto", "return", "switch", "break", "continue", "case",
    "spin_lock", "spin_unlock", "lock", "unlock",
}
_CALLS = {
    # name: (kind, number of value args, explicit orders)
    "atomic_load_explicit": ("load", 0, 1),
    "atomic_load": ("load", 0, 0),
    "atomic_store_explicit": ("store", 1, 1),
    "atomic_store": ("store", 1, 0),
    "atomic_fetch_add_explicit": ("fetch_add", 1, 1),
    "atomic_fetch_add": ("fetch_add", 1, 0),
    "atomic_fetch_sub_explicit": ("fetch_sub", 1, 1),
    "atomic_fetch_sub": ("fetch_sub", 1, 0),
    "atomic_fetch_or_explicit": ("fetch_or", 1, 1),
    "atomic_fetch_or": ("fetch_or", 1, 0),
    "atomic_fetch_and_explicit": ("fetch_and", 1, 1),
    "atomic_fetch_and": ("fetch_and", 1, 0),
    "atomic_fetch_xor_explicit": ("fetch_xor", 1, 1),
    "atomic_fetch_xor": ("fetch_xor", 1, 0),
    "atomic_exchange_explicit": ("exchange", 1, 1),
    "atomic_exchange": ("exchange", 1, 0),
    "atomic_compare_exchange_strong_explicit": ("cas_strong", 1, 2),
    "atomic_compare_exchange_strong": ("cas_strong", 1, 0),
    "atomic_compare_exchange_weak_explicit": ("cas_weak", 1, 2),
    "atomic_compare_exchange_weak": ("cas_weak", 1, 0),
    "atomic_thread_fence": ("fence", 0, 1),
}
_VOID_KINDS = ("store", "fence")
_BINARY_PRECEDENCE = {
    "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6,
    "<": 7, ">": 7, "<=": 7, ">=": 7, "+": 8, "-": 8, "*": 9, "/": 9, "%": 9,
}
_EXPECT_RE = re.compile(r"\(\*\s*expect\s*:(?P<body>[^*]*)\*\)")
_EXPECT_ITEM_RE = re.compile(r"(rc11|sc)\s*=\s*((?:Always|Sometimes|Never)(?:\+Undef)?)")


#: Most nested blocks, parentheses and unary operators one construct may have.
MAX_NESTING = 100


class _Parser:
    def __init__(self, tokens: list[Token], filename: str) -> None:
        self._depth = 0
        self.toks = tokens
        self.pos = 0
        self.filename = filename

    # token helpers -------------------------------------------------------
    def _enter(self) -> None:
        """One more level of nesting (blocks, parentheses, unary operators):
        deeper than MAX_NESTING is an error, not a RecursionError."""
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise self.error(f"nesting deeper than {MAX_NESTING} levels (blocks, parentheses or unary operators); "
                             "velox's litmus subset stops there")

    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.pos + k, len(self.toks) - 1)]

    def next(self) -> Token:
        tok = self.peek()
        self.pos += 1
        return tok

    def at(self, text: str, k: int = 0) -> bool:
        tok = self.peek(k)
        return tok.kind in ("op", "name") and tok.text == text

    def error(self, message: str, tok: Token | None = None) -> LitmusError:
        tok = tok or self.peek()
        return LitmusError(self.filename, tok.line, message)

    def expect(self, text: str, what: str = "") -> Token:
        tok = self.peek()
        if not self.at(text):
            raise self.error(f"expected '{text}'{what}, found {_show(tok)}")
        return self.next()

    def name(self, what: str) -> Token:
        tok = self.peek()
        if tok.kind != "name":
            raise self.error(f"expected {what}, found {_show(tok)}")
        return self.next()

    def integer(self, what: str) -> int:
        neg = False
        if self.at("-"):
            self.next()
            neg = True
        tok = self.peek()
        if tok.kind != "num":
            raise self.error(f"expected {what} (an integer), found {_show(tok)}")
        value = _c_integer(tok.text)
        if value is None:
            raise self.error(f"invalid octal literal {tok.text!r} in {what} (a leading 0 means octal in C)")
        self.next()
        return -value if neg else value

    # init block ------------------------------------------------------------
    def parse_init(self) -> tuple[dict[str, int], dict[tuple[int, str], int], set[str]]:
        start = self.expect("{", " opening the initial state")
        globals_: dict[str, int] = {}
        regs: dict[tuple[int, str], int] = {}
        atomic: set[str] = set()
        while not self.at("}"):
            if self.peek().kind == "eof":
                raise self.error("initial state block opened here is not closed by '}'", start)
            tok = self.peek()
            if tok.kind == "num" and self.at(":", 1):
                proc = int(self.next().text)
                self.next()
                reg = self.name("a register name").text
                self.expect("=", f" after {proc}:{reg}")
                regs[(proc, reg)] = self.integer(f"the initial value of {proc}:{reg}")
            else:
                type_words: list[str] = []
                while self.peek().kind == "name" and self.peek().text in _TYPE_WORDS:
                    type_words.append(self.next().text)
                if self.at("*"):
                    raise self.error("pointer-valued locations are not supported in the initial state")
                bracket = self.at("[")
                if bracket:
                    self.next()
                loc_tok = self.name("a location name in the initial state")
                if bracket:
                    self.expect("]")
                loc = loc_tok.text
                if self.at("["):
                    raise self.error(f"array location '{loc}[...]' is not supported")
                value = 0
                if self.at("="):
                    self.next()
                    if self.peek().kind == "name":
                        raise self.error(
                            f"initial value of '{loc}' must be an integer, found {_show(self.peek())}"
                            " (pointers and macros such as ATOMIC_INIT are not supported)"
                        )
                    value = self.integer(f"the initial value of '{loc}'")
                if loc in globals_:
                    raise self.error(f"location '{loc}' is initialised twice", loc_tok)
                globals_[loc] = value
                if any(w.startswith("atomic_") or w == "_Atomic" for w in type_words):
                    atomic.add(loc)
            if self.at(";"):
                self.next()
            elif not self.at("}"):
                raise self.error(f"expected ';' or '}}' in the initial state, found {_show(self.peek())}")
        self.next()
        return globals_, regs, atomic

    # processes -------------------------------------------------------------
    def parse_process(self, expected_pid: int) -> Process:
        tok = self.name("a process 'P0 (...) { ... }'")
        m = re.fullmatch(r"P(\d+)", tok.text)
        if not m:
            raise self.error(f"expected a process 'P{expected_pid} (...)', found {_show(tok)}", tok)
        pid = int(m.group(1))
        if pid != expected_pid:
            raise self.error(f"processes must be numbered in order: expected P{expected_pid}, found {tok.text}", tok)
        self.expect("(", f" after {tok.text}")
        params: list[tuple[str, bool]] = []
        while not self.at(")"):
            type_words: list[str] = []
            while self.peek().kind == "name" and self.peek().text in _TYPE_WORDS:
                type_words.append(self.next().text)
            if not type_words:
                raise self.error(f"expected a parameter type such as 'atomic_int*', found {_show(self.peek())}")
            self.expect("*", " (parameters are pointers to shared locations)")
            pname = self.name("a parameter name").text
            params.append((pname, any(w.startswith("atomic_") or w == "_Atomic" for w in type_words)))
            if self.at(","):
                self.next()
            elif not self.at(")"):
                raise self.error(f"expected ',' or ')' in the parameter list, found {_show(self.peek())}")
        self.next()
        self._params = {p for p, _ in params}
        self._regs: list[str] = []
        self._declared: set[str] = set()
        body = self.parse_block()
        return Process(pid, tuple(params), body, tuple(self._regs), tok.line)

    def parse_block(self) -> tuple[Stmt, ...]:
        self._enter()
        try:
            return self._parse_block()
        finally:
            self._depth -= 1

    def _parse_block(self) -> tuple[Stmt, ...]:
        open_tok = self.expect("{")
        stmts: list[Stmt] = []
        while not self.at("}"):
            if self.peek().kind == "eof":
                raise self.error(f"process body opened at line {open_tok.line} is not closed by '}}'")
            tok = self.peek()
            if (tok.kind == "name" and (tok.text in _AFTER_PROCESSES
                                        or (re.fullmatch(r"P\d+", tok.text) and self.at("(", 1)))) or (
                    tok.text == "~" and self.at("exists", 1)):
                raise self.error(f"block opened at line {open_tok.line} is not closed by '}}' before "
                                 f"'{tok.text}'", tok)
            stmts.extend(self.parse_statement())
        self.next()
        return tuple(stmts)

    def parse_branch(self) -> tuple[Stmt, ...]:
        if self.at("{"):
            return self.parse_block()
        return tuple(self.parse_statement())

    def declare(self, reg: Token) -> None:
        if reg.text in self._params:
            raise self.error(f"'{reg.text}' is a location parameter, not a register", reg)
        self._declared.add(reg.text)
        if reg.text not in self._regs:
            self._regs.append(reg.text)

    def parse_statement(self) -> list[Stmt]:
        self._enter()
        try:
            return self._parse_statement()
        finally:
            self._depth -= 1

    def _parse_statement(self) -> list[Stmt]:
        tok = self.peek()
        if tok.kind == "name" and tok.text in _UNSUPPORTED_STATEMENTS:
            raise self.error(f"unsupported construct '{tok.text}' (loops, jumps and locks are not in velox's litmus subset)")
        if self.at(";"):
            self.next()
            return []
        if self.at("{"):
            return list(self.parse_block())
        if self.at("if"):
            self.next()
            self.expect("(", " after 'if'")
            cond = self.parse_expr()
            self.expect(")", " closing the 'if' condition")
            then = self.parse_branch()
            orelse: tuple[Stmt, ...] = ()
            if self.at("else"):
                self.next()
                orelse = self.parse_branch()
            return [If(cond, then, orelse, tok.line)]
        if tok.kind == "name" and tok.text in _TYPE_WORDS:
            while self.peek().kind == "name" and self.peek().text in _TYPE_WORDS:
                self.next()
            if self.at("*"):
                raise self.error("pointer-typed registers are not supported")
            out: list[Stmt] = []
            while True:
                reg = self.name("a register name in a declaration")
                self.declare(reg)
                expr: Expr = Const(0)
                if self.at("="):
                    self.next()
                    expr = self.parse_expr()
                out.append(Assign(reg.text, expr, reg.line))
                if self.at(","):
                    self.next()
                    continue
                break
            self.expect(";", " ending the declaration")
            return out
        if self.at("*") and self.peek(1).kind == "name" and self.at("=", 2):
            self.next()
            loc = self.location(self.next())
            self.next()
            value = self.parse_expr()
            self.expect(";", " ending the store")
            return [ExprStmt(Access("write", loc, tok.line, value=value), tok.line)]
        if tok.kind == "name" and self.at("=", 1):
            reg = self.next()
            self.next()
            expr = self.parse_expr()
            self.expect(";", " ending the assignment")
            self.declare(reg)
            return [Assign(reg.text, expr, reg.line)]
        if tok.kind == "name" and _CALLS.get(tok.text, ("",))[0] in _VOID_KINDS and self.at("(", 1):
            self.next()
            expr = self.parse_call(tok, void_ok=True)
        else:
            expr = self.parse_expr()
        self.expect(";", " ending the statement")
        return [ExprStmt(expr, tok.line)]

    def location(self, tok: Token) -> str:
        if tok.kind != "name" or tok.text not in self._params:
            raise self.error(f"{_show(tok)} is not a location parameter of this process", tok)
        return tok.text

    # expressions -----------------------------------------------------------
    def parse_expr(self, min_prec: int = 1) -> Expr:
        self._enter()
        try:
            return self._parse_expr(min_prec)
        finally:
            self._depth -= 1

    def _parse_expr(self, min_prec: int = 1) -> Expr:
        left = self.parse_unary()
        while True:
            tok = self.peek()
            prec = _BINARY_PRECEDENCE.get(tok.text) if tok.kind == "op" else None
            if prec is None or prec < min_prec:
                return left
            if tok.text in ("/", "%", "|", "&") and tok.text not in _SUPPORTED_BINOPS:
                raise self.error(f"unsupported operator '{tok.text}'")
            self.next()
            right = self.parse_expr(prec + 1)
            left = BinOp(tok.text, left, right)

    def parse_unary(self) -> Expr:
        self._enter()
        try:
            return self._parse_unary()
        finally:
            self._depth -= 1

    def _parse_unary(self) -> Expr:
        tok = self.peek()
        if self.at("!") or self.at("-"):
            self.next()
            return UnOp(tok.text, self.parse_unary())
        if self.at("*"):
            self.next()
            loc = self.location(self.next())
            return Access("read", loc, tok.line)
        if self.at("&"):
            raise self.error("'&' is only supported as the expected-value argument of a compare-exchange")
        if self.at("("):
            self.next()
            e = self.parse_expr()
            self.expect(")")
            return e
        if tok.kind == "num":
            value = _c_integer(tok.text)
            if value is None:
                raise self.error(f"invalid octal literal {tok.text!r} (a leading 0 means octal in C)")
            self.next()
            return Const(value)
        if tok.kind == "name":
            self.next()
            if self.at("("):
                return self.parse_call(tok)
            if tok.text in self._params:
                raise self.error(f"location '{tok.text}' used as a value; read it with '*{tok.text}' or atomic_load_explicit", tok)
            if tok.text not in self._declared:
                raise self.error(f"register '{tok.text}' is used before it is declared or assigned", tok)
            return Reg(tok.text, tok.line)
        raise self.error(f"expected an expression, found {_show(tok)}")

    def parse_call(self, fn: Token, void_ok: bool = False) -> Expr:
        if fn.text not in _CALLS:
            raise self.error(f"unsupported function '{fn.text}'", fn)
        kind, nvalues, norders = _CALLS[fn.text]
        if kind in _VOID_KINDS and not void_ok:
            raise self.error(f"{fn.text} returns no value: it can only be a statement of its own", fn)
        self.expect("(")
        loc = ""
        if kind != "fence":
            loc = self.location(self.next())
            if nvalues or norders or kind.startswith("cas"):
                self.expect(",", f" after the location in {fn.text}")
        expected_reg = expected_loc = ""
        if kind.startswith("cas"):
            if self.peek().kind == "name" and self.peek().text in self._params:
                # herd's form: the expected value lives in a shared location (a pointer parameter)
                expected_loc = self.location(self.next())
            else:
                self.expect("&", f": the expected value of {fn.text} is a pointer to a register, as in C, "
                                 "or a location parameter")
                reg = self.name("a register after '&'")
                if reg.text not in self._declared:
                    raise self.error(f"register '{reg.text}' is used before it is declared or assigned", reg)
                expected_reg = reg.text
            self.expect(",")
        value: Expr | None = None
        if nvalues:
            value = self.parse_expr()
            if norders:
                self.expect(",", f" before the memory order of {fn.text}")
        orders: list[str] = []
        for i in range(norders):
            otok = self.name("a memory order such as memory_order_relaxed")
            if otok.text == "memory_order_consume":
                raise self.error("memory_order_consume is not supported (RC11 has no consume; use memory_order_acquire)", otok)
            if otok.text not in ORDERS:
                raise self.error(f"unknown memory order '{otok.text}'", otok)
            orders.append(ORDERS[otok.text])
            if i + 1 < norders:
                self.expect(",")
        self.expect(")", f" closing {fn.text}")
        if not orders:
            orders = ["seq_cst"] * max(norders, 2)
        order = orders[0]
        failure = orders[1] if len(orders) > 1 else "seq_cst"
        _check_orders(self, fn, kind, order, failure)
        return Access(kind, loc, fn.line, value=value, order=order, failure_order=failure, expected_reg=expected_reg,
                      expected_loc=expected_loc)

    # conditions ------------------------------------------------------------
    def parse_prop(self) -> Prop:
        left = self.parse_or()
        if self.at("=>"):
            self.next()
            return Implies(left, self.parse_prop())
        return left

    def parse_or(self) -> Prop:
        props = [self.parse_and()]
        while self.at("\\/"):
            self.next()
            props.append(self.parse_and())
        return props[0] if len(props) == 1 else Or(tuple(props))

    def parse_and(self) -> Prop:
        props = [self.parse_not()]
        while self.at("/\\"):
            self.next()
            props.append(self.parse_not())
        return props[0] if len(props) == 1 else And(tuple(props))

    def parse_not(self) -> Prop:
        self._enter()
        try:
            return self._parse_not()
        finally:
            self._depth -= 1

    def _parse_not(self) -> Prop:
        if self.at("~") or self.at("not"):
            self.next()
            return Not(self.parse_not())
        if self.at("("):
            self.next()
            p = self.parse_prop()
            self.expect(")", " closing the condition")
            return p
        if self.at("true"):
            self.next()
            return And(())
        if self.at("false"):
            self.next()
            return Or(())
        loc = self.parse_cond_loc()
        tok = self.peek()
        if self.at("="):
            self.next()
        elif self.at("!="):
            self.next()
        else:
            raise self.error(f"expected '=' or '!=' after {loc} in the condition, found {_show(tok)}")
        value: int | Loc
        if self.peek().kind == "num" or self.at("-"):
            value = self.integer(f"a value for {loc}")
        else:
            value = self.parse_cond_loc()
        atom = Atom(loc, value)
        return Not(atom) if tok.text == "!=" else atom

    def parse_cond_loc(self) -> Loc:
        tok = self.peek()
        if tok.kind == "num" and self.at(":", 1):
            proc = int(self.next().text)
            self.next()
            reg = self.name(f"a register of P{proc}").text
            return Loc(proc, reg)
        if self.at("["):
            self.next()
            name = self.name("a location name").text
            self.expect("]")
            return Loc(-1, name)
        if tok.kind == "name":
            self.next()
            return Loc(-1, tok.text)
        raise self.error(f"expected a location such as '1:r0' or 'x' in the condition, found {_show(tok)}")


_SUPPORTED_BINOPS = {"||", "&&", "^", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "&", "|"}


def _check_orders(p: _Parser, fn: Token, kind: str, order: str, failure: str) -> None:
    """Reject the order combinations C11 makes undefined, with a message saying why."""
    if kind == "load" and order in ("release", "acq_rel"):
        raise p.error(f"{fn.text}: a load cannot have memory order {order}", fn)
    if kind == "store" and order in ("acquire", "acq_rel"):
        raise p.error(f"{fn.text}: a store cannot have memory order {order}", fn)
    if kind.startswith("cas"):
        if failure in ("release", "acq_rel"):
            raise p.error(f"{fn.text}: the failure order cannot be {failure} (a failed compare-exchange is a load)", fn)
        # A failure order stronger than the success order is accepted, as herd and C++17 do.


def _show(tok: Token) -> str:
    return "end of file" if tok.kind == "eof" else f"'{tok.text}'"


#: Words that start what follows the processes: a process body still open when
#: one of them appears is missing its closing brace.
_AFTER_PROCESSES = frozenset({"exists", "forall", "locations", "filter"})

_HEADER_RE = re.compile(r"\s*C\s+(\S+)\s*$")


def decode_litmus(data: bytes, filename: str = "<litmus>") -> str:
    """The text of a litmus file, or a LitmusError naming the line of the
    first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise LitmusError(filename, line, f"not a text file: byte {data[e.start]:#04x} at offset {e.start} is not "
                                          "UTF-8") from None


def parse_litmus(text: str, filename: str = "<litmus>") -> LitmusTest:
    """Parse one herdtools7 C litmus test; raise ``LitmusError`` on anything unsupported."""
    lines = text.splitlines()
    header_idx = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if header_idx is None:
        raise LitmusError(filename, 1, "empty file: expected a header 'C NAME'")
    m = _HEADER_RE.match(lines[header_idx])
    if not m:
        first = lines[header_idx].split()[0]
        if first != "C":
            raise LitmusError(filename, header_idx + 1, f"only C litmus tests are supported; the header names architecture '{first}'")
        raise LitmusError(filename, header_idx + 1, "expected a header 'C NAME'")
    name = m.group(1)
    body = "\n".join(lines[header_idx + 1:])
    expectations: list[tuple[str, str]] = []
    for em in _EXPECT_RE.finditer(body):
        expectations.extend(_EXPECT_ITEM_RE.findall(em.group("body")))
    p = _Parser(tokenize(body, filename, header_idx + 2), filename)

    doc_parts: list[str] = []
    info: list[tuple[str, str]] = []
    while not p.at("{"):
        tok = p.peek()
        if tok.kind == "str":
            doc_parts.append(p.next().text)
        elif tok.kind == "name" and p.at("=", 1):
            key = p.next().text
            p.next()
            vals = []
            while p.peek().line == tok.line and p.peek().kind != "eof":
                vals.append(p.next().text)
            info.append((key, "".join(vals)))
        else:
            raise p.error(f"expected the initial state block '{{ ... }}', found {_show(tok)}")
    globals_, reg_init, atomic = p.parse_init()

    processes: list[Process] = []
    while p.peek().kind == "name" and re.fullmatch(r"P\d+", p.peek().text):
        processes.append(p.parse_process(len(processes)))
    if not processes:
        raise p.error(f"expected at least one process 'P0 (...) {{ ... }}', found {_show(p.peek())}")

    locations: list[Loc] = []
    filt: Prop | None = None
    condition: Condition | None = None
    while p.peek().kind != "eof":
        tok = p.peek()
        if p.at("locations"):
            p.next()
            p.expect("[", " after 'locations'")
            while not p.at("]"):
                locations.append(p.parse_cond_loc())
                if p.at(";"):
                    p.next()
                elif not p.at("]"):
                    raise p.error(f"expected ';' or ']' in 'locations', found {_show(p.peek())}")
            p.next()
        elif p.at("filter"):
            p.next()
            filt = p.parse_prop()
        elif p.at("regions") and p.at(":", 1):
            # herd's memory-region attributes ('regions: x:PROP'): no meaning for C11, skipped as herd's C
            # models do.
            p.next()
            p.next()
            while p.peek().kind != "eof" and not any(p.at(k) for k in ("locations", "filter", "exists", "forall", "~")):
                p.next()
        elif condition is None and (p.at("exists") or p.at("forall") or (p.at("~") and p.at("exists", 1))):
            quant = "forall" if p.at("forall") else "exists"
            if p.at("~"):
                p.next()
                quant = "~exists"
            p.next()
            condition = Condition(quant, p.parse_prop())
        else:
            raise p.error(f"unexpected {_show(tok)} after the processes (expected 'locations', 'filter', 'exists', '~exists' or 'forall')")
    if condition is None:
        raise p.error("missing final condition ('exists', '~exists' or 'forall')")

    # Every location a process uses must exist globally; undeclared ones start at 0, as in herd.
    for proc in processes:
        for loc, is_atomic in proc.params:
            globals_.setdefault(loc, 0)
            if is_atomic:
                atomic.add(loc)
    _check_locations(filename, processes, globals_, atomic, [*locations, *prop_locations(condition.prop)]
                     + (list(prop_locations(filt)) if filt else []), reg_init)
    return LitmusTest(
        name=name, filename=filename, doc=" ".join(doc_parts), info=tuple(info),
        init=tuple(sorted(globals_.items())),
        register_init=tuple(sorted((pr, r, v) for (pr, r), v in reg_init.items())),
        atomic_locations=frozenset(atomic | _atomically_accessed(processes)),
        processes=tuple(processes), locations=tuple(locations), filter=filt,
        condition=condition, expectations=tuple(expectations),
    )


def _walk_accesses(stmts: Iterable[Stmt]) -> Iterable[Access]:
    def expr(e: Any) -> Iterable[Access]:
        if isinstance(e, Access):
            yield e
            if e.value is not None:
                yield from expr(e.value)
        elif isinstance(e, BinOp):
            yield from expr(e.left)
            yield from expr(e.right)
        elif isinstance(e, UnOp):
            yield from expr(e.operand)

    for s in stmts:
        if isinstance(s, If):
            yield from expr(s.cond)
            yield from _walk_accesses(s.then)
            yield from _walk_accesses(s.orelse)
        else:
            yield from expr(s.expr)


def _atomically_accessed(processes: Iterable[Process]) -> set[str]:
    return {a.loc for pr in processes for a in _walk_accesses(pr.body) if a.kind not in ("read", "write", "fence")}


def _check_locations(filename: str, processes: list[Process], globals_: dict[str, int], atomic: set[str],
                     cond_locs: list[Loc], reg_init: dict[tuple[int, str], int]) -> None:
    """Reject plain accesses to atomically accessed locations declared non-atomic, and unknown names."""
    atomic_ops = {}
    for pr in processes:
        for a in _walk_accesses(pr.body):
            if a.kind not in ("read", "write", "fence"):
                atomic_ops.setdefault(a.loc, a.line)
    for pr in processes:
        for a in _walk_accesses(pr.body):
            if a.kind in ("read", "write") and a.loc in atomic_ops and a.loc not in atomic:
                raise LitmusError(
                    filename, a.line,
                    f"location '{a.loc}' is accessed both non-atomically here and atomically at line "
                    f"{atomic_ops[a.loc]}; declare it atomic_int (then '*{a.loc}' is a seq_cst access) "
                    "or use atomic operations only (mixed accesses are not supported)",
                )
    for loc in cond_locs:
        if loc.proc >= 0:
            if loc.proc >= len(processes):
                raise LitmusError(filename, processes[-1].line, f"condition names {loc} but there is no process P{loc.proc}")
            if loc.name not in processes[loc.proc].registers and (loc.proc, loc.name) not in reg_init:
                raise LitmusError(filename, processes[loc.proc].line, f"condition names {loc} but P{loc.proc} has no register '{loc.name}'")
        elif loc.name not in globals_:
            raise LitmusError(filename, processes[-1].line, f"condition names location '{loc.name}', which no process uses and the initial state does not declare")
