"""Plans: the prefix of an execution the explorer asks the next run to replay."""

from __future__ import annotations

from typing import Any

# Per-item bookkeeping of the optimal search (see revisit.py), parallel to Plan.items:
# (key, added_max, revisitable). ``key`` orders events the way the search added them (a revisited
# read keeps its place before the write it now reads, although the re-run performs it after);
# ``added_max`` says whether the event took its first choice (a read of the mo-latest write, a write
# placed mo-last, choose() == 0) or None to decide that when it is replayed; ``revisitable`` is
# False for the prefix of a write that revisited a read (it may not be revisited again).
Meta = tuple[int, "bool | None", bool]


class Plan:
    """A prefix of an execution to replay: items (tid, choice, kind); choice None means branch here."""

    __slots__ = ("items", "meta", "next_key", "owner", "revisit_at", "revisits")

    def __init__(self, items: list[tuple[int, Any, Any]], revisits: int = 0, revisit_at: int = -1,
                 meta: list[Meta] | None = None, next_key: int | None = None) -> None:
        self.items = items
        self.revisits = revisits  # backward revisits that led to this plan (bounded by max_preemptions)
        self.revisit_at = revisit_at  # a replayed event that must still push its own revisits
        self.meta = meta  # None: every item is fresh (a replay token, the first run)
        self.next_key = len(items) if next_key is None else next_key
        self.owner: int | None = None  # with check(shard=...): the shard exploring this subtree (None: all)

    def key(self) -> tuple:
        """Identity of the plan, for deduplication."""
        return tuple((tid, choice) for tid, choice, _ in self.items)
