"""``velox litmus FILE...``: run herd-format C litmus tests, print herd7's result layout.

Exit status: 0 when every file ran (and, with ``--expect`` or ``--check-expected``,
every observation matched); 1 when an observation disagrees with its expectation;
2 on bad usage or a file that cannot be read or parsed (its error is printed and
the other files still run); 3 when the explorer itself failed on a test (likewise).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import os
import sys

from . import LitmusError, format_result, parse_litmus, run_litmus
from .parse import decode_litmus

DESCRIPTION = """\
Run herdtools7 C litmus tests on velox's explorer and print herd7's result
layout (Test, States, Ok/No, Witnesses, Positive/Negative, Condition,
Observation, Time, Hash), so the output can be diffed line by line with
'herd7 -model rc11.cat FILE'. Every execution the memory model allows is
explored: RC11 (the default, as herd's rc11.cat) or sequential consistency.

Supported: the initial state block, P0..Pn bodies with atomic_load/store/
fetch_add/sub/and/or/xor/exchange/compare_exchange_strong/weak (_explicit or
not; the expected value a pointer to a register or a location parameter),
atomic_thread_fence, plain '*x' accesses, int registers with arithmetic and
'if', and exists / ~exists / forall conditions with /\\ \\/ ~ => plus
'locations [...]' and 'filter'. Anything else is an error naming the line.
"""

EPILOG = """\
exit status: 0 ok; 1 an observation disagrees with its expectation;
  2 bad usage or a file that cannot be read or parsed; 3 the explorer failed.
  A bad file or an explorer failure is reported and the other files still run.

expectations:
  --expect KIND checks every file's Observation against KIND.
  --check-expected reads each file's '(* expect: rc11=Never sc=Never *)'
  comment and checks the entry for the selected --model; an entry such as
  rc11=Sometimes+Undef also requires herd's Undef flag (a data race).

examples:
  velox litmus tests/explore/litmus/SB+sc.litmus
  velox litmus --model sc --check-expected tests/explore/litmus/
"""


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="velox litmus", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("files", nargs="+", metavar="FILE",
                    help="herd C litmus test files, or folders (every *.litmus file directly inside)")
    ap.add_argument("--model", choices=("rc11", "sc"), default="rc11",
                    help="memory model: rc11 (default, as herd's rc11.cat) or sc (sequential consistency)")
    ap.add_argument("--expect", choices=("Always", "Sometimes", "Never"),
                    help="exit 1 unless every test's Observation is KIND")
    ap.add_argument("--check-expected", action="store_true",
                    help="exit 1 unless each Observation matches the file's '(* expect: ... *)' entry for --model")
    ap.add_argument("--hexa", action="store_true", help="print values in hexadecimal, as herd7 -hexa does")
    ap.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                    help="run N tests at once in worker processes (output stays in file order)")
    ap.add_argument("--summary", action="store_true",
                    help="after the results, print one line per test to stderr: name, observation, expectation")
    return ap


def _run_file(path: str, model: str, hexa: bool, expect: str | None, check_expected: bool) -> dict:
    """Read, parse and run one file (in this process or a --jobs worker); what to print and how it went."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return {"status": "bad", "error": f"velox litmus: cannot read {path}: {exc.strerror}"}
    try:
        test = parse_litmus(decode_litmus(data, path), path)
    except LitmusError as exc:
        return {"status": "bad", "error": f"velox litmus: {exc}"}
    try:
        result = run_litmus(test, model)
    except Exception as exc:  # an engine error must not hide the other tests' results
        return {"status": "engine", "name": test.name,
                "error": f"velox litmus: {test.filename}: {test.name}: the explorer failed under {model}: "
                         f"{type(exc).__name__}: {exc}"}
    expected: str | None = None
    if expect:
        expected = expect
    elif check_expected:
        expected = dict(test.expectations).get(model, "")
    return {"status": "ok", "name": test.name, "filename": test.filename, "out": format_result(result, hexa=hexa),
            "verdict": result.verdict, "observation": result.observation, "expected": expected}


def main(argv: list[str]) -> int:
    """Entry point of ``velox litmus``; returns the exit status."""
    ap = _parser()
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    if args.jobs < 1:
        print(f"velox litmus: --jobs must be at least 1, got {args.jobs}", file=sys.stderr)
        return 2

    paths: list[str] = []
    bad_files = 0
    for path in args.files:
        if os.path.isdir(path):  # a folder stands for the .litmus files directly in it
            found = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".litmus"))
            if not found:
                print(f"velox litmus: no .litmus files in folder {path}", file=sys.stderr)
                bad_files += 1
            paths.extend(found)
        else:
            paths.append(path)

    run = functools.partial(_run_file, model=args.model, hexa=args.hexa, expect=args.expect,
                            check_expected=args.check_expected)
    if args.jobs > 1 and len(paths) > 1:
        pool = concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs)
        outcomes = pool.map(run, paths)
    else:
        pool = None
        outcomes = map(run, paths)

    disagreements: list[str] = []
    engine_failures: list[str] = []
    try:
        for i, (path, r) in enumerate(zip(paths, outcomes), 1):
            if len(paths) > 1:
                print(f"[{i}/{len(paths)}] {r.get('name', path)}", file=sys.stderr, flush=True)
            if r["status"] == "bad":
                print(r["error"], file=sys.stderr, flush=True)
                bad_files += 1
                continue
            if r["status"] == "engine":
                print(r["error"], file=sys.stderr, flush=True)
                engine_failures.append(r["name"])
                continue
            sys.stdout.write(r["out"])
            sys.stdout.flush()
            expected = r["expected"]
            if args.summary:
                print(f"{r['name']}: {r['verdict']} (expected {expected or '-'})", file=sys.stderr)
            if expected is None:
                continue
            observed = r["observation"] if args.expect else r["verdict"]
            if expected == "":
                disagreements.append(f"{r['filename']}: {r['name']}: no '(* expect: {args.model}=... *)' entry")
            elif expected != observed:
                disagreements.append(f"{r['filename']}: {r['name']}: expected {expected} under {args.model}, "
                                     f"observed {observed}")
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    for line in disagreements:
        print(f"velox litmus: DISAGREES: {line}", file=sys.stderr)
    if disagreements:
        print(f"velox litmus: {len(disagreements)} of {len(paths)} tests disagree with their expectation",
              file=sys.stderr)
    if bad_files:
        print(f"velox litmus: {bad_files} of {len(paths)} file{'s' if len(paths) != 1 else ''} could not be read "
              "or parsed (errors above); the others ran", file=sys.stderr)
    if engine_failures:
        print(f"velox litmus: the explorer failed on {len(engine_failures)} of {len(paths)} tests: "
              f"{', '.join(engine_failures)}", file=sys.stderr)
        return 3
    if bad_files:
        return 2
    return 1 if disagreements else 0
