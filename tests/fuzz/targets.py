"""Coverage-guided fuzz targets (atheris/libFuzzer) for velox's parsers of
untrusted input. Run one as a script:

    python tests/fuzz/targets.py litmus -max_total_time=60 [CORPUS_DIR]

Each target feeds arbitrary bytes to one decoder and allows only the clean
error that decoder documents; anything else (another exception, a crash, a
hang past libFuzzer's -timeout) is a finding, and libFuzzer writes the input
to crash-* in the working directory.
"""

from __future__ import annotations

import os
import sys
import tempfile

import atheris

with atheris.instrument_imports(include=["velox"]):
    from velox import SpscRing, Transaction, _outfile
    from velox.explore._trace import decode_token
    from velox.explore.litmus import LitmusError, parse_litmus
    from velox.explore.litmus.parse import decode_litmus


def litmus(data: bytes) -> None:
    try:
        parse_litmus(decode_litmus(data, "fuzz.litmus"), "fuzz.litmus")
    except LitmusError:
        pass


_RING = SpscRing(64)
_FILE = os.path.join(tempfile.mkdtemp(prefix="velox-fuzz-"), "out.bin")


def wire(data: bytes) -> None:
    """Wire records: Transaction.from_bytes, the rings' batch boundary and
    the output-file verifier."""
    try:
        Transaction.from_bytes(data[:32])
    except ValueError:
        pass
    try:
        _RING.push_many(data[: len(data) - len(data) % 32])
    except ValueError:
        pass
    _RING.pop_many(64)
    with open(_FILE, "wb") as f:
        f.write(data)
    _outfile.verify(_FILE)  # never raises for a bad file


def token(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    text = fdp.ConsumeUnicodeNoSurrogates(len(data))
    for candidate in (text, "vx1." + text):
        try:
            decode_token(candidate)
        except ValueError:
            pass


def selftest(data: bytes) -> None:
    """A deliberately broken decoder (a mutant): crashes on any input that
    starts with 'C'. The gate runs it to show a finding fails the run."""
    if data[:1] == b"C":
        raise RuntimeError("selftest finding")


TARGETS = {"litmus": litmus, "wire": wire, "token": token, "selftest": selftest}

if __name__ == "__main__":
    name = sys.argv[1]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], TARGETS[name])
    atheris.Fuzz()
