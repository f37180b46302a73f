"""The documentation builds with warnings as errors, and the guide's examples
do what the guide says they do.

The build needs the ``docs`` extra (Sphinx, myst-parser): without it these
tests skip, saying how to install it, except in CI (``CI=true``), where a
missing extra is a failure."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Imported before pytester snapshots sys.modules (see tests/pytest_plugin/test_explore_marker.py).
import velox.explore  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GUIDE = DOCS / "guide"


def _require_docs_extra() -> None:
    missing = [m for m in ("sphinx", "myst_parser") if importlib.util.find_spec(m) is None]
    if not missing:
        return
    message = (f"the docs extra is not installed ({', '.join(missing)} missing): "
               "python -m pip install -e '.[test,docs]'")
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def test_docs_build_with_warnings_as_errors(tmp_path: Path) -> None:
    _require_docs_extra()
    r = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS),
                        str(tmp_path / "html")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"sphinx reported problems:\n{r.stderr[-6000:]}"
    html = (tmp_path / "html" / "reference" / "explore.html").read_text()
    assert "velox.explore.check" in html and "Run <code" in html  # the reference comes from the docstrings
    assert (tmp_path / "html" / "guide" / "traces.html").is_file()


def _blocks(page: Path, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", page.read_text(), flags=re.S)


def test_guide_explore_examples_pass(pytester: pytest.Pytester) -> None:
    shutil.copytree(ROOT / "examples", pytester.path / "examples")  # the C example's relative paths
    blocks = [b for b in _blocks(GUIDE / "explore.md", "python") if "def test_" in b]
    assert len(blocks) == 3
    for i, code in enumerate(blocks):
        pytester.makepyfile(**{f"test_guide_{i}": code})
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=sum(b.count("def test_") for b in blocks))


def _rows(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if re.match(r"\s*>?\d+\s+t\d+\s", ln)]


def test_guide_trace_is_the_explorers(pytester: pytest.Pytester) -> None:
    page = GUIDE / "traces.md"
    (code,) = [b for b in _blocks(page, "python") if "def test_" in b]
    shown = _blocks(page, "text")[0]
    pytester.makepyfile(test_oneshot=code)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    # The failure as reported once (with CI set, pytest repeats the whole message in its short summary).
    out = result.stdout.str().split("short test summary info")[0]
    assert _rows(shown) and _rows(out) == _rows(shown)
    for line in ("DATA RACE: data race on value", "replay token: vx1.", "pytest 'test_oneshot.py::test_one_shot'"):
        doc_line = next(ln.strip() for ln in shown.splitlines() if line in ln)
        assert doc_line in out, f"the guide shows {doc_line!r}, the explorer printed:\n{out}"
