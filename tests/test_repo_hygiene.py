"""Shipping files, docs and ci speak of velox alone: no references to issue
trackers, to where an idea came from, or to files outside the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPING = ("velox", "models", "ci", ".ci", "docs", "README.md", "setup.py", "pyproject.toml")
FORBIDDEN = re.compile(r"\bissues?\b|\bthe seed's\b|seed's (mode|defaults)|\.\./shared|\bshared/|STYLE\.md",
                       re.IGNORECASE)


def _tracked() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", *SHIPPING], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / p for p in out.splitlines() if not p.endswith((".png", ".svg", ".so"))]


def test_shipping_files_cite_nothing_outside_the_repo() -> None:
    bad = []
    for path in _tracked():
        try:
            text = path.read_text()
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if FORBIDDEN.search(line):
                bad.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not bad, "shipping files must speak of velox alone:\n" + "\n".join(bad)


def test_the_check_can_fail() -> None:
    assert FORBIDDEN.search("see ../shared/STYLE.md") and FORBIDDEN.search("as the issue asks")
    assert not FORBIDDEN.search("every failure prints the seed")


def test_no_sys_path_manipulation_in_tests_benches_or_ci() -> None:
    """Shared test code is the importable package velox_testing (tests/support
    on pytest's pythonpath), never a sys.path edit."""
    out = subprocess.run(["git", "grep", "-n", "sys.path.insert\\|sys.path.append", "--", "tests", "benches", "ci"],
                         cwd=ROOT, capture_output=True, text=True, check=False).stdout
    bad = [ln for ln in out.splitlines() if not ln.startswith("tests/test_repo_hygiene.py:")]
    assert not bad, "\n".join(bad)
