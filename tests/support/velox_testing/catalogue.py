"""The catalogue of native mutants: deliberately wrong variants of the C core
and its Cython binding, each known to be caught by some gate.

A mutant is a list of exact-text edits ``(file, old, new)`` applied to a copy
of ``velox/_native/`` (never to the shipping sources). ``file`` is a name in
that folder; ``old`` must occur exactly once in it, or ``apply_edits`` raises
``MutantRotError``: when someone rewrites the code a mutant targets, the
mutant fails loudly instead of silently building the correct code.

``caught_by`` is the one map from mutant to gate: each gate's test picks its
mutants with ``for_gate`` and must catch every one, and ``GATES`` says which
test that is (docs/mutants.md's table is generated from both: ``python -m
velox_testing.catalogue --table``, pinned by tests/mutants/test_catalogue.py).

To add a mutant, add an entry to ``MUTANTS`` naming the gates that must catch
it. Keep the edit minimal and realistic: the bug a tired engineer would write.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

#: gate -> the test that must catch every mutant naming it in ``caught_by``.
GATES: dict[str, str] = {
    "ring": "tests/stateful/test_mutants_caught.py (SPSC ring machine)",
    "book": "tests/stateful/test_mutants_caught.py (order-book machine)",
    "bundle": "tests/stateful/test_mutants_caught.py (bundle-builder machine)",
    "mpmc": "tests/stateful/test_mutants_caught.py (MPMC ring machine)",
    "explore": "tests/explore_c/test_mutants_explored.py (the explorer on the model build)",
    "stress": "tests/stress/test_stress_catches_mutants.py (native stress driver)",
    "lincheck": "tests/stress/test_stress_catches_mutants.py (recorded book histories, linearizability)",
    "tsan": "tests/test_tsan.py (native stress driver under ThreadSanitizer)",
    "pipeline": "tests/test_pipeline_mutants.py (the pipeline's invariant verdict)",
    "pipeline-tsan": "tests/test_pipeline_tsan.py (native pipeline under ThreadSanitizer)",
    "bench": "tests/test_bench_driver.py (the benchmark driver's delivery check)",
}


class MutantRotError(RuntimeError):
    """An edit's ``old`` text is missing (or ambiguous) in the file it targets."""


@dataclass(frozen=True, kw_only=True)
class Edit:
    """Replace the one occurrence of ``old`` in ``file`` by ``new``."""

    file: str
    old: str
    new: str


@dataclass(frozen=True, kw_only=True)
class Mutant:
    """A named wrong variant: what is wrong, the edits, and which gates catch it."""

    name: str
    description: str
    edits: tuple[Edit, ...]
    caught_by: tuple[str, ...]


def _m(name: str, description: str, caught_by: tuple[str, ...], *edits: tuple[str, str, str]) -> Mutant:
    return Mutant(name=name, description=description, caught_by=caught_by,
                  edits=tuple(Edit(file=f, old=o, new=n) for f, o, n in edits))


_ALL = [
    _m("ring_overwrites_when_full",
       "push never reports full: it writes the slot of the oldest record (an overwriting ring)",
       ("ring",),
       ("vx_ring.h",
        "    if (vx_ring__space(r, tail, 1) == 0) return 0;\n    vx_txn *slot",
        "    (void)vx_ring__space(r, tail, 1); /* MUTANT: never full */\n    vx_txn *slot")),
    _m("ring_mask_off_by_one",
       "the index mask is capacity instead of capacity - 1 (writes past the slots: run it in a child)",
       ("ring", "explore"),
       ("vx_ring.c", "    r->mask = capacity - 1;", "    r->mask = capacity; /* MUTANT */")),
    _m("book_clamps_out_of_range",
       "a price outside the book is clamped to the first or last level instead of raising ValueError",
       ("book",),
       ("_book.pxi",
        "        if price < self.base_price or price >= self.max_price:",
        "        if False:  # MUTANT: range left to C, which clamps"),
       ("vx_book.c",
        "    if (price < b->base_price) return VX_ERANGE;",
        "    if (price < b->base_price) return 0; /* MUTANT: clamp */"),
       ("vx_book.c",
        "    if (level >= b->levels) return VX_ERANGE;",
        "    if (level >= b->levels) level = b->levels - 1; /* MUTANT: clamp */")),
    _m("book_remove_below_zero",
       "remove does not check the resting quantity: a level can go negative",
       ("book",),
       ("vx_book.c",
        "            if (cur < -delta) return VX_EUNDERFLOW;",
        "            (void)0; /* MUTANT: no underflow check */")),
    _m("book_hint_overwritten",
       "marking a level non-empty overwrites its bitmap word with the level's bit instead of OR-ing it in: "
       "better levels in the same word are forgotten and the best price is wrong",
       ("book", "explore"),
       ("vx_book.c",
        "    uint64_t old = vx_fetch_or(&s->words[w], BIT_OF(rank), VX_SEQ_CST);",
        "    uint64_t old = vx_exchange(&s->words[w], BIT_OF(rank), VX_SEQ_CST); /* MUTANT */")),
    _m("builder_flushes_late",
       "poll's timeout comparison is off by one: a bundle times out one tick after its deadline",
       ("bundle",),
       ("vx_bundle.c",
        "now - b->cur.first_ts < b->timeout",
        "now - b->cur.first_ts <= b->timeout /* MUTANT */")),
    _m("builder_backward_clock_times_out",
       "poll forgets that a clock may go backwards: now - first_ts wraps and the bundle times out",
       ("bundle",),
       ("vx_bundle.c",
        "if (now < b->cur.first_ts || now - b->cur.first_ts",
        "if (now - b->cur.first_ts")),
    # --- pipeline (tests/test_pipeline_mutants.py: the run's invariant verdict must fail) ---
    _m("pipeline_rec_off_by_one_at_wrap",
       "a batch that wraps past the end of a ring reads and writes the second span one slot too far",
       ("pipeline",),
       ("vx_pipeline.c",
        "#define REC(a, na, b, i) ((i) < (na) ? &(a)[i] : &(b)[(i) - (na)])",
        "#define REC(a, na, b, i) ((i) < (na) ? &(a)[i] : &(b)[(i) - (na) + 1]) /* MUTANT */")),
    _m("pipeline_bundle_swaps_first_two",
       "the bundle stage frames a bundle's first two transactions in the wrong order",
       ("pipeline",),
       ("vx_pipeline.c",
        "#undef FRAME_REC\n",
        "    if (bd->count >= 2) { vx_txn x = *FRAME_REC(k - bd->count); *FRAME_REC(k - bd->count) = "
        "*FRAME_REC(k - bd->count + 1); *FRAME_REC(k - bd->count + 1) = x; } /* MUTANT */\n#undef FRAME_REC\n")),
    _m("pipeline_timeout_in_ns_not_ticks",
       "the builder gets the bundle timeout in nanoseconds where it counts TSC ticks (flushes early)",
       ("pipeline",),
       ("vx_pipeline.c",
        "vx_bundle_builder_init(&p->bu.builder, cfg->bundle_size, p->timeout_ticks);",
        "vx_bundle_builder_init(&p->bu.builder, cfg->bundle_size, cfg->bundle_timeout_ns); /* MUTANT */")),
    _m("pipeline_drop_not_counted",
       "ingress drops arrivals on a full first ring without counting them",
       ("pipeline",),
       ("vx_pipeline.c",
        "            ctr_add(p, VX_STAGE_INGRESS, VX_IN_DROPPED, want - k);\n",
        "            /* MUTANT: drops not counted */\n")),
    _m("pipeline_final_cancel_off_by_one",
       "at shutdown the book stage cancels all resting orders but the last slot of its window",
       ("pipeline",),
       ("vx_pipeline.c",
        "for (uint32_t i = 0; i < VX_ORDER_LIFETIME; i++) book_cancel(p, &st->window[i]);",
        "for (uint32_t i = 0; i + 1 < VX_ORDER_LIFETIME; i++) book_cancel(p, &st->window[i]); /* MUTANT */")),
    _m("pipeline_bundle_never_polls",
       "the bundle stage never asks the builder for timed-out bundles: they leave only when full",
       ("pipeline",),
       ("vx_pipeline.c",
        "    if (vx_bundle_builder_poll(&st->builder, now, &st->out)) {",
        "    if (0 && vx_bundle_builder_poll(&st->builder, now, &st->out)) { /* MUTANT */")),
    _m("pipeline_commit_before_write",
       "the book stage publishes its output batch to ring1 before writing the records into the slots",
       ("pipeline-tsan",),
       ("vx_pipeline.c",
        ("    uint64_t now = vx_tsc_now();\n    int skew = 0;\n    vx_hist_run age = {0, 0};\n"
         "    for (size_t i = 0; i < k; i++) {\n        const vx_txn *t = REC(a, na, b, i);\n"
         "        vx_hist_run_add(&p->hist[VX_H_AGE_BOOK]"),
        ("    vx_ring_publish(p->ring[1], k); /* MUTANT: published before written */\n"
         "    uint64_t now = vx_tsc_now();\n    int skew = 0;\n    vx_hist_run age = {0, 0};\n"
         "    for (size_t i = 0; i < k; i++) {\n        const vx_txn *t = REC(a, na, b, i);\n"
         "        vx_hist_run_add(&p->hist[VX_H_AGE_BOOK]")),
       ("vx_pipeline.c",
        "    vx_ring_publish(p->ring[1], k);\n    vx_ring_consume(p->ring[0], k);",
        "    vx_ring_consume(p->ring[0], k);")),
    # -- stress suite, TSan and lincheck (velox_testing.native runs them in the
    # -- standalone native driver; see tests/stress/test_stress_catches_mutants.py)
    _m("ring_pop_many_drops_wrapped",
       "pop_many advances head by k but hands out only the records before the slot array's end: the records "
       "after the wrap are lost",
       ("stress", "ring"),
       ("vx_ring.c",
        "     * reuse them; pairs with the acquire load of head in vx_ring__space. */\n"
        "    vx_store(&r->head, head + k, VX_RELEASE);\n    return k;",
        "     * reuse them; pairs with the acquire load of head in vx_ring__space. */\n"
        "    vx_store(&r->head, head + k, VX_RELEASE);\n    return run; /* MUTANT */")),
    _m("book_update_load_store",
       "a level update is a load and a store instead of a compare-exchange: concurrent updates are lost",
       ("stress", "lincheck", "explore"),
       ("vx_book.c",
        "        if (vx_cas_weak(q, &cur, next, VX_SEQ_CST, VX_RELAXED)) {",
        "        if ((vx_store(q, next, VX_SEQ_CST), 1)) { /* MUTANT: not atomic */")),
    _m("mpmc_pop_frees_early",
       "MPMC pop hands the cell back to producers (release store of seq) before copying the record out: a "
       "producer of the next lap can overwrite it mid-read",
       ("stress",),
       ("vx_mpmc.c",
        "    vx_store(&cell->seq, pos + q->mask + 1, VX_RELEASE);\n    return 1;",
        "    return 1;"),
       ("vx_mpmc.c",
        "    VX_CELL_READ(&cell->txn, sizeof cell->txn);\n    *out = cell->txn;\n",
        "    vx_store(&cell->seq, pos + q->mask + 1, VX_RELEASE); /* MUTANT: freed before the read */\n"
        "    VX_CELL_READ(&cell->txn, sizeof cell->txn);\n    *out = cell->txn;\n")),
    _m("mpmc_free_off_by_one",
       "MPMC pop frees the cell for the wrong lap (pos + mask instead of pos + mask + 1): after one lap the "
       "ring reports full while it is empty",
       ("mpmc",),
       ("vx_mpmc.c",
        "    vx_store(&cell->seq, pos + q->mask + 1, VX_RELEASE);\n    return 1;",
        "    vx_store(&cell->seq, pos + q->mask, VX_RELEASE); /* MUTANT */\n    return 1;")),
    # -- the explorer on the model build (tests/explore_c/test_mutants_explored.py): ordering bugs
    # -- that x86 hides from every run on this machine
    _m("ring_observe_relaxed",
       "the consumer observes tail with a relaxed load: it may read a slot before the producer's write of it",
       ("explore",),
       ("vx_ring.h",
        "        r->tail_cache = vx_load(&r->tail, VX_ACQUIRE);",
        "        r->tail_cache = vx_load(&r->tail, VX_RELAXED); /* MUTANT */")),
    _m("ring_cache_never_refreshed",
       "the producer never refreshes its cached head: once the cache says full, the ring stays full forever",
       ("explore", "ring"),
       ("vx_ring.h",
        "        r->head_cache = vx_load(&r->head, VX_ACQUIRE);",
        "        (void)0; /* MUTANT: cached head never refreshed */")),
    _m("book_hint_cas_relaxed",
       "the quantity update that fills a level is relaxed instead of seq_cst: a query clearing the level's "
       "stale bit and the filler skipping the set (it still reads the bit set) can miss each other (store "
       "buffering), and the refilled level is lost from the best price at quiescence",
       ("explore",),
       ("vx_book.c",
        "        if (vx_cas_weak(q, &cur, next, VX_SEQ_CST, VX_RELAXED)) {",
        "        if (vx_cas_weak(q, &cur, next, VX_RELAXED, VX_RELAXED)) { /* MUTANT */")),
    _m("book_hint_skip_when_high",
       "a fill checks whether its bit is already set with an acquire load instead of seq_cst and skips the "
       "set: store buffering against a query's clear and re-read loses the refilled level",
       ("explore",),
       ("vx_book.c",
        "    if (vx_load(&s->words[w], VX_SEQ_CST) & BIT_OF(rank)) return;",
        "    if (vx_load(&s->words[w], VX_ACQUIRE) & BIT_OF(rank)) return; /* MUTANT */")),
    _m("book_owner_no_underflow_check",
       "the single-writer remove skips its underflow check: a level's quantity goes negative instead of the "
       "call failing with nothing changed",
       ("book",),
       ("vx_book.c",
        "    if (delta > 0 ? cur > INT64_MAX - delta : cur < -delta) return delta > 0 ? VX_EOVERFLOW : VX_EUNDERFLOW;",
        "    if (delta > 0 && cur > INT64_MAX - delta) return VX_EOVERFLOW; /* MUTANT */")),
    _m("book_owner_fill_skips_summary",
       "a single-writer fill of an empty first-level word never sets the word's second-level bit: the best "
       "price misses every level of that word",
       ("book",),
       ("vx_book.c",
        "        if (owner_set_bit(&s->words[w], BIT_OF(rank))) owner_set_bit(&s->summary[WORD_OF(w)], BIT_OF(w));",
        "        owner_set_bit(&s->words[w], BIT_OF(rank)); /* MUTANT */")),
    _m("book_owner_queries_clear",
       "other threads' queries of a single-writer book clear the stale bits they meet, as a shared book's "
       "queries do: their read-modify-writes race with the writer's plain load and store of the same word",
       ("explore",),
       ("vx_book.c",
        "    return best_price(b, side, price, b->single_writer ? QUERY_READ_ONLY : QUERY_SHARED);",
        "    return best_price(b, side, price, QUERY_SHARED); /* MUTANT */")),
    _m("ring_publish_relaxed",
       "SPSC push publishes tail with a relaxed store: the consumer may read the slot before the record is "
       "written (x86 hides it from stress runs; TSan does not)",
       ("tsan", "explore"),
       ("vx_ring.h",
        "    vx_store(&r->tail, tail + 1, VX_RELEASE);",
        "    vx_store(&r->tail, tail + 1, VX_RELAXED); /* MUTANT */")),
    # -- the ring benchmark driver's delivery check (tests/test_bench_driver.py)
    _m("bench_drops_record_1000",
       "the benchmark producer skips record 1000 (the consumer's in-order check must report it)",
       ("bench",),
       ("vx_bench.c",
        "static inline void fill_record(vx_txn *t, uint64_t seq) {",
        "static inline void fill_record(vx_txn *t, uint64_t seq) { seq += (seq >= 1000); /* MUTANT */")),
    _m("bench_duplicates_record_999",
       "the benchmark producer sends record 999 twice (in place of record 1000)",
       ("bench",),
       ("vx_bench.c",
        "static inline void fill_record(vx_txn *t, uint64_t seq) {",
        "static inline void fill_record(vx_txn *t, uint64_t seq) { seq -= (seq == 1000); /* MUTANT */")),
    _m("bench_never_sends_the_last_record",
       "the benchmark producer stops one record early (the consumer must report it, not hang)",
       ("bench",),
       ("vx_bench.c",
        "for (uint64_t seq = 0; seq < n; seq++) {",
        "for (uint64_t seq = 0; seq + 1 < n; seq++) { /* MUTANT */")),
    _m("mpmc_publish_relaxed",
       "MPMC push publishes the cell's seq with a relaxed store (x86 hides it; TSan does not)",
       ("tsan", "explore"),
       ("vx_mpmc.c",
        "    vx_store(&cell->seq, pos + 1, VX_RELEASE);",
        "    vx_store(&cell->seq, pos + 1, VX_RELAXED); /* MUTANT */")),
]

#: name -> Mutant, in catalogue order.
MUTANTS: dict[str, Mutant] = {m.name: m for m in _ALL}


def for_gate(gate: str) -> list[Mutant]:
    """The mutants a gate (e.g. "ring", "stress") must catch."""
    return [m for m in MUTANTS.values() if gate in m.caught_by]


def edits_of(name: str | None) -> list[tuple[str, str, str]]:
    """Mutant ``name``'s edits as ``(file, old, new)`` tuples for
    ``velox/_native/_build.py`` (None: no edits; KeyError naming the known
    mutants for an unknown name)."""
    if name is None:
        return []
    if name not in MUTANTS:
        raise KeyError(f"no mutant {name!r}; known: {', '.join(MUTANTS)}")
    return [(e.file, e.old, e.new) for e in MUTANTS[name].edits]


def table() -> str:
    """The gate-by-mutant table of docs/mutants.md, derived from ``caught_by``."""
    lines = ["| mutant | what is wrong | caught by |", "|---|---|---|"]
    for m in MUTANTS.values():
        lines.append(f"| {m.name} | {m.description} | {', '.join(m.caught_by)} |")
    lines += ["", "| gate | the test that must catch each of its mutants |", "|---|---|"]
    for gate, test in GATES.items():
        lines.append(f"| {gate} | {test} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m velox_testing.catalogue",
                                description="The native mutants and the gates that must catch them.")
    p.add_argument("--table", action="store_true", help="print docs/mutants.md's table (Markdown)")
    p.add_argument("--gate", choices=sorted(GATES), help="list the mutants of one gate")
    args = p.parse_args(argv)
    if args.gate:
        print("\n".join(m.name for m in for_gate(args.gate)))
    elif args.table:
        print(table(), end="")
    else:
        for m in MUTANTS.values():
            print(f"{m.name}: {', '.join(m.caught_by)}")
    return 0


def apply_edits(mutant: Mutant, sources: dict[str, str]) -> dict[str, str]:
    """The sources (file name -> text) with the mutant's edits applied; raises
    MutantRotError if an edit's text is not found exactly once."""
    out = dict(sources)
    for e in mutant.edits:
        if e.file not in out:
            raise MutantRotError(f"mutant {mutant.name}: file {e.file!r} is not in velox/_native/")
        count = out[e.file].count(e.old)
        if count != 1:
            raise MutantRotError(
                f"mutant {mutant.name}: {e.file} contains the text to replace {count} times (need exactly 1); "
                f"the code changed under the mutant, update tests/support/velox_testing/catalogue.py:\n{e.old}")
        out[e.file] = out[e.file].replace(e.old, e.new)
    return out


if __name__ == "__main__":
    sys.exit(main())
