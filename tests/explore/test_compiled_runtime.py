"""The compiled runtime: built and in use, identical in what it finds to the pure-Python sources, and
never loaded when it is older than its source (velox/explore/rt/_compiled.py).

The agreement test runs velox_testing.engine_agreement under both runtimes in fresh processes and
compares everything it reports; its mutant (a runtime that never reads the oldest write it may read)
shows that the comparison sees a difference when there is one.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from velox.explore.rt import _compiled

RT = Path(_compiled.__file__).parent
SUPPORT = Path(__file__).resolve().parents[1] / "support"


def _built() -> list[str]:
    """The runtime modules with an extension module beside their source in this checkout."""
    return [m for m in _compiled.COMPILED
            if any((RT / (m + s)).exists() for s in importlib.machinery.EXTENSION_SUFFIXES)]


def _stale() -> list[str]:
    """Built modules whose source changed since the build (an edited checkout not yet rebuilt)."""
    out = []
    for m in _built():
        ext = next(RT / (m + s) for s in importlib.machinery.EXTENSION_SUFFIXES if (RT / (m + s)).exists())
        if not _compiled._Finder._current(str(ext), str(RT / f"{m}.py")):
            out.append(m)
    return out


def _skip_unless_built_and_current() -> None:
    """Outside CI, a checkout without the compiled runtime, or with sources edited since the build, skips
    (saying why); with CI=true it fails: the gate must run the runtime users get."""
    if os.environ.get("CI") == "true":
        return
    if not _built():
        pytest.skip("the compiled runtime is not built in this checkout (pip install -e . builds it)")
    stale = _stale()
    if stale:
        pytest.skip(f"runtime sources edited since the build ({', '.join(stale)}): pip install -e . rebuilds")


def _agreement(*, pure: bool, mutant: bool = False) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SUPPORT), os.environ.get("PYTHONPATH", "")]))
    env.pop("VELOX_EXPLORE_PURE", None)
    if pure:
        env["VELOX_EXPLORE_PURE"] = "1"
    cmd = [sys.executable, "-m", "velox_testing.engine_agreement"] + (["--mutant"] if mutant else [])
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert found["stale"] == [], out.stderr  # a stale extension would make this a comparison of sources
    return found


def test_the_build_compiles_every_runtime_module_and_the_explorer_uses_them():
    """A build of this checkout (the README's editable install) compiles every module of COMPILED, with a
    digest of its source, and a fresh process runs all of them compiled. With CI=true a missing
    extension fails: the gate must measure the runtime users get."""
    _skip_unless_built_and_current()
    assert _built() == list(_compiled.COMPILED)
    code = ("import velox.explore, velox.explore.rt.execution; "
            "from velox.explore.rt._compiled import compiled_modules; print(','.join(compiled_modules()))")
    env = {k: v for k, v in os.environ.items() if k != "VELOX_EXPLORE_PURE"}
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().split(",") == list(_compiled.COMPILED)


def test_compiled_and_pure_runtimes_find_exactly_the_same():
    _skip_unless_built_and_current()
    pure = _agreement(pure=True)
    assert pure["compiled"] == []
    compiled = _agreement(pure=False)
    assert compiled["compiled"] == list(_compiled.COMPILED)
    assert compiled["results"] == pure["results"]
    # The programs are not trivial: every one explored more than one execution or failed.
    assert all(r.get("failed") or r["executions"] > 1 for r in pure["results"].values())


def test_mutant_a_runtime_that_skips_old_writes_is_told_apart():
    reference = _agreement(pure=True)["results"]
    broken = _agreement(pure=True, mutant=True)["results"]
    differ = sorted(name for name in reference if reference[name] != broken[name])
    assert "sb-relaxed" in differ and "iriw-acquire" in differ, differ


# ------------------------------------------------------------------ the stale-build guard
def _fake_runtime(tmp_path: Path, name: str = "orders", *, digest: str | None = "match") -> Path:
    """A directory with ``name``.py and a file standing for its extension (never loaded: only find_spec
    runs), with a digest file that matches the source, records another one, or is missing."""
    d = tmp_path / "rt"
    d.mkdir()
    shutil.copy(RT / f"{name}.py", d / f"{name}.py")
    ext = d / (name + importlib.machinery.EXTENSION_SUFFIXES[0])
    ext.write_bytes(b"not loaded by these tests")
    if digest == "match":
        Path(str(ext) + _compiled.DIGEST_SUFFIX).write_text(_compiled.source_digest(str(d / f"{name}.py")) + "\n")
    elif digest is not None:
        Path(str(ext) + _compiled.DIGEST_SUFFIX).write_text(digest + "\n")
    return d


def _spec(d: Path, name: str = "orders"):
    return _compiled._Finder("velox.explore.rt", str(d)).find_spec(f"velox.explore.rt.{name}")


def test_a_current_extension_is_loaded(tmp_path, monkeypatch):
    monkeypatch.delenv("VELOX_EXPLORE_PURE", raising=False)
    spec = _spec(_fake_runtime(tmp_path))
    assert isinstance(spec.loader, importlib.machinery.ExtensionFileLoader)


def test_an_extension_built_from_an_older_source_is_not_loaded(tmp_path, monkeypatch):
    monkeypatch.delenv("VELOX_EXPLORE_PURE", raising=False)
    d = _fake_runtime(tmp_path)
    with open(d / "orders.py", "a") as f:
        f.write("# edited after the build\n")
    with pytest.warns(_compiled.StaleBuildWarning, match=r"velox\.explore\.rt\.orders was built from an older"):
        spec = _spec(d)
    assert spec.origin == str(d / "orders.py")
    assert not isinstance(spec.loader, importlib.machinery.ExtensionFileLoader)


@pytest.mark.parametrize("digest", [None, "0" * 64])
def test_an_extension_without_a_matching_record_is_not_loaded(tmp_path, monkeypatch, digest):
    monkeypatch.delenv("VELOX_EXPLORE_PURE", raising=False)
    with pytest.warns(_compiled.StaleBuildWarning):
        spec = _spec(_fake_runtime(tmp_path, digest=digest))
    assert spec.origin.endswith("orders.py")


def test_pure_mode_loads_the_source_even_when_current(tmp_path, monkeypatch):
    monkeypatch.setenv("VELOX_EXPLORE_PURE", "1")
    spec = _spec(_fake_runtime(tmp_path))
    assert spec.origin.endswith("orders.py")


def test_modules_not_compiled_and_unbuilt_ones_are_left_to_the_import_system(tmp_path, monkeypatch):
    monkeypatch.delenv("VELOX_EXPLORE_PURE", raising=False)
    d = tmp_path / "rt"
    d.mkdir()
    shutil.copy(RT / "orders.py", d / "orders.py")
    assert _spec(d) is None  # no extension: the default finder loads the .py
    finder = _compiled._Finder("velox.explore.rt", str(d))
    assert finder.find_spec("velox.explore.rt.execution") is None  # frame-walking modules stay Python
    assert finder.find_spec("elsewhere.orders") is None
