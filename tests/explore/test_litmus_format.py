"""herd7's result layout: golden outputs, a parser of the layout, and the ``velox litmus`` command.

``parse_herd_output`` below reads herd7's layout the way tools that compare herd
runs do (one block per test, each line in a fixed shape); the CLI's output must
parse with it. The golden texts marked "herd7" are herd's own expected outputs
from herdtools7's regression tests (herd/tests/instructions/C/*.litmus.expected,
run with -hexa), minus the Time line those files omit.
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from dataclasses import dataclass

import pytest
from rc11_oracle import rc11_result
from test_litmus_sc_oracle import sc_outcome_counts, sc_result

from velox.explore.litmus import cli as _litmus_cli
from velox.explore.litmus import format_result, parse_litmus, run_litmus, tally

SUITE = os.path.join(os.path.dirname(__file__), "litmus")


# --------------------------------------------------------------------------
# A parser of herd7's layout
# --------------------------------------------------------------------------


@dataclass
class HerdBlock:
    name: str
    kind: str
    states: list[dict[str, str]]
    verdict: str
    positive: int
    negative: int
    flags: list[str]
    condition: str
    observation: str
    obs_pos: int
    obs_neg: int
    time: float | None
    hash: str | None


_STATE_ITEM = re.compile(r"(\d+:[A-Za-z_]\w*|\[[A-Za-z_]\w*\]|[A-Za-z_]\w*)=(-?(?:0x[0-9a-f]+|\d+));")


class HerdLayoutError(AssertionError):
    pass


def parse_herd_output(text: str) -> list[HerdBlock]:
    """Parse herd7 output into blocks; raise ``HerdLayoutError`` on any line out of place."""
    lines = text.split("\n")
    blocks: list[HerdBlock] = []
    i = 0

    def take(pattern: str, what: str) -> re.Match:
        nonlocal i
        line = lines[i] if i < len(lines) else "<end of output>"
        m = re.fullmatch(pattern, line)
        if not m:
            raise HerdLayoutError(f"line {i + 1}: expected {what}, found {line!r}")
        i += 1
        return m

    while i < len(lines):
        if lines[i] == "":
            i += 1
            continue
        m = take(r"Test (\S+) (Allowed|Forbidden|Required)", "'Test NAME KIND'")
        name, kind = m.groups()
        n = int(take(r"States (\d+)", "'States N'").group(1))
        states = []
        for _ in range(n):
            line = lines[i] if i < len(lines) else ""
            items = _STATE_ITEM.findall(line)
            if not items or " ".join(f"{a}={b};" for a, b in items) != line:
                raise HerdLayoutError(f"line {i + 1}: expected a state 'loc=v; ...', found {line!r}")
            states.append(dict(items))
            i += 1
        verdict = take(r"(?:Loop )?(Ok|No|Undef)", "'Ok', 'No' or 'Undef'").group(1)
        take(r"Witnesses", "'Witnesses'")
        pos, neg = map(int, take(r"Positive: (\d+) Negative: (\d+)", "'Positive: P Negative: N'").groups())
        flags = []
        while i < len(lines) and lines[i].startswith("Flag "):
            flags.append(lines[i][5:])
            i += 1
        cond = take(r"Condition ((?:exists|~exists|forall) \(.*\))", "'Condition ...'").group(1)
        m = take(rf"Observation {re.escape(name)} (Always|Sometimes|Never) (\d+) (\d+)", "'Observation NAME KIND P N'")
        obs, opos, oneg = m.group(1), int(m.group(2)), int(m.group(3))
        time_ = None
        if i < len(lines) and lines[i].startswith("Time "):
            time_ = float(take(rf"Time {re.escape(name)} (\d+\.\d\d)", "'Time NAME s.ss'").group(1))
        hash_ = None
        if i < len(lines) and lines[i].startswith("Hash="):
            hash_ = take(r"Hash=([0-9a-f]+)", "'Hash=hex'").group(1)
        take(r"", "the blank line ending the block")
        # Internal consistency, as herd computes it.
        expected_obs = "Never" if opos == 0 else ("Always" if oneg == 0 else "Sometimes")
        if obs != expected_obs:
            raise HerdLayoutError(f"{name}: Observation {obs} with counts {opos} {oneg}")
        blocks.append(HerdBlock(name, kind, states, verdict, pos, neg, flags, cond, obs, opos, oneg, time_, hash_))
    return blocks


def test_layout_parser_rejects_malformed_output():
    good = "Test T Allowed\nStates 1\n0:r0=0;\nNo\nWitnesses\nPositive: 0 Negative: 1\nCondition exists (0:r0=1)\nObservation T Never 0 1\nTime T 0.00\nHash=ab\n\n"
    assert parse_herd_output(good)[0].states == [{"0:r0": "0"}]
    for broken in [
        good.replace("States 1", "States 2"),
        good.replace("Never 0 1", "Sometimes 0 1"),
        good.replace("Witnesses\n", ""),
        good.replace("0:r0=0;", "0:r0=0"),
        good.replace("Test T Allowed", "Test T Maybe"),
        good.replace("Observation T", "Observation U"),
        good.replace("Hash=ab\n\n", "Hash=ab\nextra\n"),
    ]:
        with pytest.raises(HerdLayoutError):
            parse_herd_output(broken)


# --------------------------------------------------------------------------
# Golden outputs
# --------------------------------------------------------------------------

# herdtools7 herd/tests/instructions/C/C13.litmus and its expected output (-hexa).
C13 = """C C13
(* Forbidden by rc11, allowed by most C11 models that tolerate oota *)
{
x = 0;
y = 0;
}

P0(atomic_int *x, atomic_int *y) {
  int r1 = atomic_load_explicit(y, memory_order_relaxed);
  atomic_store_explicit(x, r1, memory_order_relaxed);
  int r2 = (r1^r1)+r1;
}

P1(atomic_int *x, atomic_int *y) {
  int r4 = atomic_load_explicit(x, memory_order_relaxed);
  atomic_store_explicit(y, r4, memory_order_relaxed);
}

locations [0:r2; 1:r4;]
exists 0:r1 != 0
"""
C13_HERD = """Test C13 Allowed
States 1
0:r1=0x0; 0:r2=0x0; 1:r4=0x0;
No
Witnesses
Positive: 0 Negative: 3
Condition exists (not (0:r1=0x0))
Observation C13 Never 0 3
"""
C14 = """C C14
{}

P0 (atomic_int* y) {
  atomic_fetch_add_explicit(y,1,memory_order_relaxed);
}

P1 (atomic_int* y) {
  atomic_fetch_add_explicit(y,1,memory_order_relaxed);
}

forall y=2
"""
C14_HERD = """Test C14 Required
States 1
[y]=0x2;
Ok
Witnesses
Positive: 2 Negative: 0
Condition forall ([y]=0x2)
Observation C14 Always 2 0
"""
C01 = "C C01\n\n{ x = 1 }\n\nP0 (const int* x) {\n  int r0 = *x;\n}\n\n\nforall (0:r0=1)\n"
C01_HERD = """Test C01 Required
States 1
0:r0=0x1;
Ok
Witnesses
Positive: 1 Negative: 0
Condition forall (0:r0=0x1)
Observation C01 Always 1 0
"""
C03 = "C C03\n\n{}\n\nP0 (int* y) {\n  atomic_fetch_add_explicit(y,1,memory_order_seq_cst);\n}\n\nforall y=1\n"
C03_HERD = """Test C03 Required
States 1
[y]=0x1;
Ok
Witnesses
Positive: 1 Negative: 0
Condition forall ([y]=0x1)
Observation C03 Always 1 0
"""
C04 = "C C04\n(* Tests 128-bit types *)\n{ }\n\nP0 (__int128_t *y, __uint128_t *a) {\n  __int128_t r1 = *y;\n  __uint128_t r3 = *a;\n}\n\nforall (0:r1 = 0  /\\ 0:r3  = 0)\n"
C04_HERD = """Test C04 Required
States 1
0:r1=0x0; 0:r3=0x0;
Ok
Witnesses
Positive: 1 Negative: 0
Condition forall (0:r1=0x0 /\\ 0:r3=0x0)
Observation C04 Always 1 0
"""
# herdtools7 C08: a racy test; herd prints Undef and the *undef* flag.
C08 = """C C08

(* Test to ensure diy generated tests are accepted by herd - int128*)

{__int128 y; __int128 x;}

P0 (volatile __int128* y,volatile __int128* x) {
  __int128 r0 = *x;
  atomic_thread_fence(memory_order_relaxed);
  *y = 1;
}

P1 (volatile __int128* y,volatile __int128* x) {
  __int128 r0 = *y;
  atomic_thread_fence(memory_order_relaxed);
  *x = 1;
}

exists (0:r0=1 /\\ 1:r0=1)
"""
C08_HERD = """Test C08 Allowed
States 3
0:r0=0x0; 1:r0=0x0;
0:r0=0x0; 1:r0=0x1;
0:r0=0x1; 1:r0=0x0;
Undef
Witnesses
Positive: 0 Negative: 3
Flag *undef*
Condition exists (0:r0=0x1 /\\ 1:r0=0x1)
Observation C08 Never 0 3
"""
HERD_GOLDEN = [("C13", C13, C13_HERD), ("C14", C14, C14_HERD), ("C01", C01, C01_HERD),
               ("C03", C03, C03_HERD), ("C04", C04, C04_HERD)]


def _without_time_and_hash(text: str) -> str:
    return "".join(line + "\n" for line in text.split("\n") if line and not line.startswith(("Time ", "Hash=")))


@pytest.mark.parametrize("name, source, herd", HERD_GOLDEN, ids=[g[0] for g in HERD_GOLDEN])
def test_matches_herd7_expected_output_with_sc_oracle(name, source, herd):
    """These loop-free tests have the same executions under SC and RC11, so the SC oracle's counts are herd's."""
    out = format_result(sc_result(parse_litmus(source, name)), hexa=True)
    assert _without_time_and_hash(out) == herd
    parse_herd_output(out)


@pytest.mark.parametrize("name, source, herd", HERD_GOLDEN + [("C08", C08, C08_HERD)], ids=[g[0] for g in HERD_GOLDEN] + ["C08"])
def test_matches_herd7_expected_output_with_rc11_oracle(name, source, herd):
    out = format_result(rc11_result(parse_litmus(source, name)), hexa=True)
    assert _without_time_and_hash(out) == herd


def test_golden_mp_layout_from_the_issue():
    t = parse_litmus(open(os.path.join(SUITE, "MP+rel+acq.litmus")).read(), "MP+rel+acq.litmus")
    out = format_result(tally(t, "rc11", Counter({((0, 0), True): 1, ((0, 1), True): 1, ((1, 1), True): 1})))
    assert out.startswith(
        "Test MP+rel+acq Allowed\nStates 3\n1:r0=0; 1:r1=0;\n1:r0=0; 1:r1=1;\n1:r0=1; 1:r1=1;\nNo\nWitnesses\n"
        "Positive: 0 Negative: 3\nCondition exists (1:r0=1 /\\ 1:r1=0)\nObservation MP+rel+acq Never 0 3\nTime MP+rel+acq "
    )
    assert re.search(r"\nTime MP\+rel\+acq \d+\.\d\d\nHash=[0-9a-f]{32}\n\n$", out)


def _synthetic(cond: str, counts: dict, undef: bool = False) -> str:
    t = parse_litmus(f"C T\n{{ }}\nP0 (atomic_int* x) {{ int r0 = atomic_load(x); }}\n{cond}\n", "T")
    return _without_time_and_hash(format_result(tally(t, "rc11", Counter(counts), undef=undef)))


def test_golden_forbidden_kind_swaps_witnesses_not_observation():
    # herd: for ~exists, Witnesses prints (negative, positive) but Observation keeps (positive, negative).
    out = _synthetic("~exists (0:r0=1)", {((0,), True): 2, ((1,), True): 1})
    assert out == ("Test T Forbidden\nStates 2\n0:r0=0;\n0:r0=1;\nNo\nWitnesses\nPositive: 2 Negative: 1\n"
                   "Condition ~exists (0:r0=1)\nObservation T Sometimes 1 2\n")


def test_golden_forall_required_and_sorted_numeric_states():
    out = _synthetic("forall (0:r0=10 \\/ 0:r0=2 \\/ 0:r0=-1)", {((10,), True): 1, ((2,), True): 1, ((-1,), True): 1})
    assert out == ("Test T Required\nStates 3\n0:r0=-1;\n0:r0=2;\n0:r0=10;\nOk\nWitnesses\nPositive: 3 Negative: 0\n"
                   "Condition forall (0:r0=10 \\/ 0:r0=2 \\/ 0:r0=-1)\nObservation T Always 3 0\n")


def test_golden_undef_flag_for_data_races():
    out = _synthetic("exists (0:r0=1)", {((0,), True): 1}, undef=True)
    assert out == ("Test T Allowed\nStates 1\n0:r0=0;\nUndef\nWitnesses\nPositive: 0 Negative: 1\nFlag *undef*\n"
                   "Condition exists (0:r0=1)\nObservation T Never 0 1\n")


@pytest.mark.parametrize("cond, printed", [
    ("exists (0:r0=1 /\\ (x=1 \\/ x=2))", "exists (0:r0=1 /\\ (x=1 \\/ x=2))"),
    ("exists ((0:r0=1 /\\ x=1) \\/ x=2)", "exists (0:r0=1 /\\ x=1 \\/ x=2)"),
    ("exists (~(0:r0=1 /\\ x=1))", "exists (not (0:r0=1 /\\ x=1))"),
    ("forall (x=1 => 0:r0=1 /\\ x=1)", "forall (x=1 => (0:r0=1 /\\ x=1))"),
    ("exists x=1", "exists (x=1)"),
])
def test_condition_printing_uses_herds_minimal_parentheses(cond, printed):
    out = _synthetic(cond, {((0, 0), True): 1})
    assert f"Condition {printed.replace('x=', '[x]=')}\n" in out


# --------------------------------------------------------------------------
# The command line (engine replaced by the SC oracle, so these run without it)
# --------------------------------------------------------------------------


@pytest.fixture
def sc_cli(monkeypatch):
    def run(test, model):
        assert model == "sc"
        return tally(test, "sc", sc_outcome_counts(test))

    monkeypatch.setattr(_litmus_cli, "run_litmus", run)
    return _litmus_cli.main


def _suite_files() -> list[str]:
    return sorted(os.path.join(SUITE, f) for f in os.listdir(SUITE) if f.endswith(".litmus"))


def test_cli_output_parses_as_herd_layout(sc_cli, capsys):
    files = _suite_files()
    assert sc_cli(["--model", "sc", "--check-expected", *files]) == 0
    out, err = capsys.readouterr()
    blocks = parse_herd_output(out)
    assert [b.name for b in blocks] == [os.path.basename(f)[:-7] for f in files]
    assert f"[{len(files)}/{len(files)}]" in err  # progress on stderr, never mixed into herd's layout


def test_cli_expect_flag_exit_codes(sc_cli, capsys):
    sb = os.path.join(SUITE, "SB.litmus")
    assert sc_cli(["--model", "sc", "--expect", "Never", sb]) == 0
    assert sc_cli(["--model", "sc", "--expect", "Sometimes", sb]) == 1
    assert "expected Sometimes under sc, observed Never" in capsys.readouterr().err


def test_cli_check_expected_reports_a_wrong_expectation(sc_cli, tmp_path, capsys):
    text = open(os.path.join(SUITE, "SB.litmus")).read().replace("sc=Never", "sc=Sometimes")
    path = tmp_path / "SB.litmus"
    path.write_text(text)
    assert sc_cli(["--model", "sc", "--check-expected", str(path)]) == 1
    assert "DISAGREES" in capsys.readouterr().err


def test_cli_check_expected_requires_an_expectation(sc_cli, tmp_path, capsys):
    path = tmp_path / "T.litmus"
    path.write_text("C T\n{ }\nP0 (atomic_int* x) { atomic_store(x, 1); }\nexists (x=1)\n")
    assert sc_cli(["--model", "sc", "--check-expected", str(path)]) == 1
    assert "no '(* expect: sc=... *)' entry" in capsys.readouterr().err


def test_cli_bad_input_exits_2_naming_the_line(tmp_path, capsys):
    path = tmp_path / "bad.litmus"
    path.write_text("C T\n{ }\nP0 (atomic_int* x) {\n  while (1) { }\n}\nexists (x=1)\n")
    assert _litmus_cli.main([str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:4: unsupported construct 'while'" in err


def test_cli_accepts_a_folder(sc_cli, tmp_path, capsys):
    assert sc_cli(["--model", "sc", "--check-expected", SUITE]) == 0
    assert len(parse_herd_output(capsys.readouterr().out)) == len(_suite_files())
    assert _litmus_cli.main([str(tmp_path)]) == 2
    assert "no .litmus files in folder" in capsys.readouterr().err


def test_cli_missing_file_and_bad_usage_exit_2(capsys):
    assert _litmus_cli.main(["/nonexistent/x.litmus"]) == 2
    assert "cannot read /nonexistent/x.litmus" in capsys.readouterr().err
    assert _litmus_cli.main([]) == 2
    assert _litmus_cli.main(["--model", "tso", "x.litmus"]) == 2


def test_cli_engine_failure_is_reported_and_other_tests_still_run(monkeypatch, capsys):
    calls = []

    def run(test, model):
        calls.append(test.name)
        if test.name == "SB":
            raise AssertionError("internal engine error")
        return tally(test, "sc", sc_outcome_counts(test))

    monkeypatch.setattr(_litmus_cli, "run_litmus", run)
    files = [os.path.join(SUITE, f) for f in ("SB.litmus", "MP.litmus")]
    assert _litmus_cli.main(["--model", "sc", *files]) == 3
    out, err = capsys.readouterr()
    assert calls == ["SB", "MP"]
    assert "SB: the explorer failed under sc: AssertionError: internal engine error" in err
    assert [b.name for b in parse_herd_output(out)] == ["MP"]


def test_cli_help_explains_itself(capsys):
    assert _litmus_cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for word in ("herd7", "--model", "rc11", "--expect", "--check-expected", "exists", "examples:"):
        assert word in out


def test_velox_command_dispatches_litmus(capsys):
    from velox import _cli

    assert _cli.main(["litmus", "--help"]) == 0
    assert "usage: velox litmus" in capsys.readouterr().out


# --------------------------------------------------------------------------
# The real engine: herd7's goldens, and the whole suite through the command
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name, source, herd", HERD_GOLDEN + [("C08", C08, C08_HERD)], ids=[g[0] for g in HERD_GOLDEN] + ["C08"])
def test_engine_output_matches_herd7_expected_output(name, source, herd):
    out = format_result(run_litmus(parse_litmus(source, name), "rc11"), hexa=True)
    assert _without_time_and_hash(out) == herd


@pytest.mark.parametrize("model", ["rc11", "sc"])
def test_cli_runs_the_whole_suite_on_the_engine(model, capsys):
    files = _suite_files()
    assert _litmus_cli.main(["--model", model, "--check-expected", *files]) == 0
    out, err = capsys.readouterr()
    blocks = parse_herd_output(out)
    assert len(blocks) == len(files)
    assert all(b.time is not None and b.hash for b in blocks)
    assert "DISAGREES" not in err


def test_python_dash_m_velox_litmus_end_to_end():
    """The real entry point, in a fresh process: herd layout on stdout, exit 0."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "velox", "litmus", "--hexa", "--check-expected", os.path.join(SUITE, "CoWW.litmus")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    (block,) = parse_herd_output(proc.stdout)
    assert (block.kind, block.verdict, block.states, block.condition) == (
        "Forbidden", "Ok", [{"[x]": "0x2"}], "~exists ([x]=0x1)")
