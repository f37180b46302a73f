"""The brute-force axiomatic oracle for the explorer's tests: RC11 (and SC), independent of the engine.

It enumerates candidate execution graphs by brute force (every interleaving of
the threads' operations, every store each read could read from among those
already added, every modification-order position for each store), keeps one per
distinct (rf, mo), and keeps the graphs that satisfy ``rc11.cat`` as written in
herdtools7 (Lahav et al., PLDI 2017): coherence (hb;eco? irreflexive), RMW
atomicity, psc acyclic, po∪rf acyclic, plus the data-race flag; or, for SC,
sb ∪ rf ∪ mo ∪ rb acyclic. Every consistent RC11 execution has a po∪rf
linearisation, so this finds them all for loop-free programs. Relations are
bitsets: ``rel[i]`` is the set of successors of event ``i``.

Two ways in, one set of axioms:

* litmus tests (``rc11_result``, ``rc11_outcome_counts``), parsed by velox's
  herd front end (``tests/explore/test_litmus_*.py`` check the parse separately);
* small straight-line programs as tuples (``oracle_counts``, ``engine_test``),
  written out as litmus source first:

    ("ld", loc, order)                 register := load
    ("st", loc, value, order)
    ("faa", loc, addend, order)        register := old value
    ("xchg", loc, value, order)        register := old value
    ("cas", loc, expected, new, success_order, failure_order)   register := old value
    ("fence", order)

  Orders are velox's names; locations are small ints starting at 0. The outcome
  is ((registers of each thread, in program order), (final value of each location)).

It shares nothing with the explorer engine and is far too slow for anything but
tiny programs; its job is to give exact per-outcome execution counts the
engine's are compared with.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from velox.explore.litmus import (
    LitmusTest,
    Op,
    final_outcome,
    make_test,
    parse_litmus,
    tally,
    thread_program,
)

RMWS = {"fetch_add", "fetch_sub", "fetch_and", "fetch_or", "fetch_xor", "exchange"}
READS = {"load", "read", "cas_strong"} | RMWS
WRITES = {"store", "write"} | RMWS


@dataclass
class Ev:
    tid: int  # -1 for the initial writes
    idx: int
    kind: str  # "R", "W", "U" (RMW), "F"
    loc: str
    order: str  # relaxed acquire release acq_rel seq_cst na init
    value: int = 0


def _rmw_value(op: Op, old: int) -> int:
    return {"fetch_add": old + op.value, "fetch_sub": old - op.value, "fetch_and": old & op.value,
            "fetch_or": old | op.value, "fetch_xor": old ^ op.value, "exchange": op.value}[op.kind]


def _mo_position(decide: Any, writes: list[int]) -> int:
    """Where a new store goes in its location's mo: any place after the initial write."""
    return 1 + decide(len(writes))


def _replay(test: LitmusTest, choices: list[int]):
    """Build one candidate graph following ``choices``; return it with the decisions taken."""
    decisions: list[tuple[int, int]] = []

    def decide(size: int) -> int:
        k = len(decisions)
        c = choices[k] if k < len(choices) else 0
        decisions.append((c, size))
        return c

    events: list[Ev] = []
    mo: dict[str, list[int]] = {}
    for loc, v in test.init:
        mo[loc] = [len(events)]
        events.append(Ev(-1, 0, "W", loc, "init", v))
    rf: dict[int, int] = {}
    n = len(test.processes)
    programs = [thread_program(test, pid) for pid in range(n)]
    pending: list[Op | None] = [None] * n
    finals: list[Any] = [None] * n
    for pid in range(n):
        try:
            pending[pid] = next(programs[pid])
        except StopIteration as stop:
            finals[pid] = stop.value
    counters = [0] * n
    while True:
        enabled = [p for p in range(n) if pending[p] is not None]
        if not enabled:
            break
        pid = enabled[decide(len(enabled))]
        op = pending[pid]
        assert op is not None
        if op.kind == "cas_weak":
            raise NotImplementedError("RC11 oracle does not model compare_exchange_weak")
        if op.kind == "fence" and op.order == "relaxed":
            result: Any = None  # a no-op, not an event
        else:
            eid = len(events)
            idx = counters[pid]
            counters[pid] += 1
            order = "na" if op.kind in ("read", "write") else op.order
            if op.kind == "fence":
                events.append(Ev(pid, idx, "F", "", order))
                result = None
            elif op.kind in ("store", "write"):
                events.append(Ev(pid, idx, "W", op.loc, order, op.value))
                result = None
            else:
                sources = mo[op.loc]
                src = sources[decide(len(sources))]
                old = events[src].value
                rf[eid] = src
                if op.kind == "cas_strong":
                    ok = old == op.expected
                    if ok:
                        events.append(Ev(pid, idx, "U", op.loc, order, op.value))
                    else:
                        events.append(Ev(pid, idx, "R", op.loc, op.failure_order))
                    result = (ok, old)
                elif op.kind in ("load", "read"):
                    events.append(Ev(pid, idx, "R", op.loc, order))
                    result = old
                else:
                    events.append(Ev(pid, idx, "U", op.loc, order, _rmw_value(op, old)))
                    result = old
            ev = events[eid]
            if ev.kind == "W":
                mo[ev.loc].insert(_mo_position(decide, mo[ev.loc]), eid)
            elif ev.kind == "U":
                # RMW atomicity forces it right after its source; anything else is inconsistent anyway
                mo[ev.loc].insert(mo[ev.loc].index(rf[eid]) + 1, eid)
        try:
            pending[pid] = programs[pid].send(result)
        except StopIteration as stop:
            pending[pid] = None
            finals[pid] = stop.value
    memory = {loc: events[ws[-1]].value for loc, ws in mo.items()}
    return events, rf, mo, finals, memory, decisions


# --------------------------------------------------------------------------
# Bitset relations
# --------------------------------------------------------------------------


def _compose(a: list[int], b: list[int]) -> list[int]:
    out = []
    for succ in a:
        s, acc, j = succ, 0, 0
        while s:
            if s & 1:
                acc |= b[j]
            s >>= 1
            j += 1
        out.append(acc)
    return out


def _union(*rels: list[int]) -> list[int]:
    return [_or(*xs) for xs in zip(*rels)]


def _or(*xs: int) -> int:
    acc = 0
    for x in xs:
        acc |= x
    return acc


def _closure(r: list[int]) -> list[int]:
    c = list(r)
    n = len(c)
    for k in range(n):
        bk = 1 << k
        ck = c[k]
        for i in range(n):
            if c[i] & bk:
                c[i] |= ck
    return c


def _acyclic(r: list[int]) -> bool:
    c = _closure(r)
    return not any(c[i] >> i & 1 for i in range(len(c)))


def _irreflexive(r: list[int]) -> bool:
    return not any(r[i] >> i & 1 for i in range(len(r)))


def _restrict(r: list[int], dom: int, rng: int) -> list[int]:
    return [(r[i] & rng) if dom >> i & 1 else 0 for i in range(len(r))]


def _opt(r: list[int]) -> list[int]:
    return [x | 1 << i for i, x in enumerate(r)]


def _ident(s: int, n: int) -> list[int]:
    return [(1 << i) if s >> i & 1 else 0 for i in range(n)]


def rc11_check(events: list[Ev], rf: dict[int, int], mo: dict[str, list[int]]) -> tuple[bool, bool]:
    """(consistent under rc11.cat, has a data race)."""
    n = len(events)
    full = (1 << n) - 1
    is_ = lambda pred: sum(1 << i for i, e in enumerate(events) if pred(e))  # noqa: E731
    W = is_(lambda e: e.kind in ("W", "U"))
    R = is_(lambda e: e.kind in ("R", "U"))
    U = is_(lambda e: e.kind == "U")
    F = is_(lambda e: e.kind == "F")
    IW = is_(lambda e: e.tid < 0)
    NA = is_(lambda e: e.order == "na")
    ATOMIC = full & ~NA & ~F & ~IW | (IW)  # init writes count as atomic (herd: IW are not races)
    SC = is_(lambda e: e.order == "seq_cst")
    REL = is_(lambda e: e.order in ("release", "acq_rel", "seq_cst"))
    ACQ = is_(lambda e: e.order in ("acquire", "acq_rel", "seq_cst"))
    same_loc = [is_(lambda f, e=e: e.loc != "" and f.loc == e.loc) for e in events]
    sb = [is_(lambda f, e=e: e.tid >= 0 and f.tid == e.tid and f.idx > e.idx) for e in events]
    rf_r = [0] * n
    for r, w in rf.items():
        rf_r[w] |= 1 << r
    mo_r = [0] * n
    for ws in mo.values():
        for i, a in enumerate(ws):
            for b in ws[i + 1:]:
                mo_r[a] |= 1 << b
    rf_inv = [0] * n
    for r, w in rf.items():
        rf_inv[r] |= 1 << w
    rb = _compose(rf_inv, mo_r)
    rb = [x & ~(1 << i) for i, x in enumerate(rb)]
    eco = _closure(_union(rf_r, mo_r, rb))
    # rs = [W]; (sb & loc)?; [W & atomic]; (rf; rmw)*
    sb_loc = [sb[i] & same_loc[i] for i in range(n)]
    rs = _restrict(_opt(sb_loc), W, W & ATOMIC & ~IW | (W & IW))
    rf_rmw = _restrict(rf_r, full, U)
    rs = _compose(rs, _opt(_closure(rf_rmw)))
    # sw = [REL]; ([F]; sb)?; rs; rf; [R & atomic]; (sb; [F])?; [ACQ]
    pre = _union(_ident(REL & ~F, n), _restrict(sb, REL & F, full))
    post = _union(_ident(ACQ & ~F, n), _restrict(sb, full, ACQ & F))
    sw = _compose(_compose(_compose(pre, rs), _restrict(rf_r, full, R & ATOMIC)), post)
    hb = _closure(_union(sb, sw))
    # coherence
    if not _irreflexive(_compose(hb, _opt(eco))):
        return False, False
    if not _irreflexive(_restrict(eco, U, full)):
        return False, False
    rb_mo = _compose(rb, mo_r)
    if any(U >> i & 1 and rb_mo[i] >> i & 1 for i in range(n)):
        return False, False
    if not _acyclic(_union(sb, rf_r)):
        return False, False
    # psc
    sbl = [sb[i] & ~same_loc[i] for i in range(n)]
    hbl = [hb[i] & same_loc[i] for i in range(n)]
    scb = _union(sb, _compose(_compose(sbl, hb), sbl), hbl, mo_r, rb)
    left = _union(_ident(SC, n), _restrict(_opt(hb), F & SC, full))
    right = _union(_ident(SC, n), _restrict(_opt(hb), full, F & SC))
    pscb = _compose(_compose(left, scb), right)
    hb_eco_hb = _compose(_compose(hb, eco), hb)
    pscf = _restrict(_union(hb, hb_eco_hb), F & SC, F & SC)
    if not _acyclic(_union(pscb, pscf)):
        return False, False
    # data races: conflicting, different threads, not hb-ordered, not both atomic
    race = False
    for i, a in enumerate(events):
        for j in range(i + 1, n):
            b = events[j]
            if a.loc == "" or a.loc != b.loc or a.tid < 0 or b.tid < 0 or a.tid == b.tid:
                continue
            if not ((W >> i | W >> j) & 1):
                continue
            if (hb[i] >> j | hb[j] >> i) & 1:
                continue
            if not (NA >> i & 1 or NA >> j & 1):
                continue
            race = True
    return True, race


def sc_check(events: list[Ev], rf: dict[int, int], mo: dict[str, list[int]]) -> bool:
    """Consistent under sequential consistency: sb ∪ rf ∪ mo ∪ rb acyclic."""
    n = len(events)
    sb = [sum(1 << j for j, f in enumerate(events) if e.tid >= 0 and f.tid == e.tid and f.idx > e.idx)
          for e in events]
    rf_r, rf_inv, mo_r = [0] * n, [0] * n, [0] * n
    for r, w in rf.items():
        rf_r[w] |= 1 << r
        rf_inv[r] |= 1 << w
    for ws in mo.values():
        for i, a in enumerate(ws):
            for b in ws[i + 1:]:
                mo_r[a] |= 1 << b
    rb = [x & ~(1 << i) for i, x in enumerate(_compose(rf_inv, mo_r))]
    return _acyclic(_union(sb, rf_r, mo_r, rb))


def rc11_outcome_counts(test: LitmusTest, model: str = "rc11") -> tuple[Counter, bool]:
    """Outcome -> number of consistent execution graphs (RC11, or SC with model="sc"); and whether any races."""
    seen: set[Any] = set()
    counts: Counter = Counter()
    racy = False
    choices: list[int] = []
    while True:
        events, rf, mo, finals, memory, decisions = _replay(test, choices)
        key = (tuple(sorted((events[r].tid, events[r].idx, events[w].tid, events[w].idx) for r, w in rf.items())),
               tuple(sorted((loc, tuple((events[e].tid, events[e].idx) for e in ws)) for loc, ws in mo.items())))
        if key not in seen:
            seen.add(key)
            if model == "sc":
                ok, race = sc_check(events, rf, mo), False
            else:
                ok, race = rc11_check(events, rf, mo)
            if ok:
                counts[final_outcome(test, [f or {} for f in finals], memory)] += 1
                racy |= race
        i = len(decisions) - 1
        while i >= 0 and decisions[i][0] + 1 >= decisions[i][1]:
            i -= 1
        if i < 0:
            return counts, racy
        choices = [c for c, _ in decisions[:i]] + [decisions[i][0] + 1]


def rc11_result(test: LitmusTest):
    counts, racy = rc11_outcome_counts(test)
    return tally(test, "rc11", counts, undef=racy)


# --------------------------------------------------------------------------
# Tuple programs
# --------------------------------------------------------------------------

_C_ORDER = {o: f"memory_order_{o}" for o in ("relaxed", "acquire", "release", "acq_rel", "seq_cst")}


def program_locations(program: tuple) -> list[int]:
    return sorted({op[1] for th in program for op in th if op[0] != "fence"}) or [0]


def program_litmus(program: tuple) -> str:
    """The tuple program as herd C litmus source; every read's register and every location displayed."""
    locs = program_locations(program)
    params = ", ".join(f"atomic_int* x{loc}" for loc in locs)
    lines = ["C oracle-program", "{ " + " ".join(f"[x{loc}] = 0;" for loc in locs) + " }"]
    shown = []
    for t, th in enumerate(program):
        body, k = [], 0
        for op in th:
            kind = op[0]
            if kind == "fence":
                body.append(f"atomic_thread_fence({_C_ORDER[op[1]]});")
                continue
            x = f"x{op[1]}"
            if kind == "st":
                body.append(f"atomic_store_explicit({x}, {op[2]}, {_C_ORDER[op[3]]});")
                continue
            r = f"r{k}"
            k += 1
            shown.append(f"{t}:{r}")
            if kind == "ld":
                body.append(f"int {r} = atomic_load_explicit({x}, {_C_ORDER[op[2]]});")
            elif kind == "faa":
                body.append(f"int {r} = atomic_fetch_add_explicit({x}, {op[2]}, {_C_ORDER[op[3]]});")
            elif kind == "xchg":
                body.append(f"int {r} = atomic_exchange_explicit({x}, {op[2]}, {_C_ORDER[op[3]]});")
            elif kind == "cas":  # the expected-value register ends holding the value read, as herd's
                body.append(f"int {r} = {op[2]};")
                body.append(f"int ok{k} = atomic_compare_exchange_strong_explicit({x}, &{r}, {op[3]}, "
                            f"{_C_ORDER[op[4]]}, {_C_ORDER[op[5]]});")
            else:
                raise ValueError(f"unknown operation {op!r}")
        lines.append(f"P{t} ({params}) {{ " + " ".join(body) + " }")
    shown += [f"x{loc}" for loc in locs]
    lines.append("locations [" + " ".join(f"{s};" for s in shown) + "]")
    lines.append(f"exists (x{locs[0]}=0)")
    return "\n".join(lines) + "\n"


def program_test(program: tuple) -> LitmusTest:
    return parse_litmus(program_litmus(program), "oracle-program")


def _structured(program: tuple, test: LitmusTest, state: tuple[int, ...]) -> tuple:
    """A displayed state as ((registers per thread), (final value per location))."""
    env = {str(loc): v for loc, v in zip(test.displayed, state)}
    regs = []
    for t, th in enumerate(program):
        n = sum(1 for op in th if op[0] not in ("st", "fence"))
        regs.append(tuple(env[f"{t}:r{k}"] for k in range(n)))
    return tuple(regs), tuple(env[f"[x{loc}]"] for loc in program_locations(program))


def oracle_counts(program: tuple, model: str = "rc11") -> Counter:
    """Outcome ((registers per thread), (final value per location)) -> number of consistent graphs."""
    test = program_test(program)
    counts, _ = rc11_outcome_counts(test, model)
    out: Counter = Counter()
    for (state, _ok), n in counts.items():
        out[_structured(program, test, state)] += n
    return out


def engine_test(program: tuple, api: Any):
    """The same program as a velox.explore test (through the litmus front end), same outcome shape."""
    test = program_test(program)
    run = make_test(test, api)

    def body():
        state, _ok = run()
        return _structured(program, test, state)

    return body


def random_op(rng: Any, kind: str, loc: int, value: int, orders: dict[str, tuple]) -> tuple[tuple, int]:
    """One operation of a random program in ``oracle_counts``' format, and the next
    fresh value to store. ``kind`` is ld, st, faa, xchg, cas or fence; ``orders``
    maps each kind to the orders to draw from; for cas, a function drawing the
    (success, failure) pair from ``rng``."""
    if kind == "ld":
        return ("ld", loc, rng.choice(orders["ld"])), value
    if kind == "st":
        return ("st", loc, value, rng.choice(orders["st"])), value + 1
    if kind == "faa":
        return ("faa", loc, 1, rng.choice(orders["rmw"])), value
    if kind == "xchg":
        return ("xchg", loc, value, rng.choice(orders["rmw"])), value + 1
    if kind == "cas":
        success, failure = orders["cas"](rng)
        return ("cas", loc, rng.choice((0, 1)), value, success, failure), value + 1
    return ("fence", rng.choice(orders["fence"])), value
