"""The C core and its bindings: ``_core`` (Cython, production build) and ``_model`` (cffi, model build).

``velox/__init__.py`` imports ``_core`` first and turns a failure into ``explain(exc)``: an error that
says what to do (build the checkout in place, leave it, or reinstall) rather than a bare
``No module named 'velox._native._core'``.
"""

from __future__ import annotations

import importlib.machinery
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_PACKAGE = _HERE.parent


def _in_checkout() -> bool:
    """True when this ``velox`` package is the one inside a source checkout (setup.py beside it)."""
    return (_PACKAGE.parent / "setup.py").is_file() and (_PACKAGE.parent / "pyproject.toml").is_file()


def _core_built() -> bool:
    return any((_HERE / f"_core{suffix}").is_file() for suffix in importlib.machinery.EXTENSION_SUFFIXES)


def explain(exc: ImportError) -> ImportError:
    """The error to raise instead of ``exc``: what went wrong, where, and the commands that fix it."""
    missing = not _core_built()
    if _in_checkout():
        what = ("has no built native extension (velox._native._core)" if missing
                else f"has a native extension that does not load ({exc})")
        message = (
            f"velox is imported from the source checkout at {_PACKAGE}, which {what}. Python puts the "
            "current directory first on the import path, so this checkout hides any velox installed with "
            "'pip install .'. Either build the checkout in place: python -m pip install -e . "
            "(add '.[test,docs]' for the test and docs tools), or run Python from outside the checkout "
            "to use the installed velox.")
    elif missing:
        message = (f"velox's native extension (velox._native._core) is missing from {_HERE}: the "
                   "installation is incomplete; reinstall it with: python -m pip install --force-reinstall velox")
    else:
        message = (f"velox's native extension in {_HERE} does not load ({exc}); reinstall it with: "
                   "python -m pip install --force-reinstall velox")
    cls = ModuleNotFoundError if missing else ImportError
    return cls(message, name=f"{__name__}._core")
