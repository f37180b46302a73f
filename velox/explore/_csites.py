"""Source positions of instrumented C accesses, and the C expression at each.

gcc records, for every access it instruments, the line and column of the
expression (the ``=`` of an assignment, the ``[`` of a subscript, the ``->``
of a member access). ``expression_at`` recovers the accessed lvalue from the
source line around that column (``m->price``, ``q->slots[i]``, ``*out``), so a
race report names the C expression, not an address. When the text around the
column is not an expression it recognises, it names the statement instead.
"""

from __future__ import annotations

import functools
import os

_IDENT = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_PAIRS = {"]": "[", ")": "("}
_OPENERS = {"[": "]", "(": ")"}


@functools.lru_cache(maxsize=256)
def _lines(path: str) -> tuple[str, ...]:
    try:
        with open(path, errors="replace") as f:
            return tuple(f.read().splitlines())
    except OSError:
        return ()


def source_line(path: str, line: int) -> str | None:
    lines = _lines(path)
    return lines[line - 1] if 0 < line <= len(lines) else None


def _match_back(s: str, close: int) -> int | None:
    opener, depth = _PAIRS[s[close]], 0
    for j in range(close, -1, -1):
        if s[j] == s[close]:
            depth += 1
        elif s[j] == opener:
            depth -= 1
            if depth == 0:
                return j
    return None


def _match_fwd(s: str, open_: int) -> int | None:
    closer, depth = _OPENERS[s[open_]], 0
    for j in range(open_, len(s)):
        if s[j] == s[open_]:
            depth += 1
        elif s[j] == closer:
            depth -= 1
            if depth == 0:
                return j
    return None


def _left(s: str, end: int) -> int:
    """Start of the postfix expression (with unary * and &) that ends just before ``end``."""
    i = end
    while i > 0 and s[i - 1] == " ":
        i -= 1
    start = i
    while i > 0:
        c = s[i - 1]
        if c in _PAIRS:
            j = _match_back(s, i - 1)
            if j is None:
                break
            i = j
            if c == "]" or (i > 0 and (s[i - 1] in _IDENT or s[i - 1] in ")]")):
                continue  # a subscript or a call: its operand comes next
            start = i  # a parenthesised primary
        elif c in _IDENT:
            while i > 0 and s[i - 1] in _IDENT:
                i -= 1
            start = i
        else:
            break
        if i >= 2 and s[i - 2:i] == "->":
            i -= 2
        elif i >= 1 and s[i - 1] == ".":
            i -= 1
        else:
            break
    while start > 0 and s[start - 1] in "*&" and (start < 2 or s[start - 2] not in _IDENT | {")", "]"}):
        start -= 1
    return start


def _ident_end(s: str, i: int) -> int:
    while i < len(s) and s[i] in _IDENT:
        i += 1
    return i


def _right(s: str, i: int) -> int:
    """End of the postfix expression whose primary starts at ``i``."""
    while i < len(s) and s[i] in "*&":
        i += 1
    if i < len(s) and s[i] in _IDENT:
        i = _ident_end(s, i)
    elif i < len(s) and s[i] == "(":
        j = _match_fwd(s, i)
        if j is None:
            return i
        i = j + 1
    else:
        return i
    while i < len(s):
        if s[i] in _OPENERS:
            j = _match_fwd(s, i)
            if j is None:
                return i
            i = j + 1
        elif s.startswith("->", i):
            i = _ident_end(s, i + 2)
        elif s[i] == ".":
            i = _ident_end(s, i + 1)
        else:
            break
    return i


def expression_at(line: str, col: int) -> str | None:
    """The lvalue accessed at 1-based column ``col`` of ``line`` (None if not recognised)."""
    i = col - 1
    if not 0 <= i < len(line):
        return None
    c = line[i]
    if c == ">" and line[i - 1:i] == "-":
        i, c = i - 1, "-"
    assign = c == "=" and line[i + 1:i + 2] != "=" and (i == 0 or line[i - 1] not in "=!<>")
    compound = c in "+-*/%&|^" and line[i + 1:i + 2] == "="
    if assign or compound:
        expr = line[_left(line, i):i]
    elif line.startswith("++", i) or line.startswith("--", i):
        expr = line[_left(line, i):i].strip() or line[i + 2:_right(line, i + 2)]
    elif c == "*":
        expr = line[i:_right(line, i)]
    elif c in "[." or line.startswith("->", i):
        start = _left(line, i)
        expr = line[start:_right(line, start)]
    elif c in _IDENT:
        while i > 0 and line[i - 1] in _IDENT:
            i -= 1
        start = _left(line, _ident_end(line, i))
        expr = line[start:_right(line, start)]
    else:
        return None
    expr = " ".join(expr.split())
    return expr if any(ch in _IDENT for ch in expr) else None


def describe(path: str, line: int, col: int) -> tuple[str, str]:
    """(``file:line``, the C expression there or the statement) for a site."""
    site = f"{os.path.basename(path)}:{line}"
    text = source_line(path, line)
    if text is None:
        return site, site
    expr = expression_at(text, col)
    if expr is None:
        expr = " ".join(text.strip().rstrip(";").split())[:48]
    return site, expr


def atomic_object(path: str, line: int, col: int) -> str | None:
    """The object an atomic call at ``col`` acts on: its first argument without ``&``
    (``atomic_store_explicit(&s->ready, 1, ...)`` -> ``s->ready``), or None."""
    text = source_line(path, line)
    if text is None:
        return None
    i = text.find("(", max(col - 1, 0))
    if i < 0:
        return None
    depth, j = 0, i + 1
    while j < len(text):
        c = text[j]
        if c in "([":
            depth += 1
        elif c in ")]":
            if depth == 0:
                break
            depth -= 1
        elif c == "," and depth == 0:
            break
        j += 1
    arg = " ".join(text[i + 1:j].split())
    if arg.startswith("&"):
        return arg[1:].strip() or None
    return f"*{arg}" if arg else None
