"""``velox run``: placeholder demo of the structures until the pipeline lands.

Pushes transactions through an SpscRing into the OrderBook and the
BundleBuilder in one thread and prints what happened. The native pipeline
(issue 4) replaces this module.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import velox


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="velox run", description=__doc__)
    p.add_argument("--count", type=int, default=100_000, help="transactions to generate (default 100000)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: random, printed)")
    args = p.parse_args(argv)
    if args.count < 1:
        p.error("--count must be at least 1")
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    print(f"velox run (single-thread demo): {args.count} transactions, seed {seed}")
    rng = random.Random(seed)
    ring = velox.SpscRing(1024)
    book = velox.OrderBook(levels=1024, tick_shift=8, base_price=velox.price_to_ticks("90"))
    builder = velox.BundleBuilder()
    bundles = 0
    t0 = time.perf_counter()
    for i in range(args.count):
        txn = velox.Transaction(id=i, ts=velox.tsc.now(), price=rng.randrange(900_000, 1_100_000),
                                qty=rng.randrange(1, 100), side=rng.randrange(2))
        assert ring.push(txn)
        out = ring.pop()
        book.add(out.side, out.price, out.qty)
        if builder.push(out) is not None:
            bundles += 1
    if builder.flush() is not None:
        bundles += 1
    dt = time.perf_counter() - t0
    print(f"{args.count} transactions, {bundles} bundles in {dt:.3f} s; best bid {book.best_bid()}, "
          f"best ask {book.best_ask()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
