"""Test bodies that drive velox's C core (model build) under the explorer.

Each ``*_test(...)`` returns a zero-argument function for ``explore.check``:
it builds fresh C state, spawns the threads, joins them and asserts. The C
objects are freed in ``finally`` blocks so abandoned executions do not leak.
"""

from __future__ import annotations

from typing import Any

from velox import explore

from .cheaders import enum_values, header

_TXN = enum_values(header("vx_txn.h"))  # the values C uses, from the header itself
BID, ASK = _TXN["VX_BID"], _TXN["VX_ASK"]
VX_OK, VX_EUNDERFLOW, VX_ETIMEOUT = _TXN["VX_OK"], _TXN["VX_EUNDERFLOW"], _TXN["VX_ETIMEOUT"]


def ring_test(m: Any, capacity: int, items: int = 3, *, start: int = 0, batch: bool = False):
    """Producer pushes `items` records (retrying while full), consumer pops
    them; FIFO, no loss, no duplication. With batch=True both sides use the
    batch calls (push_many of the remaining records, pop_many of up to 2)."""
    ffi, lib = m.ffi, m.lib

    def body():
        err = ffi.new("int *")
        r = lib.vx_ring_create(capacity, start, err)
        assert r != ffi.NULL, f"vx_ring_create failed: {err[0]}"
        try:
            def producer():
                if batch:
                    src = ffi.new("vx_txn[]", items)
                    for i in range(items):
                        src[i].id = i
                        src[i].price = 1000 + i
                    sent = 0
                    while sent < items:
                        k = lib.vx_ring_push_many(r, src + sent, items - sent)
                        if k == 0:
                            explore.spin_hint()
                        sent += k
                else:
                    t = ffi.new("vx_txn *")
                    for i in range(items):
                        t.id = i
                        t.price = 1000 + i
                        while not lib.vx_ring_push(r, t):
                            explore.spin_hint()

            def consumer():
                got = []
                out = ffi.new("vx_txn[]", 2)
                while len(got) < items:
                    if batch:
                        k = lib.vx_ring_pop_many(r, out, 2)
                        got += [(out[j].id, out[j].price) for j in range(k)]
                    else:
                        k = lib.vx_ring_pop(r, out)
                        if k:
                            got.append((out[0].id, out[0].price))
                    if k == 0:
                        explore.spin_hint()
                return got

            p = explore.spawn(producer)
            c = explore.spawn(consumer)
            p.join()
            got = c.join()
            assert got == [(i, 1000 + i) for i in range(items)], f"consumer saw {got}"
            assert lib.vx_ring_len(r) == 0
        finally:
            lib.vx_ring_destroy(r)

    return body


def book_test(m: Any, ops_by_thread: list[list[tuple[str, int, int, int]]], *, levels: int = 4,
              tick_shift: int = 0, base: int = 100, max_retries: int = 100):
    """Threads apply (op, side, price, qty) lists to one book; op is "add",
    "remove", "owner_add" / "owner_remove" / "owner_best" (the writer's calls on a
    single-writer book, which the test creates when an op is one of these:
    only one thread of the test may make them) or "best" (a
    best-price query, which may clear stale bitmap bits while the others
    update; price and qty are ignored). After the joins:
    every level's quantity equals the model's sum of the successful operations
    (conservation; a Timeout changes nothing and is counted, never lost), no
    level is negative, and best bid/ask equal a recomputation from the levels."""
    ffi, lib = m.ffi, m.lib

    def body():
        err = ffi.new("int *")
        if any(op.startswith("owner_") for ops in ops_by_thread for op, *_ in ops):
            b = lib.vx_book_create_single_writer(base, levels, tick_shift, err)
        else:
            b = lib.vx_book_create(base, levels, tick_shift, max_retries, err)
        assert b != ffi.NULL, f"vx_book_create failed: {err[0]}"
        try:
            def worker(ops):
                done = []
                for op, side, price, qty in ops:
                    if op in ("best", "owner_best"):
                        p = ffi.new("int64_t *")
                        rc = (lib.vx_book_best if op == "best" else lib.vx_book_owner_best)(b, side, p)
                        assert rc in (0, 1), f"{op}({side}) returned {rc}"
                        done.append(p[0] if rc else None)
                        continue
                    fn = {"add": lib.vx_book_add, "remove": lib.vx_book_remove,
                          "owner_add": lib.vx_book_owner_add, "owner_remove": lib.vx_book_owner_remove}[op]
                    rc = fn(b, side, price, qty)
                    assert rc in (VX_OK, VX_EUNDERFLOW, VX_ETIMEOUT), f"{op}({side}, {price}, {qty}) returned {rc}"
                    done.append(rc)
                return done

            hs = [explore.spawn(worker, ops) for ops in ops_by_thread]
            results = [h.join() for h in hs]
            expect: dict[tuple[int, int], int] = {}
            for ops, rcs in zip(ops_by_thread, results):
                for (op, side, price, qty), rc in zip(ops, rcs):
                    if not op.endswith("best") and rc == VX_OK:
                        key = (side, (price - base) >> tick_shift)
                        expect[key] = expect.get(key, 0) + (qty if op.endswith("add") else -qty)
            best = {BID: None, ASK: None}
            for side in (BID, ASK):
                for level in range(levels):
                    price = base + (level << tick_shift)
                    depth = lib.vx_book_depth(b, side, price)
                    assert depth == expect.get((side, level), 0), (
                        f"side {side} level {level}: depth {depth}, expected {expect.get((side, level), 0)}")
                    if depth > 0:
                        if side == BID:
                            best[side] = price
                        elif best[side] is None:
                            best[side] = price
            for side in (BID, ASK):
                p = ffi.new("int64_t *")
                got = p[0] if lib.vx_book_best(b, side, p) else None
                assert got == best[side], f"best {'bid' if side == BID else 'ask'} {got}, levels say {best[side]}"
            return tuple(tuple(r) for r in results)
        finally:
            lib.vx_book_destroy(b)

    return body


def mpmc_test(m: Any, capacity: int, producers: list[int], consumers: int):
    """Producers p push producers[p] records each (retrying while full),
    `consumers` threads pop until all are taken; afterwards every record was
    taken exactly once and each consumer saw each producer's records in order."""
    ffi, lib = m.ffi, m.lib
    total = sum(producers)

    def body():
        err = ffi.new("int *")
        q = lib.vx_mpmc_create(capacity, 0, err)
        assert q != ffi.NULL, f"vx_mpmc_create failed: {err[0]}"
        taken = explore.Atomic(0, name="taken")
        try:
            def producer(pid, n):
                t = ffi.new("vx_txn *")
                for i in range(n):
                    t.id, t.producer = i, pid
                    while not lib.vx_mpmc_push(q, t):
                        explore.spin_hint()

            def consumer():
                got = []
                out = ffi.new("vx_txn *")
                while taken.load("relaxed") < total:
                    if lib.vx_mpmc_pop(q, out):
                        got.append((out.producer, out.id))
                        taken.fetch_add(1, "relaxed")
                    else:
                        explore.spin_hint()
                return got

            ps = [explore.spawn(producer, pid, n) for pid, n in enumerate(producers)]
            cs = [explore.spawn(consumer) for _ in range(consumers)]
            for h in ps:
                h.join()
            seen = [c.join() for c in cs]
            everything = sorted(x for got in seen for x in got)
            assert everything == sorted((p, i) for p, n in enumerate(producers) for i in range(n)), seen
            for got in seen:
                for pid in range(len(producers)):
                    ids = [i for p, i in got if p == pid]
                    assert ids == sorted(ids), f"a consumer saw producer {pid} out of order: {got}"
            assert lib.vx_mpmc_len(q) == 0
        finally:
            lib.vx_mpmc_destroy(q)

    return body
