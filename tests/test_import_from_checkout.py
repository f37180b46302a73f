"""Importing velox from a source checkout that has no built extension says
what to do.

After a regular ``pip install .`` the extension lives in site-packages, but
Python run from the repository root imports the checkout's ``velox/`` first,
which has none. The copy below is such a checkout (the Python sources and
the build files, no compiled modules); importing from its root must fail
with an error that names both ways out, and from elsewhere must not fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _checkout_without_build(tmp_path: Path) -> Path:
    repo = tmp_path / "checkout"
    shutil.copytree(ROOT / "velox", repo / "velox",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__", "_core.c"))
    for name in ("setup.py", "pyproject.toml"):
        shutil.copy(ROOT / name, repo / name)
    return repo


def _import_velox(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-c", "import velox; print(velox.__file__)"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_import_from_an_unbuilt_checkout_says_what_to_do(tmp_path: Path) -> None:
    repo = _checkout_without_build(tmp_path)
    r = _import_velox(repo)
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: velox is imported from the source checkout at "), r.stderr
    assert str(repo / "velox") in r.stderr
    assert "python -m pip install -e ." in r.stderr  # build it in place...
    assert "run Python from outside the checkout" in r.stderr  # ...or use the installed velox


def test_import_from_elsewhere_uses_the_installed_velox(tmp_path: Path) -> None:
    r = _import_velox(tmp_path)
    assert r.returncode == 0, r.stderr
    assert "checkout" not in r.stdout


def test_import_of_a_broken_build_says_what_to_do(tmp_path: Path) -> None:
    import sysconfig

    repo = _checkout_without_build(tmp_path)
    (repo / "velox" / "_native" / ("_core" + sysconfig.get_config_var("EXT_SUFFIX"))).write_bytes(b"not a library")
    r = _import_velox(repo)
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: velox is imported from the source checkout at "), r.stderr
    assert "has a native extension that does not load (" in last and "python -m pip install -e ." in last
