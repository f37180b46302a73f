"""Compare ``velox litmus`` with the expected outputs herdtools7 ships for its C tests.

Usage: python ci/herd_agreement.py HERDTOOLS7_CHECKOUT [--jobs N] [--verbose]

Finds every ``*.litmus`` file under the checkout's C test folders that has a
``.litmus.expected`` (herd's output) or ``.litmus.expected-failure`` (herd
rejects the file) beside it, runs it as ``velox litmus --hexa`` does (herd's C
regression tests run with -hexa; see their ci.cfg) and compares the two line
by line on what herd's own regression check compares: the Test line, States,
each state, Ok/No, Witnesses, Positive/Negative, Condition and Observation
(``Time`` and ``Hash`` are skipped: herd hashes its own pretty-printing). An
expected-failure file agrees when velox rejects it too. Expected outputs whose
litmus source is not in the checkout (herd's generator writes them) are
counted and listed as not runnable. Prints one line per file and a summary;
exit 0 when everything runnable agrees, 1 otherwise.

The corpus is never copied into velox's repository: pass the path of a
herdtools7 checkout (``git clone https://github.com/herd/herdtools7``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys

#: herdtools7 folders holding C litmus tests with expected outputs, and the
#: memory model their expectations were computed with.
C_FOLDERS = {
    os.path.join("herd", "tests", "instructions", "C"): "rc11",
    os.path.join("gen", "tests", "C"): "rc11",
    os.path.join("catalogue", "linux", "tests"): "linux-kernel",
}
SKIPPED_PREFIXES = ("Time ", "Hash=")


def comparable(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip() and not line.startswith(SKIPPED_PREFIXES)]


def check(item: tuple[str, str, str]) -> tuple[str, str, str]:
    """(file, verdict, detail): verdict is agree, differ, velox-rejects, both-reject or herd-rejects."""
    from velox.explore.litmus.cli import _run_file

    litmus, expected_path, _model = item
    r = _run_file(litmus, "rc11", True, None, False)  # what `velox litmus --hexa FILE` prints
    if expected_path.endswith(".expected-failure"):
        if r["status"] == "bad":
            return litmus, "both-reject", r["error"]
        return litmus, "herd-rejects", "velox ran a test herd rejects"
    if r["status"] != "ok":
        return litmus, "velox-rejects", r["error"]
    with open(expected_path) as f:
        want = comparable(f.read())
    got = comparable(r["out"])
    if got == want:
        return litmus, "agree", ""
    diff = [f"-{w}" for w in want if w not in got] + [f"+{g}" for g in got if g not in want]
    return litmus, "differ", "; ".join(diff[:6])


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="ci/herd_agreement.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("checkout", help="path of a herdtools7 checkout")
    ap.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="files run at once")
    ap.add_argument("--verbose", "-v", action="store_true", help="print the differing lines")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.checkout):
        ap.error(f"{args.checkout} is not a folder")
    items: list[tuple[str, str, str]] = []
    orphans: list[str] = []
    for folder, model in C_FOLDERS.items():
        root = os.path.join(args.checkout, folder)
        if not os.path.isdir(root):
            print(f"(no folder {folder} in this checkout)")
            continue
        for fn in sorted(os.listdir(root)):
            if fn.endswith((".litmus.expected", ".litmus.expected-failure")):
                litmus = os.path.join(root, fn[:fn.index(".litmus") + len(".litmus")])
                if os.path.isfile(litmus):
                    items.append((litmus, os.path.join(root, fn), model))
                else:
                    orphans.append(os.path.join(folder, fn))
    counts: dict[tuple[str, str], int] = {}
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for (litmus, verdict, detail), (_l, _e, model) in zip(pool.map(check, items), items):
            counts[(model, verdict)] = counts.get((model, verdict), 0) + 1
            rel = os.path.relpath(litmus, args.checkout)
            line = f"{verdict:14} {rel}"
            if detail and (args.verbose or verdict != "agree"):
                line += f"  [{detail}]"
            print(line, flush=True)
    for o in orphans:
        print(f"{'no-source':14} {o}  [herd's generator writes this test; the checkout has only its output]")
    print()
    for model in dict.fromkeys(m for m in C_FOLDERS.values()):
        row = {v: n for (m, v), n in counts.items() if m == model}
        total = sum(row.values())
        if total:
            print(f"{model}: {total} files: " + ", ".join(f"{v} {n}" for v, n in sorted(row.items())))
    print(f"not runnable (expected output without its litmus source): {len(orphans)}")
    bad = sum(n for (m, v), n in counts.items() if m == "rc11" and v not in ("agree", "both-reject"))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
