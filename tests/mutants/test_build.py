"""The isolation the mutant hunts rely on: a child that raises, crashes, hangs
or allocates without bound is reported, never taken for a pass, and never
takes the test process (or the shared machine's memory) down."""

from __future__ import annotations

import os
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
    assert res == {"ok": False, "error": "crashed: died (exit code -6)"}


def test_hang_is_killed() -> None:
    res = run_isolated(lambda: time.sleep(60), timeout=0.5)
    assert not res["ok"] and res["error"].startswith("crashed: no answer within 0 s, killed")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="the memory cap reads /proc (Linux)")
def test_runaway_allocation_fails_fast() -> None:
    res = run_isolated(lambda: len(bytearray(8 << 30)), memory_bytes=256 << 20)
    assert not res["ok"] and res["error"].startswith("MemoryError")


def test_cache_dir_follows_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("VELOX_BUILD_CACHE", "/tmp/velox-build-elsewhere")
    assert str(cache_dir()) == "/tmp/velox-build-elsewhere"
    monkeypatch.delenv("VELOX_BUILD_CACHE")
    assert cache_dir().parts[-3:] == (".cache", "velox", "build")
