"""The output file format and ``velox verify``: a good file passes, and every
way a file can be incomplete or wrong is named (truncated, no trailer,
checksum, count, malformed record, FIFO violation)."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib

import pytest

from velox import Transaction, _outfile
from velox._verify import main as verify_main


def _file(records: list[Transaction], *, producers: int = 2, status: int = 0, count: int | None = None,
          adler: int | None = None) -> bytes:
    body = b"".join(t.to_bytes() for t in records)
    n = len(records) if count is None else count
    a = zlib.adler32(body) if adler is None else adler
    return (_outfile.header(producers=producers, seed=9) + body
            + _outfile.trailer(count=n, adler32=a, status=status))


GOOD = [Transaction(id=i // 2, producer=i % 2, qty=1, price=5) for i in range(10)]


def _verify(tmp_path, data: bytes) -> _outfile.Verdict:
    p = tmp_path / "f.bin"
    p.write_bytes(data)
    return _outfile.verify(str(p))


def test_good_file(tmp_path):
    v = _verify(tmp_path, _file(GOOD))
    assert v.ok and v.records == 10 and v.producers == 2 and v.seed == 9, v.summary()
    assert verify_main([str(tmp_path / "f.bin")]) == 0


def test_empty_run_is_complete(tmp_path):
    assert _verify(tmp_path, _file([])).ok


@pytest.mark.parametrize("cut", [1, 31, 32, 33, 64, 200])
def test_truncated_file_is_incomplete(tmp_path, cut):
    data = _file(GOOD)[:-cut]
    v = _verify(tmp_path, data)
    assert not v.ok and not v.complete
    assert verify_main([str(tmp_path / "f.bin")]) == 3


def test_killed_before_header(tmp_path):
    v = _verify(tmp_path, b"")
    assert not v.complete and "shorter than the 32-byte header" in v.summary()


def test_not_a_velox_file(tmp_path):
    v = _verify(tmp_path, b"hello world" * 10)
    assert not v.ok and "no velox header" in v.summary()


def test_changed_byte_is_a_checksum_mismatch(tmp_path):
    data = bytearray(_file(GOOD))
    data[32 + 16] ^= 1  # a price bit: the record is still well-formed
    v = _verify(tmp_path, bytes(data))
    assert not v.ok and "checksum mismatch" in v.summary()
    assert verify_main([str(tmp_path / "f.bin")]) == 1


def test_count_mismatch(tmp_path):
    v = _verify(tmp_path, _file(GOOD, count=11))
    assert not v.ok and "trailer counts 11 records, the file holds 10" in v.summary()


def test_fifo_violation_named(tmp_path):
    bad = GOOD[:2] + [GOOD[4], GOOD[2]] + GOOD[3:4] + GOOD[5:]  # producer 0: 0, 2, 1
    v = _verify(tmp_path, _file(bad))
    assert not v.ok and "producer 0 id 2, expected 1 (a gap)" in v.summary()
    assert verify_main([str(tmp_path / "f.bin")]) == 1


def test_malformed_record_named(tmp_path):
    rec = bytearray(GOOD[3].to_bytes())
    rec[28] = 7
    body = b"".join(t.to_bytes() for t in GOOD[:3]) + bytes(rec)
    data = _outfile.header(producers=2, seed=9) + body + _outfile.trailer(count=4, adler32=zlib.adler32(body),
                                                                          status=0)
    v = _verify(tmp_path, data)
    assert not v.ok and "record 3: side byte 7" in v.summary()


def test_unknown_producer_named(tmp_path):
    v = _verify(tmp_path, _file([Transaction(id=0, producer=5)]))
    assert "producer 5, the header declares 2" in v.summary()


def test_status_flags(tmp_path):
    v = _verify(tmp_path, _file(GOOD, status=_outfile.INTERRUPTED))
    assert v.ok and "interrupted" in v.summary()
    v = _verify(tmp_path, _file(GOOD, status=_outfile.WRITE_ERROR))
    assert not v.ok and not v.complete and "write error" in v.summary()
    v = _verify(tmp_path, _file(GOOD, status=64))
    assert not v.ok and "unknown status flags" in v.summary()


def test_verify_command(tmp_path):
    (tmp_path / "f.bin").write_bytes(_file(GOOD))
    r = subprocess.run([sys.executable, "-m", "velox", "verify", str(tmp_path / "f.bin"), str(tmp_path / "missing")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "complete and valid: 10 records" in r.stdout
    assert "missing: No such file or directory" in r.stderr
    r = subprocess.run([sys.executable, "-m", "velox", "verify", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "Exit status" in r.stdout


def test_layout_is_what_the_docs_say():
    h = _outfile.header(producers=3, seed=0x1122334455667788)
    assert h == b"VELOXOUT" + struct.pack("<HHIQQ", 1, 32, 3, 0x1122334455667788, 0)
    t = _outfile.trailer(count=5, adler32=0xDEADBEEF, status=1)
    assert t == b"VELOXEND" + struct.pack("<QIIQ", 5, 0xDEADBEEF, 1, 0)
