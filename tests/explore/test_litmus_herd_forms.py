"""herd's C forms beyond the common core: a compare-exchange whose expected value
is a location parameter, atomic_fetch_or/and/xor, a failure order stronger than
the success order, herd's 'regions' clause; and ``velox litmus`` over several
files (a bad file is reported and the others still run; ``--jobs N``)."""

from __future__ import annotations

from rc11_oracle import rc11_result

from velox.explore.litmus import cli as litmus_cli
from velox.explore.litmus import format_result, parse_litmus, run_litmus

CAS_LOC = """C CAS+loc
{}
P0 (atomic_int* y) {
  atomic_store_explicit(y,1,memory_order_relaxed);
}
P1 (atomic_int* y,int *z) {
  atomic_compare_exchange_strong(y,z,2);
}
~exists z=0 /\\ y=2
"""

BITS = """C BITS
{ [x] = 12; }
P0 (atomic_int* x) {
  int r0 = atomic_fetch_or_explicit(x, 3, memory_order_relaxed);
}
P1 (atomic_int* x) {
  int r1 = atomic_fetch_and_explicit(x, 6, memory_order_acq_rel);
  int r2 = atomic_fetch_xor(x, 1);
}
exists (x=7)
"""

FAIL_STRONGER = """C MP+rel+cas.relaxed.fail.acq
{ [x] = 0; [y] = 0; }
P0 (atomic_int* x, atomic_int* y) {
  atomic_store_explicit(x, 1, memory_order_relaxed);
  atomic_store_explicit(y, 1, memory_order_release);
}
P1 (atomic_int* x, atomic_int* y) {
  int e = 2;
  int ok = atomic_compare_exchange_strong_explicit(y, &e, 3, memory_order_relaxed, memory_order_acquire);
  int r1 = atomic_load_explicit(x, memory_order_relaxed);
}
exists (1:e=1 /\\ 1:r1=0)
"""


def state_lines(result) -> list[str]:
    lines = format_result(result).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("States "))
    n = int(lines[start].split()[1])
    return lines[start + 1:start + 1 + n]


def test_cas_with_a_location_as_expected_value_reads_and_updates_it():
    test = parse_litmus(CAS_LOC, "CAS+loc.litmus")
    result = run_litmus(test, "rc11")
    # herd7's expected output for this test (herdtools7 herd/tests/instructions/C/C16)
    assert result.verdict == "Never"
    assert sorted(state_lines(result)) == ["[y]=1; [z]=0;", "[y]=1; [z]=1;"]
    assert (result.positive, result.negative) == (0, 2)


def test_fetch_or_and_xor():
    test = parse_litmus(BITS, "BITS.litmus")
    result = run_litmus(test, "rc11")
    oracle = rc11_result(test)
    assert state_lines(result) == state_lines(oracle)
    finals = {s.split("[x]=")[1].rstrip(";") for s in state_lines(result)}
    # or-then-and-then-xor: ((12|3)&6)^1 = 7; and-then-xor-then-or: ((12&6)^1)|3 = 7; and-or-xor: ((12&6)|3)^1 = 6
    assert finals == {"6", "7"}, state_lines(result)
    assert result.verdict == "Sometimes"


def test_failure_order_stronger_than_success_is_accepted_and_synchronises():
    test = parse_litmus(FAIL_STRONGER, "t.litmus")
    result = run_litmus(test, "rc11")
    # the failed CAS reads y=1 with acquire: it synchronises with the release store, so x=1 is visible
    assert result.verdict == "Never"


def test_regions_clause_is_skipped():
    text = "C R\n{ int x = 0 }\nP0(int *x) {\n  *x = 1;\n}\nregions: x:PROP\nforall ( x = 1 )\n"
    result = run_litmus(parse_litmus(text, "r.litmus"), "rc11")
    assert result.verdict == "Always"


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_a_bad_file_is_reported_and_the_others_still_run(tmp_path, capsys):
    good1 = write(tmp_path, "a.litmus", CAS_LOC)
    bad = write(tmp_path, "b.litmus", "C B\n{ }\nP0 (atomic_int* x) {\n  while (1) { }\n}\nexists (x=0)\n")
    good2 = write(tmp_path, "c.litmus", BITS)
    status = litmus_cli.main([good1, bad, good2])
    out, err = capsys.readouterr()
    assert status == 2
    assert "Test CAS+loc Forbidden" in out and "Test BITS Allowed" in out
    assert "b.litmus:4:" in err and "while" in err


def test_jobs_gives_the_same_output_in_the_same_order(tmp_path, capsys):
    files = [write(tmp_path, "a.litmus", CAS_LOC), write(tmp_path, "b.litmus", BITS),
             write(tmp_path, "c.litmus", FAIL_STRONGER)]

    def strip(text):
        return "\n".join(line for line in text.splitlines() if not line.startswith(("Time ", "Hash=")))

    assert litmus_cli.main(files) == 0
    serial = strip(capsys.readouterr().out)
    assert litmus_cli.main(["--jobs", "2", *files]) == 0
    parallel = strip(capsys.readouterr().out)
    assert serial == parallel
    assert serial.index("Test CAS+loc") < serial.index("Test BITS") < serial.index("Test MP+rel")


def test_jobs_must_be_positive(capsys):
    assert litmus_cli.main(["--jobs", "0", "x.litmus"]) == 2
    assert "--jobs" in capsys.readouterr().err


def test_paren_star_inside_a_process_body_is_code_not_a_comment():
    # herd's C lexer knows only /* */ and // inside process bodies: "(*x)" there is a dereference
    text = ("C DEREF\n(* a comment before the init *)\n{ [x] = 0; }\n"
            "P0 (int* x) {\n  *x = 1;\n  int r0 = (*x) + 1;\n}\n(* a comment after *)\nexists (0:r0=2)\n")
    result = run_litmus(parse_litmus(text, "d.litmus"), "rc11")
    assert result.verdict == "Always"
