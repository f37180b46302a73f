"""The atomics lint (ci/lint_atomics.py) passes on the shipping C sources and
catches the two things it exists for: an atomic without an ordering comment,
and <stdatomic.h> included outside vx_atomic.h."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = ROOT / "ci" / "lint_atomics.py"
NATIVE = ROOT / "velox" / "_native"


def run_lint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(LINT), *map(str, paths)], capture_output=True, text=True)


def test_shipping_sources_are_clean():
    r = run_lint(NATIVE)
    assert r.returncode == 0, r.stdout + r.stderr


def test_catches_missing_ordering_comment(tmp_path):
    src = (NATIVE / "vx_ring.h").read_text()
    comment = "    /* release: publishes the slot written above; pairs with the acquire load\n"
    assert comment in src, "the mutant's anchor text moved: update this test"
    start = src.index(comment)
    end = src.index("*/", start) + 2
    (tmp_path / "vx_ring.h").write_text(src[:start] + src[end:])
    r = run_lint(tmp_path / "vx_ring.h")
    assert r.returncode == 1
    assert "vx_store(&r->tail, tail + 1, VX_RELEASE)" in r.stdout


def test_catches_stdatomic_outside_wrapper(tmp_path):
    shutil.copy(NATIVE / "vx_book.c", tmp_path / "vx_book.c")
    p = tmp_path / "vx_book.c"
    p.write_text("#include <stdatomic.h>\n" + p.read_text())
    r = run_lint(p)
    assert r.returncode == 1
    assert "only vx_atomic.h may include <stdatomic.h>" in r.stdout


def test_missing_path_is_a_usage_error(tmp_path):
    r = run_lint(tmp_path / "nope.c")
    assert r.returncode == 2
    assert "no such file" in r.stderr
