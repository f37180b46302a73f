"""A brute-force RC11 oracle, independent of the engine, for tiny straight-line programs.

It enumerates every candidate execution graph of a program (every reads-from
choice for every read, every modification order of every location, and for each
compare-exchange whether it succeeded) and keeps those that satisfy a direct,
relation-by-relation transcription of the RC11 axioms (Lahav et al., PLDI 2017,
section 3; herdtools7 ``rc11.cat``). Relations are Python sets of pairs: slow and
obvious, which is the point. Read-modify-writes are single events that are both a
read and a write (``rmw`` is then the identity on them).

A program is a tuple of threads; a thread is a tuple of operations:
  ("ld", loc, order)                 register := load
  ("st", loc, value, order)
  ("faa", loc, addend, order)        register := old value
  ("xchg", loc, value, order)        register := old value
  ("cas", loc, expected, new, success_order, failure_order)   register := old value
  ("fence", order)
Orders are the velox names. Locations start at 0.
"""

from __future__ import annotations

import itertools
from collections import Counter

ACQ = {"acquire", "acq_rel", "seq_cst"}
REL = {"release", "acq_rel", "seq_cst"}


class Ev:
    """One event of a candidate graph."""

    def __init__(self, eid, tid, kind, loc, order):
        self.eid, self.tid, self.kind, self.loc, self.order = eid, tid, kind, loc, order
        self.is_read = kind in ("R", "U")
        self.is_write = kind in ("W", "U", "I")

    def __repr__(self):
        return f"{self.kind}{self.eid}"


def closure(rel, nodes):
    """Transitive closure of a set of pairs."""
    succ = {n: set() for n in nodes}
    for a, b in rel:
        succ[a].add(b)
    changed = True
    while changed:
        changed = False
        for a in nodes:
            extra = set()
            for b in succ[a]:
                extra |= succ[b]
            if not extra <= succ[a]:
                succ[a] |= extra
                changed = True
    return {(a, b) for a in nodes for b in succ[a]}


def compose(r1, r2):
    by_first = {}
    for a, b in r2:
        by_first.setdefault(a, set()).add(b)
    return {(a, c) for a, b in r1 for c in by_first.get(b, ())}


def acyclic(rel, nodes):
    return not any(a == b for a, b in closure(rel, nodes))


def consistent(events, sb, rf, mo, model):
    """Does the candidate satisfy RC11 (or SC when model == 'sc')?"""
    E = list(events)
    rb = {(r, w2) for (w, r) in rf for (w1, w2) in mo if w1 == w and w2 != r}
    if model == "sc":
        return acyclic(sb | rf | mo | rb, E)
    # no thin air
    if not acyclic(sb | rf, E):
        return False
    # atomicity: rmw ∩ (rb ; mo) = ∅ (rmw is the identity on update events)
    for e in E:
        if e.kind == "U" and (e, e) in compose(rb, mo):
            return False
    sb_loc = {(a, b) for a, b in sb if a.loc is not None and a.loc == b.loc}
    W = [e for e in E if e.is_write]
    # release sequence: [W] ; (sb|loc)? ; [W atomic] ; (rf ; [U])*
    rf_rmw = {(w, u) for (w, u) in rf if u.kind == "U"}
    rf_rmw_star = closure(rf_rmw, E) | {(e, e) for e in E}
    base = {(w, w) for w in W} | {(a, b) for a, b in sb_loc if a.is_write and b.is_write}
    rs = compose(base, rf_rmw_star)
    rel = [e for e in E if e.order in REL]
    acq = [e for e in E if e.order in ACQ]
    sw = set()
    for a in rel:
        heads = [a] if a.is_write else [w for w in W if (a, w) in sb] if a.kind == "F" else []
        for h in heads:
            for (h2, w) in rs:
                if h2 != h:
                    continue
                for (w2, r) in rf:
                    if w2 != w:
                        continue
                    for b in acq:
                        if b is r or (b.kind == "F" and (r, b) in sb):
                            sw.add((a, b))
    hb = closure(sb | sw, E)
    eco = closure(rf | mo | rb, E)
    # coherence: hb ; eco? irreflexive. With a merged RMW event, its read part is sb-before its write
    # part (rmw ⊆ sb in the paper), so an eco cycle through an update event is an hb;eco cycle too.
    if any(a == b for a, b in hb) or any((b, a) in hb for a, b in eco) or any(a == b for a, b in eco):
        return False
    # SC: psc acyclic
    sc = [e for e in E if e.order == "seq_cst"]
    if len(sc) >= 2:
        same_loc = lambda a, b: a.loc is not None and a.loc == b.loc
        sb_neq = {(a, b) for a, b in sb if not same_loc(a, b)}
        hb_loc = {(a, b) for a, b in hb if same_loc(a, b)}
        scb = sb | compose(compose(sb_neq, hb), sb_neq) | hb_loc | mo | rb
        hb_opt = hb | {(e, e) for e in E}
        Esc = {(e, e) for e in sc}
        Fsc = {(e, e) for e in sc if e.kind == "F"}
        left = Esc | compose(Fsc, hb_opt)
        right = Esc | compose(hb_opt, Fsc)
        psc_base = compose(compose(left, scb), right)
        psc_f = compose(compose(Fsc, hb | compose(compose(hb, eco), hb)), Fsc)
        if not acyclic(psc_base | psc_f, E):
            return False
    return True


def candidates(program):
    """Yield (events, sb, rf, mo, outcome) for every candidate graph with its outcome."""
    locs = sorted({op[1] for th in program for op in th if op[0] != "fence"})
    cas_ops = [(t, i) for t, th in enumerate(program) for i, op in enumerate(th) if op[0] == "cas"]
    for guess in itertools.product((True, False), repeat=len(cas_ops)):
        ok = dict(zip(cas_ops, guess))
        events, threads = [], []
        inits = {}
        for loc in locs:
            e = Ev(len(events), -1, "I", loc, "na")
            events.append(e)
            inits[loc] = e
        ops = {}
        for t, th in enumerate(program):
            evs = []
            for i, op in enumerate(th):
                kind, loc = op[0], (op[1] if op[0] != "fence" else None)
                if kind == "ld":
                    e = Ev(len(events), t, "R", loc, op[2])
                elif kind == "st":
                    e = Ev(len(events), t, "W", loc, op[3])
                elif kind in ("faa", "xchg"):
                    e = Ev(len(events), t, "U", loc, op[3])
                elif kind == "cas":
                    e = Ev(len(events), t, "U" if ok[(t, i)] else "R", loc, op[4] if ok[(t, i)] else op[5])
                else:
                    e = Ev(len(events), t, "F", None, op[1])
                events.append(e)
                evs.append(e)
                ops[e] = op
            threads.append(evs)
        sb = {(i, e) for i in inits.values() for e in events if e.tid >= 0}
        for evs in threads:
            sb |= {(a, b) for a, b in itertools.combinations(evs, 2)}
        reads = [e for e in events if e.is_read]
        writes = {loc: [e for e in events if e.is_write and e.loc == loc] for loc in locs}
        rf_choices = [writes[r.loc] for r in reads]
        mo_choices = [[(inits[loc],) + p for p in itertools.permutations([w for w in writes[loc] if w.kind != "I"])]
                      for loc in locs]
        for rfs in itertools.product(*rf_choices):
            rf_of = dict(zip(reads, rfs))
            if any(w is r for r, w in rf_of.items()):
                continue
            values = _values(events, ops, rf_of)
            if values is None:
                continue
            # each CAS guess must agree with the value it read
            if any(ops[r][0] == "cas" and (values[rf_of[r]] == ops[r][2]) != (r.kind == "U") for r in reads):
                continue
            rf = {(w, r) for r, w in rf_of.items()}
            for mos in itertools.product(*mo_choices):
                mo = set()
                for order in mos:
                    mo |= {(a, b) for a, b in itertools.combinations(order, 2)}
                regs = tuple(tuple(values_read(e, rf_of, values) for e in evs if e.is_read) for evs in threads)
                final = tuple(values[order[-1]] for order in mos)
                yield events, sb, rf, mo, (regs, final)


def values_read(e, rf_of, values):
    return values[rf_of[e]]


def _values(events, ops, rf_of):
    """Value written by every write (None if the rf choices form a value cycle)."""
    out, busy = {}, set()

    def val(w):
        if w in out:
            return out[w]
        if w in busy:
            raise ValueError
        busy.add(w)
        op = ops.get(w)
        if w.kind == "I":
            v = 0
        elif op[0] == "st" or op[0] == "xchg":
            v = op[2]
        elif op[0] == "faa":
            v = val(rf_of[w]) + op[2]
        else:  # successful cas
            v = op[3]
        busy.discard(w)
        out[w] = v
        return v

    try:
        for e in events:
            if e.is_write:
                val(e)
            if e.is_read:
                val(rf_of[e])
    except ValueError:
        return None
    return out


def oracle_counts(program, model="rc11") -> Counter:
    """Outcome ((registers per thread), (final value per location)) -> number of consistent graphs."""
    counts: Counter = Counter()
    for events, sb, rf, mo, outcome in candidates(program):
        if consistent(events, sb, rf, mo, model):
            counts[outcome] += 1
    return counts


def engine_test(program, api):
    """The same program as a velox.explore test returning the same outcome shape."""
    locs = sorted({op[1] for th in program for op in th if op[0] != "fence"})

    def run_thread(th, atomics):
        regs = []
        for op in th:
            kind = op[0]
            if kind == "ld":
                regs.append(atomics[op[1]].load(op[2]))
            elif kind == "st":
                atomics[op[1]].store(op[2], op[3])
            elif kind == "faa":
                regs.append(atomics[op[1]].fetch_add(op[2], op[3]))
            elif kind == "xchg":
                regs.append(atomics[op[1]].exchange(op[2], op[3]))
            elif kind == "cas":
                regs.append(atomics[op[1]].compare_exchange_strong(op[2], op[3], op[4], op[5])[1])
            else:
                api.fence(op[1])
        return tuple(regs)

    def test():
        atomics = {loc: api.Atomic(0, name=f"x{loc}") for loc in locs}
        handles = [api.spawn(run_thread, th, atomics) for th in program]
        regs = tuple(h.join() for h in handles)
        final = tuple(atomics[loc].load("relaxed") for loc in locs)
        return (regs, final)

    return test
