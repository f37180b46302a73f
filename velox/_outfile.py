"""The ``velox run --output`` file: a header, 32-byte wire records, a trailer.

Layout (little-endian; docs/output-format.md is the full description)::

    header   32 bytes  magic b"VELOXOUT", u16 version, u16 record size (32),
                       u32 producers, u64 seed, u64 reserved (0)
    records  N x 32    delivered transactions, in delivery order
    trailer  32 bytes  magic b"VELOXEND", u64 N, u32 Adler-32 of the record
                       bytes (zlib's), u32 status flags, u64 reserved (0)

The trailer is written last, after every record, so a file whose run was
killed, or whose disk filled, has none: ``verify`` says it is incomplete. The
status flags say how a run that did write its trailer ended (interrupted by a
signal and drained, or with a write error: then N counts only what the file
accepted).
"""

from __future__ import annotations

import errno
import os
import stat
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

MAGIC = b"VELOXOUT"
END_MAGIC = b"VELOXEND"
VERSION = 1
RECORD_SIZE = 32
HEADER = struct.Struct("<8sHHIQQ")
TRAILER = struct.Struct("<8sQIIQ")
assert HEADER.size == RECORD_SIZE and TRAILER.size == RECORD_SIZE

#: Trailer status flags.
INTERRUPTED = 1  # stopped early by SIGINT or SIGTERM; the rings drained, every delivered record is here
WRITE_ERROR = 2  # the file refused a write: records after the first failure are missing
_KNOWN_FLAGS = INTERRUPTED | WRITE_ERROR

RECORD = struct.Struct("<QQqIBBH")  # id, ts, price, qty, side, reserved, producer


def header(*, producers: int, seed: int) -> bytes:
    return HEADER.pack(MAGIC, VERSION, RECORD_SIZE, producers, seed, 0)


def trailer(*, count: int, adler32: int, status: int) -> bytes:
    return TRAILER.pack(END_MAGIC, count, adler32, status, 0)


def open_output(path: str, *, on_wait: Callable[[str], None] | None = None, poll_s: float = 0.05) -> int:
    """Open ``path`` for writing (created or truncated) and return the fd.

    A FIFO with no reader does not block silently: ``on_wait`` is called once
    with a message, then the open is retried every ``poll_s`` seconds (a
    signal handler that raises, as Ctrl-C does, ends the wait)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise OSError(e.errno, f"cannot open output file {path!r}: {e.strerror}") from None
    if st is not None and stat.S_ISFIFO(st.st_mode):
        told = False
        while True:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
                break
            except OSError as e:
                if e.errno != errno.ENXIO:
                    raise OSError(e.errno, f"cannot open output FIFO {path!r}: {e.strerror}") from None
            if not told and on_wait is not None:
                on_wait(f"waiting for a reader to open the FIFO {path} (Ctrl-C gives up)")
            told = True
            time.sleep(poll_s)
        os.set_blocking(fd, True)
        return fd
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OSError(errno.EISDIR, f"cannot open output file {path!r}: it is a directory")
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise OSError(e.errno, f"cannot open output file {path!r}: {e.strerror}") from None


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[n:]


# -- reading and verifying ------------------------------------------------------

@dataclass
class Verdict:
    """What ``verify`` found: ``complete`` (the trailer is there and matches),
    ``valid`` (every record well-formed, FIFO per producer), and why not."""

    path: str
    complete: bool = False
    valid: bool = False
    records: int = 0
    producers: int = 0
    seed: int = 0
    status: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.complete and self.valid and not self.problems

    def summary(self) -> str:
        how = []
        if self.status & INTERRUPTED:
            how.append("run interrupted by a signal and drained")
        if self.status & WRITE_ERROR:
            how.append("the run hit a write error")
        extra = f" ({'; '.join(how)})" if how else ""
        if self.ok:
            return (f"{self.path}: complete and valid: {self.records} records from {self.producers} producers, "
                    f"checksum ok, FIFO per producer{extra}")
        state = "complete" if self.complete else "INCOMPLETE"
        return f"{self.path}: {state}{extra}: " + "; ".join(self.problems)


def verify(path: str, *, chunk_records: int = 1 << 16) -> Verdict:
    """Check a ``velox run --output`` file. Never raises for a bad file: every
    problem is in the verdict (OSError only when the file cannot be read)."""
    v = Verdict(path=path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(RECORD_SIZE)
        if len(head) < RECORD_SIZE:
            v.problems.append(f"{len(head)} bytes: shorter than the {RECORD_SIZE}-byte header (not a velox output "
                              "file, or the run was killed before it began writing)")
            return v
        magic, version, rsize, producers, seed, _ = HEADER.unpack(head)
        if magic != MAGIC:
            v.problems.append(f"no velox header (first 8 bytes {magic!r}, expected {MAGIC!r})")
            return v
        if version != VERSION or rsize != RECORD_SIZE:
            v.problems.append(f"format version {version} with {rsize}-byte records; this velox reads version "
                              f"{VERSION} with {RECORD_SIZE}-byte records")
            return v
        v.producers, v.seed = producers, seed
        body = size - RECORD_SIZE
        tail = b""
        if body >= RECORD_SIZE and body % RECORD_SIZE == 0:
            f.seek(size - RECORD_SIZE)
            tail = f.read(RECORD_SIZE)
            f.seek(RECORD_SIZE)
        n_records = body // RECORD_SIZE
        if tail[:8] == END_MAGIC:
            _, count, adler, status, reserved = TRAILER.unpack(tail)
            n_records -= 1
            v.status = status
            if count != n_records:
                v.problems.append(f"trailer counts {count} records, the file holds {n_records}")
            elif status & ~_KNOWN_FLAGS or reserved:
                v.problems.append(f"trailer has unknown status flags {status:#x} or reserved bits set")
            else:
                v.complete = not status & WRITE_ERROR
                if status & WRITE_ERROR:
                    v.problems.append(f"the run could not write every record (write error); {count} made it")
        else:
            adler = None
            partial = body % RECORD_SIZE
            v.problems.append("no trailer: the run did not finish writing this file (killed, or the disk "
                              "filled)" + (f"; it ends with a partial record of {partial} bytes" if partial else ""))
        # Records: well-formed and FIFO per producer; Adler-32 over them.
        next_id: dict[int, int] = {}
        sum32 = 1
        first_bad: str | None = None
        seen = 0
        while seen < n_records:
            want = min(chunk_records, n_records - seen)
            data = f.read(want * RECORD_SIZE)
            sum32 = zlib.adler32(data, sum32)
            for i, (rid, _ts, _price, _qty, side, res, pr) in enumerate(RECORD.iter_unpack(data)):
                if first_bad is not None:
                    break
                where = f"record {seen + i}"
                if side > 1:
                    first_bad = f"{where}: side byte {side} (0 BID or 1 ASK)"
                elif res:
                    first_bad = f"{where}: reserved byte {res} (must be 0)"
                elif pr >= producers:
                    first_bad = f"{where}: producer {pr}, the header declares {producers}"
                else:
                    want_id = next_id.get(pr, 0)
                    if rid != want_id:
                        first_bad = (f"{where}: producer {pr} id {rid}, expected {want_id} "
                                     f"({'a gap' if rid > want_id else 'out of order or repeated'})")
                    next_id[pr] = rid + 1
            seen += want
        v.records = n_records
        if first_bad is not None:
            v.problems.append(first_bad)
        if adler is not None and sum32 != adler:
            v.problems.append(f"checksum mismatch: the records' Adler-32 is {sum32:#010x}, the trailer says "
                              f"{adler:#010x} (the file was changed after it was written)")
            v.complete = False
        v.valid = first_bad is None
    return v
