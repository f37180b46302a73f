"""BundleBuilder from Python: pushing transactions that fill bundles of 16,
against a pure-Python list builder doing the same grouping (the peer), in the
same run; per transaction. Each call pushes ITEMS transactions (a multiple of
16, so every call hands out ITEMS / 16 whole bundles)."""

from __future__ import annotations

import pytest

import velox

ITEMS = 1_024
TXN = velox.Transaction(id=1, ts=2, price=1_002_500, qty=10, side=velox.BID, producer=3)


@pytest.mark.benchmark(group="bundle-push")
def test_builder_push(per_item):
    # A timeout far longer than a call: every bundle is flushed by size.
    builder = velox.BundleBuilder(max_txns=16, timeout_ns=10_000_000_000)
    push, txn = builder.push, TXN
    bundles = []

    def loop() -> None:
        for _ in range(ITEMS):
            b = push(txn)
            if b is not None:
                bundles.append(b.reason)
        bundles.clear()

    per_item(loop, items=ITEMS, label="BundleBuilder.push (bundles of 16, TSC clock)")
    assert len(builder) == 0


@pytest.mark.benchmark(group="bundle-push")
def test_list_peer_push(per_item):
    pending: list = []
    txn = TXN
    bundles = []

    def loop() -> None:
        for _ in range(ITEMS):
            pending.append(txn)
            if len(pending) == 16:
                bundles.append(tuple(pending))
                pending.clear()
        bundles.clear()

    per_item(loop, items=ITEMS, label="list + tuple per 16 (peer, pure Python, no clock)", reference=True)
    assert not pending
