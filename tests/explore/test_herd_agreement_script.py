"""ci/herd_agreement.py compares velox litmus with herd's expected outputs: on a
small stand-in for a herdtools7 checkout it reports agreement, a difference, a
file both reject, and expected outputs without their source, and exits 1 when
something runnable disagrees."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ci" / "herd_agreement.py"

MP = """C MP
{ [x] = 0; [y] = 0; }
P0 (atomic_int* x, atomic_int* y) {
  atomic_store_explicit(x, 1, memory_order_relaxed);
  atomic_store_explicit(y, 1, memory_order_release);
}
P1 (atomic_int* x, atomic_int* y) {
  int r0 = atomic_load_explicit(y, memory_order_acquire);
  int r1 = atomic_load_explicit(x, memory_order_relaxed);
}
exists (1:r0=1 /\\ 1:r1=0)
"""


def velox_output(path: Path) -> str:
    from velox.explore.litmus import format_result, parse_litmus, run_litmus

    return format_result(run_litmus(parse_litmus(path.read_text(), str(path)), "rc11"), hexa=True)


def test_reports_agreement_differences_rejections_and_orphans(tmp_path):
    c = tmp_path / "herd" / "tests" / "instructions" / "C"
    c.mkdir(parents=True)
    (c / "A.litmus").write_text(MP.replace("C MP", "C A"))
    (c / "A.litmus.expected").write_text(velox_output(c / "A.litmus"))
    (c / "B.litmus").write_text(MP.replace("C MP", "C B"))
    (c / "B.litmus.expected").write_text(velox_output(c / "B.litmus").replace("Never 0 3", "Sometimes 1 3"))
    (c / "Z.litmus").write_text("C Z\n{ }\nP0 (int128_t* x) { }\nexists (x=0)\n")
    (c / "Z.litmus.expected-failure").write_text("Warning: unexpected 'int128_t'\n")
    gen = tmp_path / "gen" / "tests" / "C"
    gen.mkdir(parents=True)
    (gen / "G.litmus.expected").write_text("Test G Allowed\n")
    r = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), "-j", "1"], capture_output=True, text=True)
    lines = r.stdout.splitlines()
    assert any(line.startswith("agree") and "A.litmus" in line for line in lines), r.stdout
    assert any(line.startswith("differ") and "B.litmus" in line and "Sometimes 1 3" in line for line in lines)
    assert any(line.startswith("both-reject") and "Z.litmus" in line for line in lines)
    assert any(line.startswith("no-source") and "G.litmus.expected" in line for line in lines)
    assert "rc11: 3 files: agree 1, both-reject 1, differ 1" in r.stdout
    assert r.returncode == 1
