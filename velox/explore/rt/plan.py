"""Plans: the prefix of an execution the explorer asks the next run to replay."""

from __future__ import annotations

from typing import Any


class Plan:
    """A prefix of an execution to replay: items (tid, choice, kind); choice None means branch here."""

    __slots__ = ("items", "revisit_at", "revisits")

    def __init__(self, items: list[tuple[int, Any, Any]], revisits: int = 0, revisit_at: int = -1) -> None:
        self.items = items
        self.revisits = revisits  # backward revisits that led to this plan (bounded by max_preemptions)
        self.revisit_at = revisit_at  # a replayed event that must still push its own revisits

    def key(self) -> tuple:
        """Identity of the plan, for deduplication."""
        return tuple((tid, choice) for tid, choice, _ in self.items)
