"""``velox litmus`` on hostile input: random bytes, absurd nesting, a missing
brace. Every case is exit 2 with ``file:line`` and a message that names the
real problem; never a traceback."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import pytest

from velox.explore.litmus import LitmusError, parse_litmus
from velox.explore.litmus.cli import main

MP = """C MP
{ [x] = 0; [y] = 0; }
P0 (atomic_int* x, atomic_int* y) {
  atomic_store_explicit(x, 1, memory_order_relaxed);
  atomic_store_explicit(y, 1, memory_order_release);
}
P1 (atomic_int* x, atomic_int* y) {
  int r0 = atomic_load_explicit(y, memory_order_acquire);
  int r1 = atomic_load_explicit(x, memory_order_relaxed);
%s
exists (1:r0=1 /\\ 1:r1=0)
"""


def _run(tmp_path, data: bytes, capsys) -> tuple[int, str]:
    path = tmp_path / "t.litmus"
    path.write_bytes(data)
    rc = main([str(path)])
    return rc, capsys.readouterr().err


def test_random_bytes(tmp_path, capsys):
    seed = int(os.environ.get("VELOX_SEED", random.randrange(1 << 32)))
    print(f"seed {seed}")
    data = b"C X\n" + random.Random(seed).randbytes(4096) + b"\xff"
    rc, err = _run(tmp_path, data, capsys)
    assert rc == 2, err
    assert f"{tmp_path / 't.litmus'}:" in err and "Traceback" not in err


def test_not_utf8_names_the_line(tmp_path, capsys):
    rc, err = _run(tmp_path, b"C X\n{ }\n\xc3\x28\n", capsys)
    assert rc == 2
    assert "t.litmus:3: not a text file: byte 0xc3 at offset 8 is not UTF-8" in err


@pytest.mark.parametrize("body", [
    "int r2 = " + "(" * 500 + "1" + ")" * 500 + ";",
    "int r2 = " + "-" * 5000 + "1;",
    "if (r0 == 1) { " * 5000 + "}" * 5000,
    "if (r0 == 1) " * 5000 + ";",
], ids=["500-parens", "5000-minus", "5000-if-blocks", "5000-if"])
def test_deep_nesting_is_a_clean_error(tmp_path, capsys, body):
    rc, err = _run(tmp_path, (MP % (body + "\n}")).encode(), capsys)
    assert rc == 2, err
    assert "t.litmus:10: nesting deeper than 100 levels" in err, err


def test_deep_condition_is_a_clean_error():
    text = (MP % "}").replace("exists (1:r0=1 /\\ 1:r1=0)", "exists " + "(" * 600 + "1:r0=1" + ")" * 600)
    with pytest.raises(LitmusError, match="nesting deeper than 100 levels"):
        parse_litmus(text, "deep.litmus")


def test_missing_closing_brace_named(tmp_path, capsys):
    rc, err = _run(tmp_path, (MP % "").encode(), capsys)
    assert rc == 2
    assert "t.litmus:11: block opened at line 7 is not closed by '}' before 'exists'" in err, err
    assert "unsupported function" not in err


def test_missing_brace_before_next_process():
    text = MP.replace("  atomic_store_explicit(y, 1, memory_order_release);\n}", "  atomic_store_explicit(y, 1, memory_order_release);\n") % "}"
    with pytest.raises(LitmusError, match=r"block opened at line 3 is not closed by '\}' before 'P1'"):
        parse_litmus(text, "t.litmus")


def test_moderate_nesting_still_parses():
    parse_litmus(MP % ("int r2 = " + "(" * 40 + "r0" + ")" * 40 + ";\n}"), "ok.litmus")


def test_command_line_random_bytes_exit_2(tmp_path):
    path = tmp_path / "junk.litmus"
    path.write_bytes(bytes(range(256)) * 4)
    r = subprocess.run([sys.executable, "-m", "velox", "litmus", str(path)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "junk.litmus:" in r.stderr, r.stderr


@pytest.mark.parametrize("ch", ["\u05de", "\u00b2", "\u0663", "\u00e9"])  # Hebrew letter, superscript 2, Arabic 3, é
def test_non_ascii_letters_and_digits_are_a_clean_error(ch):
    """str.isalpha/isdigit accept these; the lexer must reject them by name, not trip an assertion
    (found by the litmus fuzz target)."""
    text = f"C T\n{{ [x] = 0; }}\nP0 (atomic_int* x,{ch}y) {{ atomic_store_explicit(x, 1, memory_order_relaxed); }}\nexists (x=1)\n"
    with pytest.raises(LitmusError) as err:
        parse_litmus(text, "t.litmus")
    assert "unexpected character" in str(err.value) and "t.litmus:3" in str(err.value)


def test_integer_literals_follow_c():
    """A leading 0 is octal in C: 010 is 8, 0x10 is 16, and 09 is an error naming the literal, never a
    ValueError traceback (found by the litmus fuzz target)."""
    def final(init: str) -> int:
        t = parse_litmus(f"C T\n{{ [x] = {init}; }}\nP0 (atomic_int* x) {{ int r0 = atomic_load_explicit(x, "
                         "memory_order_relaxed); }\nexists (0:r0=0)\n", "t.litmus")
        return dict(t.init)["x"]
    assert (final("010"), final("0x10"), final("10"), final("0")) == (8, 16, 10, 0)
    with pytest.raises(LitmusError, match=r"t.litmus:2: invalid octal literal '09'"):
        final("09")
