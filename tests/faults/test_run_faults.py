"""``velox run`` under faults: a full disk (before and during the run), a
closed or broken stdout, SIGTERM and SIGKILL at random moments, a FIFO with no
reader (and one whose reader leaves). In each case the verdict, the exit
status and the files on disk must tell the truth; ``velox verify`` must call
every file a killed or starved run left behind incomplete."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import threading
import time

import pytest

from velox import _outfile

from .conftest import QUICK, VELOX, file_size_limit, run, verify

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_IO = 0, 1, 2, 3


# -- full disk ---------------------------------------------------------------

def test_output_to_dev_full_fails_before_the_run(tmp_path):
    o = run(["run", "--duration", "1", "--output", "/dev/full", "--json", str(tmp_path / "r.json")] + QUICK)
    assert o.rc == EXIT_USAGE, o
    assert "No space left on device" in o.stderr, o
    assert "PASS" not in o.stdout and "summary" not in o.stdout, o
    assert not (tmp_path / "r.json").exists()


def test_disk_fills_during_the_run(tmp_path, fault_rng):
    limit = fault_rng.choice([4096, 64 * 1024, 1 << 20])  # bytes of any one file before the 'disk' is full
    out, rep = tmp_path / "out.bin", tmp_path / "r.json"
    o = run(["run", "--saturate", "--duration", "0.5", "--output", str(out), "--json", str(rep)] + QUICK,
            preexec=file_size_limit(limit))
    assert o.rc == EXIT_IO, o
    assert "verdict: FAIL" in o.stdout and "File too large (EFBIG)" in o.stdout, o
    assert out.stat().st_size <= limit
    v = verify(str(out))
    assert v.rc == 3 and "INCOMPLETE" in v.stdout, v
    if not rep.exists():  # the report did not fit either: no half-written JSON, and said so
        assert limit < 16 * 1024
        assert "could not write the JSON report" in o.stderr and "File too large" in o.stderr, o
        assert os.listdir(tmp_path) == ["out.bin"]
        return
    report = json.loads(rep.read_text())
    assert report["ok"] is False
    assert report["output"]["error"].startswith("File too large (EFBIG)")
    assert report["output"]["records"] < report["counters"]["output"]["txns"]


def test_report_that_does_not_fit_leaves_no_half_file(tmp_path):
    rep = tmp_path / "r.json"
    o = run(["run", "--duration", "0.1", "--json", str(rep)] + QUICK, preexec=file_size_limit(1024))
    assert o.rc == EXIT_IO, o
    assert "verdict: PASS" in o.stdout and "could not write the JSON report" in o.stderr, o
    assert os.listdir(tmp_path) == []


def test_json_unwritable_found_before_the_run(tmp_path):
    out = tmp_path / "out.bin"
    o = run(["run", "--duration", "30", "--output", str(out), "--json", str(tmp_path / "no" / "such" / "r.json")]
            + QUICK, timeout=60)
    assert o.rc == EXIT_USAGE, o
    assert "--json" in o.stderr and "does not exist" in o.stderr, o
    assert "summary" not in o.stdout
    assert not out.exists()


def test_json_to_a_full_device_after_the_run_is_an_io_error(tmp_path):
    o = run(["run", "--duration", "0.1", "--json", "/dev/full"] + QUICK)
    assert o.rc == EXIT_IO, o
    assert "verdict: PASS" in o.stdout  # the invariants held; the report is what was lost
    assert "could not write the JSON report to /dev/full: No space left on device" in o.stderr, o


@pytest.mark.parametrize("same", ["identical", "relative", "symlink"])
def test_output_and_json_naming_one_file_rejected(tmp_path, same, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "x.bin"
    other = {"identical": str(out), "relative": "./x.bin", "symlink": str(tmp_path / "link")}[same]
    if same == "symlink":
        out.write_bytes(b"")
        os.symlink(out, tmp_path / "link")
    o = run(["run", "--duration", "0.1", "--output", str(out), "--json", other] + QUICK, cwd=tmp_path)
    assert o.rc == EXIT_USAGE, o
    assert "same file" in o.stderr, o


# -- durations ---------------------------------------------------------------

@pytest.mark.parametrize("duration", ["1e-10", "1e-300", "5e-324"])
def test_sub_nanosecond_duration_ends(duration):
    o = run(["run", "--duration", duration] + QUICK, timeout=60)
    assert o.rc == EXIT_PASS, o
    assert "until Ctrl-C" not in o.stdout


# -- stdout ------------------------------------------------------------------

def test_closed_stdout(tmp_path):
    out, rep = tmp_path / "o.bin", tmp_path / "r.json"
    o = run(["run", "--duration", "0.2", "--output", str(out), "--json", str(rep)] + QUICK,
            preexec=lambda: os.close(1), stdout=None)
    assert o.rc == EXIT_PASS, o
    assert "Traceback" not in o.stderr, o
    assert "stdout is closed" in o.stderr and "verdict: PASS" in o.stderr, o
    assert json.loads(rep.read_text())["ok"] is True
    assert verify(str(out)).rc == 0


def test_stdout_reader_leaves_mid_run(tmp_path):
    out, rep = tmp_path / "o.bin", tmp_path / "r.json"
    p = subprocess.Popen(VELOX + ["run", "--duration", "1.5", "--output", str(out), "--json", str(rep),
                                  "--seed", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.readline()
    assert first.startswith(b"velox run:")
    p.stdout.close()  # `velox run | head -1`
    _, err = p.communicate(timeout=120)
    err = err.decode()
    assert p.returncode == EXIT_PASS, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert "stdout failed during the run" in err and "verdict: PASS" in err, err
    assert json.loads(rep.read_text())["ok"] is True
    assert verify(str(out)).rc == 0


# -- signals -----------------------------------------------------------------

def _start(tmp_path, extra=()):
    out, rep = tmp_path / "o.bin", tmp_path / "r.json"
    p = subprocess.Popen(VELOX + ["run", "--duration", "60", "--rate", "200000", "--output", str(out),
                                  "--json", str(rep), "--quiet", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = p.stdout.readline()  # the banner: the run has started
    assert first.startswith("velox run:"), first + p.stderr.read()
    return p, out, rep


def test_sigterm_drains_and_reports(tmp_path, fault_rng):
    p, out, rep = _start(tmp_path)
    time.sleep(fault_rng.uniform(0.05, 0.8))
    p.send_signal(signal.SIGTERM)
    text, err = p.communicate(timeout=120)
    assert p.returncode == EXIT_PASS, text + err
    assert "interrupted by SIGTERM: ingress stops, the rings drain" in err
    assert "interrupted" in text and "verdict: PASS" in text, text
    report = json.loads(rep.read_text())
    assert report["interrupted"] is True and report["ok"] is True
    v = _outfile.verify(str(out))
    assert v.ok and v.status & _outfile.INTERRUPTED, v.summary()
    assert v.records == report["counters"]["output"]["txns"]


def test_sigkill_leaves_a_file_verify_calls_incomplete(tmp_path, fault_rng):
    p, out, rep = _start(tmp_path)
    time.sleep(fault_rng.uniform(0.0, 0.8))
    p.kill()
    p.communicate(timeout=60)
    assert p.returncode == -signal.SIGKILL
    assert not rep.exists()  # no report pretends the run finished
    v = verify(str(out))
    assert v.rc == 3 and "INCOMPLETE" in v.stdout, v


def test_signal_before_the_run_starts(tmp_path):
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    p = subprocess.Popen(VELOX + ["run", "--duration", "1", "--output", str(fifo), "--quiet"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = _read_line_within(p.stderr, 60)
    assert "waiting for a reader" in line, line
    p.send_signal(signal.SIGTERM)
    text, err = p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGTERM, err
    assert "before the run started" in err and "Traceback" not in err, err


# -- FIFOs -------------------------------------------------------------------

def _read_line_within(stream, seconds: float) -> str:
    ready, _, _ = select.select([stream], [], [], seconds)
    assert ready, f"nothing printed within {seconds} s"
    return stream.readline()


def test_fifo_without_reader_says_so_then_runs(tmp_path):
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    p = subprocess.Popen(VELOX + ["run", "--duration", "0.2", "--output", str(fifo), "--quiet", "--seed", "5"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = _read_line_within(p.stderr, 60)
    assert "waiting for a reader to open the FIFO" in line and str(fifo) in line, line
    got = bytearray()

    def reader() -> None:
        with open(fifo, "rb") as f:
            got.extend(f.read())

    t = threading.Thread(target=reader)
    t.start()
    text, err = p.communicate(timeout=120)
    t.join(60)
    assert p.returncode == EXIT_PASS, text + err
    copy = tmp_path / "copy.bin"
    copy.write_bytes(bytes(got))
    v = _outfile.verify(str(copy))
    assert v.ok, v.summary()


def test_fifo_reader_leaves_mid_run(tmp_path):
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    p = subprocess.Popen(VELOX + ["run", "--saturate", "--duration", "1", "--output", str(fifo), "--quiet",
                                  "--seed", "5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with open(fifo, "rb") as f:
        f.read(4096)  # then leave: the next writes get EPIPE
    text, err = p.communicate(timeout=120)
    assert p.returncode == EXIT_IO, text + err
    assert "verdict: FAIL" in text and "Broken pipe (EPIPE)" in text, text
