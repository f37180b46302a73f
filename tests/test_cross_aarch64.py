"""The aarch64 code paths (cntvct_el0, the yield spin hint) keep compiling:
ci/cross_aarch64.sh cross-compiles every core source with -Werror."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "ci" / "cross_aarch64.sh"


@pytest.mark.skipif(shutil.which("aarch64-linux-gnu-gcc") is None,
                    reason="no aarch64 cross compiler (Debian: gcc-aarch64-linux-gnu; .ci/run installs it)")
def test_core_compiles_for_aarch64():
    r = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(shutil.which("aarch64-linux-gnu-gcc") is None, reason="no aarch64 cross compiler")
def test_catches_x86_only_code(tmp_path):
    # Mutant: the TSC read without its #ifdef, x86's rdtscp for every target.
    shutil.copytree(ROOT / "velox" / "_native", tmp_path / "velox" / "_native",
                    ignore=shutil.ignore_patterns("*.so", "_core.c", "__pycache__"))
    tsc = tmp_path / "velox" / "_native" / "vx_tsc.h"
    text = tsc.read_text()
    assert "#elif defined(__x86_64__)" in text, "anchor moved: update the mutant"
    tsc.write_text(text.replace("#elif defined(__x86_64__)", "#elif 1"))
    r = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True,
                       env={**os.environ, "VELOX_SRC_ROOT": str(tmp_path)})
    assert r.returncode == 1, r.stdout + r.stderr
    assert "does not compile for aarch64" in r.stderr
