#!/usr/bin/env python3
"""What each gate is for: run every native mutant of tests/mutants/catalogue.py
against the explorer (model build), the stateful machines and the stress
drivers, and print which gate catches which mutant as a Markdown table.

    python ci/mutant_table.py [--only NAME[,NAME...]] [--seeds N]

"caught" means the gate reported a failure on the mutant (the explorer: an
ExplorationFailure; a machine: Hypothesis found a falsifying program within
the ci budget; a stress driver: a violation within N short seeded runs);
"missed" means it ran and saw nothing; "-" means the gate has no test that
exercises that code (for example the order-book machine on a ring mutant).
Each gate's own tests already assert the mutants it is responsible for; this
script is the cross-product, for the report. Runs take a few minutes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for sub in ("tests", "tests/explore_c", "tests/stateful", "tests/stress/native"):
    sys.path.insert(0, str(ROOT / sub))

from mutants.build import run_isolated  # noqa: E402
from mutants.catalogue import MUTANTS  # noqa: E402

#: stateful machine and stress driver that exercise each C file
MACHINE_OF_FILE = {"vx_ring.c": "ring", "vx_book.c": "book", "_book.pxi": "book", "vx_bundle.c": "bundle"}
DRIVER_OF_FILE = {"vx_ring.c": "ring", "vx_book.c": "book", "vx_mpmc.c": "mpmc"}


def explorer_verdict(name: str) -> str:
    from test_mutants_explored import SCENARIOS, make_test

    if name not in SCENARIOS:
        return "-"
    from mutants_c import build_model_mutant

    from velox import explore

    m = build_model_mutant(name)

    def run():
        try:
            stats = explore.check(make_test(m, SCENARIOS[name][0]))
        except explore.ExplorationFailure as e:
            return f"caught ({str(e).split(' after ', 1)[1].split(' [', 1)[0]})"
        return "missed" if stats.complete else "missed (incomplete)"

    res = run_isolated(run, timeout=600)
    return res["value"] if res["ok"] else f"caught? ({res['error'][:40]})"


def stateful_verdict(name: str) -> str:
    files = {e.file for e in MUTANTS[name].edits}
    gates = sorted({MACHINE_OF_FILE[f] for f in files if f in MACHINE_OF_FILE})
    if not gates:
        return "-"
    from test_mutants_caught import _hunt

    out = []
    for gate in gates:
        res = _hunt(gate, name)
        out.append(f"{gate}: " + (f"caught (example {res.get('after')})" if res["caught"] else "missed"))
    return "; ".join(out)


def stress_verdict(name: str, seeds: int, build_dir: Path) -> str:
    files = {e.file for e in MUTANTS[name].edits}
    drivers = sorted({DRIVER_OF_FILE[f] for f in files if f in DRIVER_OF_FILE})
    if not drivers or any(not f.endswith((".c", ".h")) for f in files):
        return "-"  # the standalone C drivers do not run the Cython binding
    import harness

    exe = harness.build(build_dir, mutant=name)
    out = []
    for driver in drivers:
        verdict = "missed"
        for seed in range(1, seeds + 1):
            extra = harness.EXTRA_ARGS.get(name, ())
            r = harness.run(exe, "--driver", driver, "--seconds", "0.6", "--seed", str(seed), *extra, timeout=120)
            if r.returncode != 0:
                verdict = f"caught (seed {seed})" if r.returncode == 1 else f"crashed (exit {r.returncode})"
                break
        out.append(f"{driver}: {verdict}")
    return "; ".join(out)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", help="comma-separated mutant names (default: every C-core mutant)")
    p.add_argument("--seeds", type=int, default=3, help="stress runs per mutant (default 3)")
    args = p.parse_args(argv)
    names = args.only.split(",") if args.only else [n for n in MUTANTS if not n.startswith("pipeline_")]
    unknown = [n for n in names if n not in MUTANTS]
    if unknown:
        p.error(f"unknown mutants: {', '.join(unknown)}")
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for n in names:
            t = time.time()
            row = (n, explorer_verdict(n), stateful_verdict(n), stress_verdict(n, args.seeds, Path(d)))
            print(f"[{time.time() - t:5.1f}s] " + " | ".join(row), file=sys.stderr, flush=True)
            rows.append(row)
    print("| mutant | explorer (model build) | stateful machine | stress driver |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
