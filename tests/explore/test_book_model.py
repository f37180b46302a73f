"""The order book's update algorithm (velox/_native/vx_book.c) as a Python model, explored exhaustively.

Quantities live in one atomic counter per rank, changed by a compare-exchange-weak
loop with spin-hint backoff. A bitmap word says which ranks may be non-empty: an
update that makes a rank non-empty sets its bit with a release fetch-or; one that
empties it clears the bit with an acquire fetch-and, re-reads the quantity and sets
the bit again if the level was refilled meanwhile. ``best()`` takes the highest set
bit whose level is non-empty. After the threads join, every quantity must be
conserved and ``best()`` exact. The seeded bug weakens the set from release to
relaxed: an emptier's recheck can then miss a concurrent refill and clear the bit
for good, losing the best price.
"""

from __future__ import annotations

import pytest

from velox.explore import Atomic, ExplorationFailure, check, spawn, spin_hint

BACKOFF_CAP = 64
MAX_RETRIES = 100


class Timeout(Exception):
    """The bounded CAS retry gave up (velox.Timeout in the real book)."""


class BookModel:
    """One side of vx_book, by rank (higher rank is better); one bitmap word
    (the C code adds a second level over the words, by the same protocol)."""

    def __init__(self, levels: int, raise_order: str = "release") -> None:
        self.qty = [Atomic(0, name=f"qty[{r}]") for r in range(levels)]
        self.bits = Atomic(0, name="bits")
        self.raise_order = raise_order

    def _mark_nonempty(self, rank: int) -> None:
        # release: publishes our non-zero quantity to a later clear's recheck
        self.bits.fetch_or(1 << rank, self.raise_order)

    def _mark_empty(self, rank: int) -> None:
        # acquire: a set before this clear in the word's order is visible to the recheck
        self.bits.fetch_and(~(1 << rank), "acquire")
        if self.qty[rank].load("relaxed") > 0:
            self._mark_nonempty(rank)

    def update(self, rank: int, delta: int) -> None:
        q = self.qty[rank]
        cur = q.load("relaxed")  # a starting guess; the CAS checks it
        spins = 1
        for _ in range(MAX_RETRIES):
            if delta < 0 and cur < -delta:
                raise ValueError(f"remove below zero at rank {rank}")
            nxt = cur + delta
            ok, seen = q.compare_exchange_weak(cur, nxt, "relaxed", "relaxed")
            if ok:
                if cur == 0 and nxt > 0:
                    self._mark_nonempty(rank)
                elif nxt == 0:
                    self._mark_empty(rank)
                return
            cur = seen
            for _ in range(spins):
                spin_hint()
            spins = min(spins * 2, BACKOFF_CAP)
        raise Timeout(f"rank {rank}")

    def best(self) -> int | None:
        word = self.bits.load("acquire")  # pairs with the release fetch-or in _mark_nonempty
        while word:
            rank = word.bit_length() - 1
            if self.qty[rank].load("relaxed") > 0:
                return rank
            word &= ~(1 << rank)  # a stale bit over an empty level
        return None

    def depth(self, rank: int) -> int:
        return self.qty[rank].load("relaxed")


def book_test(levels: int, programs: list[list[tuple[int, int]]], raise_order: str = "release"):
    """Each thread applies its (rank, delta) updates; afterwards quantities and best must be exact."""

    def test() -> tuple[int, ...]:
        book = BookModel(levels, raise_order)

        def worker(ops: list[tuple[int, int]]) -> None:
            for rank, delta in ops:
                book.update(rank, delta)

        handles = [spawn(worker, ops) for ops in programs]
        for h in handles:
            h.join()
        expected = [0] * levels
        for ops in programs:
            for rank, delta in ops:
                expected[rank] += delta
        depths = tuple(book.depth(r) for r in range(levels))
        assert list(depths) == expected, f"quantities not conserved: {depths} != {expected}"
        true_best = max((r for r in range(levels) if expected[r] > 0), default=None)
        assert book.best() == true_best, f"best() is {book.best()}, but the best non-empty rank is {true_best}"
        return depths

    return test


# Neighbouring levels: one thread adds below while another adds and empties the level above.
NEIGHBOURS = [[(0, 1)], [(1, 1), (1, -1)]]
# The same level: two adders and a remover of one of them.
SAME_LEVEL = [[(1, 1), (1, -1)], [(1, 2)]]
# One thread empties a level while another refills it.
REFILL = [[(1, 1), (1, -1)], [(1, 1)]]
# Three threads over three levels.
THREE = [[(0, 1)], [(2, 1), (2, -1)], [(1, 1)]]


@pytest.mark.parametrize("programs", [NEIGHBOURS, SAME_LEVEL, REFILL], ids=["neighbours", "same-level", "refill"])
def test_book_updates_pass_exhaustively(programs):
    stats = check(book_test(3, programs))
    print(stats)
    assert stats.complete and stats.executions > 0


def test_book_three_threads_pass_exhaustively():
    """Three threads over three levels (about 1,300 executions)."""
    stats = check(book_test(3, THREE))
    print(stats)
    assert stats.complete and stats.executions > 0


def test_relaxed_mark_loses_the_best_price():
    """Seeded bug: the fetch-or that marks a level non-empty weakened from release to relaxed."""
    with pytest.raises(ExplorationFailure) as info:
        check(book_test(3, REFILL, raise_order="relaxed"))
    err = info.value
    print(err)
    assert err.kind == "assertion"
    assert err.executions <= 5
    assert "best()" in err.failure_message
    assert "bits" in str(err) and "fetch_or" in str(err)
