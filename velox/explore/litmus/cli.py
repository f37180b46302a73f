"""``velox litmus FILE...``: run herd-format C litmus tests, print herd7's result layout.

Exit status: 0 when every file ran (and, with ``--expect`` or ``--check-expected``,
every observation matched); 1 when an observation disagrees with its expectation;
2 on bad usage or a file that cannot be read or parsed; 3 when the explorer itself
failed on a test (its message is printed, and the remaining files still run).
"""

from __future__ import annotations

import argparse
import os
import sys

from . import LitmusError, LitmusTest, format_result, parse_litmus, run_litmus

DESCRIPTION = """\
Run herdtools7 C litmus tests on velox's explorer and print herd7's result
layout (Test, States, Ok/No, Witnesses, Positive/Negative, Condition,
Observation, Time, Hash), so the output can be diffed line by line with
'herd7 -model rc11.cat FILE'. Every execution the memory model allows is
explored: RC11 (the default, as herd's rc11.cat) or sequential consistency.

Supported: the initial state block, P0..Pn bodies with atomic_load/store/
fetch_add/fetch_sub/exchange/compare_exchange_strong/weak (_explicit or not),
atomic_thread_fence, plain '*x' accesses, int registers with arithmetic and
'if', and exists / ~exists / forall conditions with /\\ \\/ ~ => plus
'locations [...]' and 'filter'. Anything else is an error naming the line.
"""

EPILOG = """\
exit status: 0 ok; 1 an observation disagrees with its expectation;
  2 bad usage or a file that cannot be read or parsed; 3 the explorer failed.

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
    ap.add_argument("--summary", action="store_true",
                    help="after the results, print one line per test to stderr: name, observation, expectation")
    return ap


def _expected(test: LitmusTest, model: str, args: argparse.Namespace) -> str | None:
    """The expected verdict: ``--expect`` (an Observation), or the file's entry (``Never``, ``Sometimes+Undef``...)."""
    if args.expect:
        return args.expect
    if args.check_expected:
        found = dict(test.expectations)
        return found.get(model, "")
    return None


def main(argv: list[str]) -> int:
    """Entry point of ``velox litmus``; returns the exit status."""
    ap = _parser()
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)

    paths: list[str] = []
    for path in args.files:
        if os.path.isdir(path):  # a folder stands for the .litmus files directly in it
            found = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".litmus"))
            if not found:
                print(f"velox litmus: no .litmus files in folder {path}", file=sys.stderr)
                return 2
            paths.extend(found)
        else:
            paths.append(path)

    tests: list[LitmusTest] = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            print(f"velox litmus: cannot read {path}: {exc.strerror}", file=sys.stderr)
            return 2
        try:
            tests.append(parse_litmus(text, path))
        except LitmusError as exc:
            print(f"velox litmus: {exc}", file=sys.stderr)
            return 2

    disagreements: list[str] = []
    engine_failures: list[str] = []
    for i, test in enumerate(tests, 1):
        if len(tests) > 1:
            print(f"[{i}/{len(tests)}] {test.name}", file=sys.stderr, flush=True)
        try:
            result = run_litmus(test, args.model)
        except Exception as exc:  # an engine error must not hide the other tests' results
            print(f"velox litmus: {test.filename}: {test.name}: the explorer failed under {args.model}: "
                  f"{type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            engine_failures.append(test.name)
            continue
        sys.stdout.write(format_result(result, hexa=args.hexa))
        sys.stdout.flush()
        expected = _expected(test, args.model, args)
        if args.summary:
            print(f"{test.name}: {result.verdict} (expected {expected or '-'})", file=sys.stderr)
        if expected is None:
            continue
        if expected == "":
            disagreements.append(f"{test.filename}: {test.name}: no '(* expect: {args.model}=... *)' entry")
        elif expected != (result.observation if args.expect else result.verdict):
            disagreements.append(
                f"{test.filename}: {test.name}: expected {expected} under {args.model}, observed {result.observation if args.expect else result.verdict}"
            )
    for line in disagreements:
        print(f"velox litmus: DISAGREES: {line}", file=sys.stderr)
    if disagreements:
        print(f"velox litmus: {len(disagreements)} of {len(tests)} tests disagree with their expectation", file=sys.stderr)
    if engine_failures:
        print(f"velox litmus: the explorer failed on {len(engine_failures)} of {len(tests)} tests: "
              f"{', '.join(engine_failures)}", file=sys.stderr)
        return 3
    return 1 if disagreements else 0
