"""Every Python package under velox/ ships in a regular install.

setup.py lists its packages by name (``pip install .`` copies only those); a
subpackage missing from the list works in an editable install and the test
suite, and fails with ImportError after ``pip install .``."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_in_setup_py() -> None:
    listed = set(re.findall(r'"(velox(?:\.\w+)*)"', re.search(r"packages=\[(.*?)\]", (ROOT / "setup.py").read_text(),
                                                             flags=re.S).group(1)))
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "velox").rglob("__init__.py")}
    assert found <= listed, f"packages missing from setup.py's packages=[...]: {sorted(found - listed)}"
    assert "velox.models" in listed  # mapped from models/ by package_dir
