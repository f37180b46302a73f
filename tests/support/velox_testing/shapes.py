"""The classic memory-model shapes as explorer test bodies (store buffering,
message passing, IRIW) and compare-exchange retry counters (carrying the failed value, or
re-reading at the loop's head), for the semantics, replay, shard, workers and retry-loop tests, the
runtime comparison and the explorer benchmark."""

from __future__ import annotations

from velox.explore import Atomic, spawn


def sb(order: str, load_order: str | None = None):
    lo = load_order or order

    def test():
        x, y = Atomic(0, name="x"), Atomic(0, name="y")

        def t1():
            x.store(1, order)
            return y.load(lo)

        def t2():
            y.store(1, order)
            return x.load(lo)

        a, b = spawn(t1), spawn(t2)
        return a.join(), b.join()

    return test


def mp(store_order: str, load_order: str):
    def test():
        data, flag = Atomic(0, name="data"), Atomic(0, name="flag")

        def writer():
            data.store(1, "relaxed")
            flag.store(1, store_order)

        def reader():
            f = flag.load(load_order)
            return f, data.load("relaxed")

        w, r = spawn(writer), spawn(reader)
        w.join()
        return r.join()

    return test


def mp_checked(store_order: str, load_order: str):
    """Message passing as a check: the main thread asserts that seeing the flag
    means seeing the data (fails with relaxed orders, holds with release/acquire).
    Every body this returns has the same name, so a replay token of one fits the
    others (a test "fixed" between two sessions)."""

    def test():
        data, flag = Atomic(0), Atomic(0)

        def writer():
            data.store(1, "relaxed")
            flag.store(1, store_order)

        t = spawn(writer)
        if flag.load(load_order) == 1:
            assert data.load("relaxed") == 1, "saw the flag but not the data"
        t.join()

    return test


def iriw(order: str):
    def test():
        x, y = Atomic(0, name="x"), Atomic(0, name="y")
        ts = [spawn(lambda: x.store(1, "seq_cst" if order == "seq_cst" else "release")),
              spawn(lambda: y.store(1, "seq_cst" if order == "seq_cst" else "release")),
              spawn(lambda: (x.load(order), y.load(order))),
              spawn(lambda: (y.load(order), x.load(order)))]
        res = [t.join() for t in ts]
        return res[2], res[3]

    return test


def cas_counter(threads: int, incs: int, weak: bool):
    """``threads`` threads each add ``incs`` to a counter with a compare-exchange retry loop (the failed
    compare-exchange hands back the value it read, which the retry expects); returns the final count."""

    def test():
        c = Atomic(0, name="c")

        def worker():
            for _ in range(incs):
                cur = c.load("relaxed")
                while True:
                    cas = c.compare_exchange_weak if weak else c.compare_exchange_strong
                    ok, cur = cas(cur, cur + 1, "relaxed", "relaxed")
                    if ok:
                        break

        hs = [spawn(worker) for _ in range(threads)]
        for h in hs:
            h.join()
        return c.load("relaxed")

    return test


def load_at_head_counter(threads: int, incs: int, weak: bool):
    """The counter as C code usually writes it, re-reading at the loop's head
    (``do { old = load(c); } while (!cas(c, old, old + 1))``): an iteration whose compare-exchange
    fails comes back to the same read in the same state. Returns, per thread, the value its last
    successful compare-exchange replaced, and the final count."""

    def test():
        c = Atomic(0, name="c")

        def worker():
            seen = None
            for _ in range(incs):
                while True:
                    cur = c.load("relaxed")
                    cas = c.compare_exchange_weak if weak else c.compare_exchange_strong
                    ok, _v = cas(cur, cur + 1, "relaxed", "relaxed")
                    if ok:
                        seen = cur
                        break
            return seen

        hs = [spawn(worker) for _ in range(threads)]
        last = tuple(h.join() for h in hs)
        return last, c.load("relaxed")

    return test
