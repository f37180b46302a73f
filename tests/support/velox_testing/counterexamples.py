"""Counterexamples that survive the night: one example database for
Hypothesis's failing examples, the explorer's replay tokens and the stress
seeds, so the next gate (on this machine or another) replays them first.

``VELOX_EXAMPLE_DB`` chooses the database: unset, a directory
(``VELOX_HYPOTHESIS_DB``, default ``.hypothesis/examples``); ``redis://host:port/db``,
Hypothesis's ``RedisExampleDatabase`` on that server, so a team's nightly
machines and its CI share what they found.
"""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
KINDS = ("explore", "stress")


def example_database() -> ExampleDatabase:
    url = os.environ.get("VELOX_EXAMPLE_DB", "").strip()
    if not url:
        return DirectoryBasedExampleDatabase(
            os.environ.get("VELOX_HYPOTHESIS_DB", os.path.join(ROOT, ".hypothesis", "examples")))
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"VELOX_EXAMPLE_DB must be a redis:// URL (or unset for the directory database), got {url!r}")
    import redis
    from hypothesis.extra.redis import RedisExampleDatabase

    return RedisExampleDatabase(redis.Redis.from_url(url), expire_after=timedelta(days=90),
                                key_prefix=b"velox-hypothesis:")


class Counterexamples:
    """Replay tokens and seeds keyed by kind and pytest node id, stored in an
    example database beside Hypothesis's own examples."""

    def __init__(self, db: ExampleDatabase) -> None:
        self.db = db

    @staticmethod
    def _key(kind: str, nodeid: str) -> bytes:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        return f"velox-counterexample:{kind}:{nodeid}".encode()

    def save(self, kind: str, nodeid: str, value: str) -> None:
        self.db.save(self._key(kind, nodeid), value.encode())

    def load(self, kind: str, nodeid: str) -> list[str]:
        return sorted(v.decode() for v in self.db.fetch(self._key(kind, nodeid)))

    def delete(self, kind: str, nodeid: str, value: str) -> None:
        self.db.delete(self._key(kind, nodeid), value.encode())

    def any_for(self, nodeid: str) -> bool:
        return any(self.load(kind, nodeid) for kind in KINDS)


def failing_first(items: list, store: Counterexamples) -> list:
    """Items with stored counterexamples first, otherwise in collection order."""
    return sorted(items, key=lambda it: 0 if store.any_for(it.nodeid) else 1)


_STORE: Counterexamples | None = None


def store() -> Counterexamples:
    """The session's store (one database connection per process)."""
    global _STORE
    if _STORE is None:
        _STORE = Counterexamples(example_database())
    return _STORE
