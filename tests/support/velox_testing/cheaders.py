"""Read constants and declarations out of velox's C headers, so tests can
take C values from the one place they are defined (or pin a Python copy of
them to it): enums, ``#define`` numbers and function prototypes."""

from __future__ import annotations

import re
from pathlib import Path

import velox

_NATIVE = Path(velox.__file__).resolve().parent / "_native"
_TESTING = Path(__file__).resolve().parents[1] / "native"

_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_ENUM = re.compile(r"\benum\s*(\w*)\s*\{(.*?)\}", re.S)
_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)\s+(-?\d+)\s*$", re.M)
_DECL = re.compile(r"^\s*((?:const\s+)?\w+(?:\s*\*)*)\s*\b(vx_\w+)\s*\(([^)]*)\)\s*;", re.M)


def header(name: str) -> str:
    """The text of ``velox/_native/<name>`` (or of a test-only driver header)."""
    for d in (_NATIVE, _TESTING):
        if (d / name).exists():
            return (d / name).read_text()
    raise FileNotFoundError(name)


def strip_comments(text: str) -> str:
    return _COMMENTS.sub("", text)


def enums(text: str) -> list[tuple[str, list[tuple[str, int]]]]:
    """Every enum of ``text`` as (tag or "", [(enumerator, value), ...]) in
    order, values resolved as C does (implicit ones count up from the last)."""
    out = []
    for tag, body in _ENUM.findall(strip_comments(text)):
        items, nxt = [], 0
        for part in body.split(","):
            part = part.strip()
            if not part:
                continue
            name, _, value = (p.strip() for p in part.partition("="))
            val = int(value, 0) if value else nxt
            items.append((name, val))
            nxt = val + 1
        out.append((tag, items))
    return out


def enum_values(text: str) -> dict[str, int]:
    """Every enumerator of ``text``: name -> value."""
    return {n: v for _, items in enums(text) for n, v in items}


def defines(text: str, *, after: str | None = None) -> dict[str, int]:
    """``#define NAME <integer>`` lines of ``text`` (from the first line
    containing ``after`` on, when given): name -> value (later ones win)."""
    if after is not None:
        text = text[text.index(after):]
    return {n: int(v) for n, v in _DEFINE.findall(text)}


def _norm_type(param: str) -> str:
    param = " ".join(param.replace("*", " * ").split())
    if param in ("void", ""):
        return "void"
    words = param.split(" ")
    if len(words) > 1 and words[-1] != "*" and re.fullmatch(r"\w+", words[-1]):
        words = words[:-1]  # drop the parameter's name
    return " ".join(words).replace(" *", "*")


def declarations(text: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Function prototypes ``vx_*`` of ``text``: name -> (return type,
    parameter types), names of parameters dropped, whitespace normalised."""
    text = strip_comments(text).replace('extern "Python+C"', "").replace('extern "Python"', "")
    text = re.sub(r"^\s*#.*?(?<!\\)$", "", text, flags=re.M | re.S)  # preprocessor lines
    # One statement or brace a line, so a prototype right after an inline
    # function's closing brace still starts its own line.
    text = re.sub(r"\s*\n\s*", " ", text).replace(";", ";\n").replace("{", "{\n").replace("}", "}\n")
    return {name: (_norm_type(ret), tuple(_norm_type(p) for p in params.split(",")))
            for ret, name, params in _DECL.findall(text)}


def native_dir() -> Path:
    """velox/_native of the velox being imported."""
    return _NATIVE
