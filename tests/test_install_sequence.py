"""The README's commands work in any order, any number of times.

In one fresh clone, the main command, then the test command, then the main
command again (``pip install .``, ``pip install -e '.[test,docs]'``, ``pip install
.``) must leave an importable velox after every step: the production build
and the model build never share an object path (velox/_native/_build.py keys
objects by source, headers and flags), so neither links the other's objects.

Minutes of pip and compiler time, so it runs under its own marker:
``python -m pytest -m install`` (ci/test.sh runs it after the default gate).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.install


def _run(cmd: list[str], cwd: Path, env: dict[str, str], what: str) -> str:
    print(f"+ {' '.join(cmd)}  ({what})", file=sys.stderr, flush=True)
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200, check=False)
    assert r.returncode == 0, f"{what} failed (exit {r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}"
    return r.stdout


def test_readme_commands_in_sequence(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is needed to clone the checkout")
    clone = tmp_path / "velox"
    # The committed tree plus the working changes, as a fresh clone would see them after a commit.
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    diff = subprocess.run(["git", "diff", "HEAD", "--binary"], cwd=ROOT, capture_output=True, check=True).stdout
    if diff:
        subprocess.run(["git", "apply", "--whitespace=nowarn"], cwd=clone, input=diff, check=True)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VELOX_", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    outside = tmp_path / "elsewhere"  # import the installed velox, not the clone's folder
    outside.mkdir()
    probe = [py, "-c", "import velox, velox.cmodel; r = velox.SpscRing(4); "
                       "assert r.push(velox.Transaction(id=1)) and r.pop().id == 1; "
                       "velox.cmodel.core(); "
                       # the explorer runs its compiled runtime, current with its sources, in every install
                       "import velox.explore.rt.execution; from velox.explore.rt import _compiled as c; "
                       "assert c.compiled_modules() == c.COMPILED and not c.stale_modules(), c.compiled_modules(); "
                       "print(velox.__file__)"]
    steps = [
        ([py, "-m", "pip", "install", "-q", "."], "the main command"),
        ([py, "-m", "pip", "install", "-q", "-e", ".[test,docs]"], "the test command's install"),
        ([py, "-m", "pip", "install", "-q", "."], "the main command again"),
    ]
    for cmd, what in steps:
        _run(cmd, clone, env, what)
        where = _run(probe, outside, env, f"import velox after {what}")
        assert str(clone) in where or "site-packages" in where, where
