"""The README stays true: its Python examples run, its two commands are the
ones .ci/run and the docs name, and every command it lists exists."""

from __future__ import annotations

import re
from pathlib import Path

from velox._cli import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_python_examples_run():
    blocks = _blocks("python")
    assert len(blocks) >= 2
    for code in blocks:
        ns: dict = {}
        exec(compile(code, "README.md", "exec"), ns)  # noqa: S102 - our own README
        for name, fn in list(ns.items()):
            if name.startswith("test_") and callable(fn):
                fn()


def test_first_screen_has_exactly_two_commands():
    first_screen = README.split("---", 1)[0]
    commands = re.findall(r"```\n(.*?)```", first_screen, flags=re.S)
    assert len(commands) == 2, commands
    assert "<!-- main-command -->" in first_screen and "<!-- test-command -->" in first_screen
    assert "velox run" in commands[0]
    assert "pytest" in commands[1]


def test_listed_subcommands_exist():
    for name in re.findall(r"\| `velox (\w+)", README):
        assert name in COMMANDS, name
