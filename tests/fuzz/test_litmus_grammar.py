"""Grammar-based Hypothesis strategies for litmus programs: every generated
valid program parses (and its parse names its processes and condition);
every corrupted one either still parses or raises LitmusError with a line
inside the file: never another exception."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from velox.explore.litmus import LitmusError, parse_litmus

LOCS = ["x", "y", "z"]
ORDERS = {
    "load": ["memory_order_relaxed", "memory_order_acquire", "memory_order_seq_cst"],
    "store": ["memory_order_relaxed", "memory_order_release", "memory_order_seq_cst"],
    "fence": ["memory_order_acquire", "memory_order_release", "memory_order_acq_rel", "memory_order_seq_cst"],
}


@st.composite
def process(draw, pid: int):
    lines, regs = [], []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["load", "store", "fence", "rmw"]))
        loc = draw(st.sampled_from(LOCS))
        if kind == "load":
            r = f"r{len(regs)}"
            regs.append(r)
            lines.append(f"int {r} = atomic_load_explicit({loc}, {draw(st.sampled_from(ORDERS['load']))});")
        elif kind == "store":
            lines.append(f"atomic_store_explicit({loc}, {draw(st.integers(0, 3))}, "
                         f"{draw(st.sampled_from(ORDERS['store']))});")
        elif kind == "rmw":
            r = f"r{len(regs)}"
            regs.append(r)
            lines.append(f"int {r} = atomic_fetch_add_explicit({loc}, 1, memory_order_relaxed);")
        else:
            lines.append(f"atomic_thread_fence({draw(st.sampled_from(ORDERS['fence']))});")
    params = ", ".join(f"atomic_int* {loc}" for loc in LOCS)
    body = "\n".join("  " + ln for ln in lines)
    return f"P{pid} ({params}) {{\n{body}\n}}", regs


@st.composite
def litmus_program(draw) -> str:
    n = draw(st.integers(1, 3))
    procs = [draw(process(i)) for i in range(n)]
    atoms = [f"{i}:{r}={draw(st.integers(0, 3))}" for i, (_, regs) in enumerate(procs) for r in regs]
    atoms += [f"{loc}={draw(st.integers(0, 3))}" for loc in draw(st.lists(st.sampled_from(LOCS), max_size=2))]
    cond = " /\\ ".join(atoms) if atoms else "true"
    quant = draw(st.sampled_from(["exists", "~exists", "forall"]))
    init = " ".join(f"[{loc}] = 0;" for loc in LOCS)
    return f"C Gen\n{{ {init} }}\n" + "\n".join(p for p, _ in procs) + f"\n{quant} ({cond})\n"


@st.composite
def corrupted(draw) -> str:
    text = draw(litmus_program())
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["delete", "insert", "truncate", "duplicate", "swap"]))
        i = draw(st.integers(0, max(0, len(text) - 1)))
        if how == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 5)):]
        elif how == "insert":
            text = text[:i] + draw(st.sampled_from(["{", "}", "(", ")", ";", "/\\", "~", "exists", "P0", "*", "&",
                                                     "\x00", "(*", "/*", "\"", "1e9", "if", "while"])) + text[i:]
        elif how == "truncate":
            text = text[:i]
        elif how == "duplicate":
            text = text[:i] + text[i:i + 20] + text[i:]
        else:
            j = draw(st.integers(0, max(0, len(text) - 1)))
            chars = list(text)
            if chars:
                chars[i], chars[j] = chars[j], chars[i]
            text = "".join(chars)
    return text


@given(litmus_program())
def test_generated_programs_parse(text):
    t = parse_litmus(text, "gen.litmus")
    assert len(t.processes) == text.count("P") - text.count("P", text.index("exists") if "exists" in text
                                                               else text.index("forall"))



@given(corrupted())
def test_corrupted_programs_fail_cleanly(text):
    try:
        parse_litmus(text, "bad.litmus")
    except LitmusError as e:
        assert e.filename == "bad.litmus"
        assert 1 <= e.line <= text.count("\n") + 2, (e.line, str(e))
