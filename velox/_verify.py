"""``velox verify FILE...``: is a ``velox run --output`` file complete and valid?

Checks the header, the trailer (present, record count, Adler-32 of the
records), every record's side and reserved bytes and producer number, and
FIFO per producer (each producer's ids 0, 1, 2, ... with no gap, repeat or
reordering). A run that was killed, or whose disk filled, leaves no trailer:
the file is reported INCOMPLETE.

Exit status: 0 every file complete and valid; 1 a file is complete but its
records are not valid (or were changed after writing: checksum mismatch);
2 bad usage or a file that cannot be read; 3 a file is incomplete.
"""

from __future__ import annotations

import argparse
import sys

from . import _outfile

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="velox verify", description=__doc__.split("\n\n")[1].replace("\n", " "),
                                epilog=__doc__.split("\n\n")[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", metavar="FILE", help="output files of 'velox run --output'")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rc = EXIT_OK
    for path in args.files:
        try:
            v = _outfile.verify(path)
        except OSError as e:
            print(f"velox verify: {path}: {e.strerror or e}", file=sys.stderr)
            rc = max(rc, EXIT_USAGE)
            continue
        print(v.summary())
        if v.ok:
            continue
        changed = any(p.startswith("checksum mismatch") for p in v.problems)
        rc = max(rc, EXIT_INVALID if changed or not v.valid else EXIT_INCOMPLETE)
    return rc


if __name__ == "__main__":
    sys.exit(main())
