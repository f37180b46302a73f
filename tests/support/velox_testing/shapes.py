"""The classic memory-model shapes as explorer test bodies (store buffering,
message passing, IRIW) and a compare-exchange retry counter, for the
semantics, replay, shard and workers tests and the explorer benchmark."""

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
