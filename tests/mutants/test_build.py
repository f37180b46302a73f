"""The isolation the mutant hunts rely on: a child that raises, crashes, hangs
or allocates without bound is reported, never taken for a pass, and never
takes the test process (or the shared machine's memory) down."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from velox_testing.mutants import cache_dir, run_isolated


def test_value_comes_back() -> None:
    assert run_isolated(lambda: {"answer": 42}) == {"ok": True, "value": {"answer": 42}}


def test_exception_is_reported() -> None:
    res = run_isolated(lambda: 1 // 0)
    assert not res["ok"] and res["error"].startswith("ZeroDivisionError") and "Traceback" in res["traceback"]


def test_crash_is_reported() -> None:
    res = run_isolated(os.abort)
    assert res["ok"] is False and res["error"] == "crashed: died (exit code -6)"
    # The child's fault dump comes back in the result, where the caller reports it...
    assert res["traceback"].startswith("Fatal Python error: Aborted") and "in child" in res["traceback"]


def test_crash_dump_stays_out_of_the_run_output() -> None:
    # ...and not on the parent's stderr: an expected crash in a passing run prints nothing alarming.
    # (pytest enables faulthandler the same way; a subprocess shows what the terminal would.)
    code = ("import faulthandler, os; faulthandler.enable(); from velox_testing.mutants import run_isolated; "
            "r = run_isolated(os.abort); print(r['error']); print(r['traceback'].splitlines()[0])")
    support = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": support})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["crashed: died (exit code -6)", "Fatal Python error: Aborted"]
    assert "Fatal Python error" not in proc.stderr, proc.stderr


def test_hang_is_killed() -> None:
    res = run_isolated(lambda: time.sleep(60), timeout=0.5)
    assert not res["ok"] and res["error"].startswith("crashed: no answer within 0 s, killed")
    assert "test_build.py" in res["traceback"]  # where the child was when time ran out


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="the memory cap reads /proc (Linux)")
def test_runaway_allocation_fails_fast() -> None:
    res = run_isolated(lambda: len(bytearray(8 << 30)), memory_bytes=256 << 20)
    assert not res["ok"] and res["error"].startswith("MemoryError")


def test_cache_dir_follows_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("VELOX_BUILD_CACHE", "/tmp/velox-build-elsewhere")
    assert str(cache_dir()) == "/tmp/velox-build-elsewhere"
    monkeypatch.delenv("VELOX_BUILD_CACHE")
    assert cache_dir().parts[-3:] == (".cache", "velox", "build")


def test_an_object_in_the_cache_is_never_replaced(tmp_path):
    """A finished compile goes into the cache only if no other process put the object there first: a
    link in another process reads each object twice, and an LTO object compiled twice differs in its
    bytes (two xdist workers once failed a link that way)."""
    from velox._native import _build as vxb

    dest = tmp_path / "vx_book.o"
    first, second = tmp_path / ".a.tmp", tmp_path / ".b.tmp"
    first.write_bytes(b"first compile")
    second.write_bytes(b"second compile")
    vxb._publish_once(first, dest)
    inode = dest.stat().st_ino
    vxb._publish_once(second, dest)
    assert dest.read_bytes() == b"first compile" and dest.stat().st_ino == inode
    assert not first.exists() and not second.exists()  # no temporary left behind
