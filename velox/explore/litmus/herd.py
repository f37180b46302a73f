"""herd7's result layout for a ``LitmusResult``: the text ``velox litmus`` prints.

Follows herd7's ``top_herd.ml`` (the result block) and ``ConstrGen`` (condition
printing with minimal parentheses). The ``Hash`` value is velox's own digest,
not herd's (docs/litmus.md).
"""

from __future__ import annotations

import hashlib

from .ast import And, Atom, Condition, LitmusTest, Loc, Not, Or, Prop
from .run import LitmusResult


def format_value(v: int, hexa: bool = False) -> str:
    """A value as herd prints it: decimal, or ``0x..`` with herd's ``-hexa``."""
    if hexa:
        return f"-0x{-v:x}" if v < 0 else f"0x{v:x}"
    return str(v)


def format_prop(prop: Prop, above: str = "top", hexa: bool = False) -> str:
    """herd's pretty-printer for propositions (ConstrGen.pp_prop): minimal parentheses."""
    if isinstance(prop, Atom):
        rhs = str(prop.value) if isinstance(prop.value, Loc) else format_value(prop.value, hexa)
        return f"{prop.loc}={rhs}"
    if isinstance(prop, Not):
        return f"not ({format_prop(prop.prop, 'top', hexa)})"
    if isinstance(prop, And):
        if not prop.props:
            return "true"
        s = " /\\ ".join(format_prop(p, "and", hexa) for p in prop.props)
        return f"({s})" if above == "implies" else s
    if isinstance(prop, Or):
        if not prop.props:
            return "false"
        s = " \\/ ".join(format_prop(p, "or", hexa) for p in prop.props)
        return f"({s})" if above in ("and", "implies") else s
    s = f"{format_prop(prop.left, 'implies', hexa)} => {format_prop(prop.right, 'implies', hexa)}"
    return f"({s})" if above in ("and", "or") else s


def format_condition(cond: Condition, hexa: bool = False) -> str:
    return f"{cond.quantifier} ({format_prop(cond.prop, 'top', hexa)})"


def format_state(test: LitmusTest, state: tuple[int, ...], hexa: bool = False) -> str:
    return " ".join(f"{loc}={format_value(v, hexa)};" for loc, v in zip(test.displayed, state))


def litmus_hash(test: LitmusTest) -> str:
    """The ``Hash=`` value: the file's own ``Hash`` info if present, else velox's digest.

    herd7 digests its own pretty-printed C code, which velox does not reproduce;
    velox digests the initial state, a canonical dump of the AST and the displayed
    locations instead (see docs/litmus.md). Equal tests get equal hashes.
    """
    for key, value in test.info:
        if key == "Hash":
            return value
    init = "; ".join(f"{loc}={v}" for loc, v in test.init)
    code = repr([(p.params, p.body) for p in test.processes])
    locs = "; ".join(str(loc) for loc in test.displayed)
    digest = b"".join(hashlib.md5(s.encode()).digest() for s in (init, code, locs))
    return hashlib.md5(digest).hexdigest()


def format_result(result: LitmusResult, hexa: bool = False) -> str:
    """herd7's result layout for one test, ending with the blank line herd prints.

    ``hexa`` prints values as herd's ``-hexa`` option does (``0x1``).
    """
    t = result.test
    pos, neg = result.positive, result.negative
    wit_pos, wit_neg = (neg, pos) if t.condition.quantifier == "~exists" else (pos, neg)
    lines = [f"Test {t.name} {t.kind}", f"States {len(result.states)}"]
    lines += [format_state(t, s, hexa) for s in sorted(result.states)]
    lines.append("Undef" if result.undef else ("Ok" if result.ok else "No"))
    lines += ["Witnesses", f"Positive: {wit_pos} Negative: {wit_neg}"]
    lines += [f"Flag {f}" for f in result.flags]
    lines.append(f"Condition {format_condition(t.condition, hexa)}")
    lines.append(f"Observation {t.name} {result.observation} {pos} {neg}")
    lines.append(f"Time {t.name} {result.elapsed:0.2f}")
    lines.append(f"Hash={litmus_hash(t)}")
    return "\n".join(lines) + "\n\n"
