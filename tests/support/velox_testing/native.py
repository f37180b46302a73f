"""Build and run velox's standalone C drivers (no Python in the process).

* the stress driver (``stress_main.c``, source set ``stress``): every stress
  driver and the history recorder, for the mutant checks and ThreadSanitizer;
* the pipeline driver (``pipeline_main.c``, set ``pipeline``): the native
  pipeline, under ThreadSanitizer;
* the benchmark harness (``bench_main.c``, set ``bench``): one ring
  benchmark run, for the bench driver's mutants.

Each is built through ``velox/_native/_build.py`` with a flag profile
(``driver``: plain -O1; ``tsan``: -fsanitize=thread) against the shipping
sources or a catalogue mutant's edits, cached by content: a mutant that edits
one file costs one compile and a link.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from velox._native import _build as vxb

from .catalogue import MUTANTS as CATALOGUE
from .catalogue import edits_of

REPO = vxb.NATIVE.parents[1]
SUPPRESSIONS = REPO / "ci" / "tsan.supp"

#: Mutants of the catalogue the stress driver runs, with the driver that
#: exposes each. Their gates (catalogue ``caught_by``): "stress" (an invariant
#: of the plain driver fails), "tsan" (TSan reports a race), "lincheck"
#: (recorded histories are not linearizable). book_hint_overwritten is the
#: stateful book machine's mutant; the book driver's quiescent best-price
#: check must catch it too.
DRIVER_OF = {
    "ring_pop_many_drops_wrapped": "ring",
    "book_update_load_store": "book",
    "book_hint_overwritten": "book",
    "mpmc_pop_frees_early": "mpmc",
    "ring_publish_relaxed": "ring",
    "mpmc_publish_relaxed": "mpmc",
}
#: Extra driver arguments that make a mutant's window wide enough to hit in a
#: short run (a 2-cell MPMC ring: producers wait on the very cell being read).
EXTRA_ARGS = {"mpmc_pop_frees_early": ("--capacity", "2"),
              # a 32-slot ring with batches: pop_many crosses the slot array's end often
              "ring_pop_many_drops_wrapped": ("--capacity", "32")}
STRESS_MUTANTS = [m for m in DRIVER_OF if "tsan" not in CATALOGUE[m].caught_by]
TSAN_MUTANTS = [m for m in DRIVER_OF if "tsan" in CATALOGUE[m].caught_by]


def tsan_available() -> str | None:
    """None when the compiler can build and run a -fsanitize=thread program,
    else why not."""
    cc = shutil.which(vxb.profile("tsan").compiler())
    if cc is None:
        return "no C compiler (gcc) on PATH"
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "t.c"
        src.write_text("int main(void) { return 0; }\n")
        r = subprocess.run([cc, "-fsanitize=thread", str(src), "-o", str(Path(d) / "t")],
                           capture_output=True, text=True, check=False)
        if r.returncode != 0:
            return f"{cc} cannot build with -fsanitize=thread: {r.stderr.strip()[:200]}"
        r = subprocess.run([str(Path(d) / "t")], capture_output=True, text=True, check=False)
        if r.returncode != 0:
            return f"a -fsanitize=thread program does not run here: {r.stderr.strip()[:200]}"
    return None


def build(set_name: str, *, mutant: str | None = None, tsan: bool = False) -> Path:
    """The standalone program of source set ``set_name`` ("stress",
    "pipeline" or "bench"), with catalogue mutant ``mutant`` applied, plain or
    under ThreadSanitizer; returns the executable (cached by content)."""
    return vxb.build_executable(set_name, "tsan" if tsan else "driver", edits=edits_of(mutant),
                                label=f"mutant {mutant}")


def run(exe: Path, *args: object, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    """Run a driver; TSan halts on the first report (exit 66) and uses
    ci/tsan.supp."""
    env = dict(os.environ)
    env["TSAN_OPTIONS"] = (f"halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions={SUPPRESSIONS} "
                           + env.get("TSAN_OPTIONS", ""))
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env,
                          check=False)
