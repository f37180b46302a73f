"""Build and run the standalone native stress driver (stress_main.c).

The stress drivers of ``velox/_native/vx_stress.c`` compiled together with the
structures they drive, without Python: with ``-fsanitize=thread`` for the
TSan gate (ci/tsan.sh does the same from the shell), or plainly against a
mutated copy of ``velox/_native/`` for the mutant checks. Mutants are
the exact-text edits of the shared catalogue (``tests/mutants/catalogue.py``);
``DRIVER_OF`` below names the ones this suite runs and the driver for each.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
NATIVE = REPO / "velox" / "_native"
MAIN = Path(__file__).resolve().parent / "stress_main.c"
C_SOURCES = ["vx_stress.c", "vx_ring.c", "vx_book.c", "vx_mpmc.c", "vx_txn.c", "vx_tsc.c"]
SUPPRESSIONS = REPO / "ci" / "tsan.supp"


if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))
from mutants.catalogue import MUTANTS as CATALOGUE
from mutants.catalogue import apply_edits

#: Mutants of the shared catalogue this suite runs natively, with the driver
#: that exposes each. Their gates (catalogue ``caught_by``): "stress" (an
#: invariant of the plain driver fails), "tsan" (TSan reports a race),
#: "lincheck" (recorded histories are not linearizable). book_hint_overwritten
#: is the stateful book machine's mutant; the book driver's quiescent
#: best-price check must catch it too.
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
    """None when gcc can build and run a -fsanitize=thread program, else why not."""
    cc = shutil.which(os.environ.get("CC", "gcc"))
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


def sources(mutant: str | None) -> dict[str, str]:
    """velox/_native's C sources and headers, with a catalogue mutant's edits
    applied (MutantRotError if the code moved under the mutant)."""
    src = {p.name: p.read_text() for p in NATIVE.iterdir() if p.suffix in (".c", ".h")}
    return src if mutant is None else apply_edits(CATALOGUE[mutant], src)


def cache_dir(out_dir: Path) -> Path:
    """Where compiled objects are kept: $VELOX_NATIVE_CACHE, else out_dir."""
    env = os.environ.get("VELOX_NATIVE_CACHE")
    return Path(env) if env else out_dir


def _compile_all(cc: str, flags: list[str], tree: Path, sources: list[Path], objects: Path) -> list[Path]:
    """Compile C files into content-addressed objects (the file, every header
    of the tree and the flags make the key), reusing those present: a mutant
    touches one file, so its build is one compile and a link. Missing objects
    compile in parallel."""
    headers = sorted((p.name, p.read_text()) for p in tree.glob("*.h"))
    objects.mkdir(parents=True, exist_ok=True)
    out, jobs = [], []
    for source in sources:
        key = hashlib.sha256(repr((source.read_text(), headers, flags, cc)).encode()).hexdigest()[:20]
        obj = objects / f"{source.stem}-{key}.o"
        out.append(obj)
        if not obj.exists():
            tmp = obj.with_suffix(f".{os.getpid()}.tmp")
            cmd = [cc, *flags, f"-I{tree}", "-c", str(source), "-o", str(tmp)]
            jobs.append((obj, tmp, cmd, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                         text=True)))
    for obj, tmp, cmd, proc in jobs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"building the native stress driver failed:\n{' '.join(cmd)}\n{err}")
        os.replace(tmp, obj)  # atomic: concurrent builders (xdist workers) never see half an object
    return out


def build(out_dir: Path, *, mutant: str | None = None, tsan: bool = False) -> Path:
    """Compile stress_main against (mutated) sources; returns the executable.
    Objects are cached by content (see _compile), so rebuilding after a
    one-file mutation costs one compile and a link."""
    src = sources(mutant)
    cc = os.environ.get("CC", "gcc")
    flags = ["-std=gnu11", "-g", "-pthread", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    flags += ["-O1", "-fsanitize=thread"] if tsan else ["-O1"]  # -O1: quick to build, still optimised
    key = hashlib.sha256(repr((sorted(src.items()), MAIN.read_text(), flags)).encode()).hexdigest()[:16]
    tree = out_dir / f"{mutant or 'shipping'}-{'tsan' if tsan else 'plain'}-{key}"
    exe = tree / "stress_main"
    if exe.exists():
        return exe
    tree.mkdir(parents=True, exist_ok=True)
    for name, text in src.items():
        (tree / name).write_text(text)
    objects = cache_dir(out_dir) / "objects"
    objs = _compile_all(cc, flags, tree, [*(tree / s for s in C_SOURCES), MAIN], objects)
    tmp = f"{exe}.{os.getpid()}.tmp"
    cmd = [cc, *flags, *map(str, objs), "-lm", "-o", tmp]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"linking the native stress driver failed:\n{' '.join(cmd)}\n{r.stderr}")
    os.replace(tmp, exe)
    return exe


def run(exe: Path, *args: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    """Run the driver; TSan halts on the first report and uses ci/tsan.supp."""
    env = dict(os.environ)
    env["TSAN_OPTIONS"] = f"halt_on_error=1 second_deadlock_stack=1 suppressions={SUPPRESSIONS} " + env.get(
        "TSAN_OPTIONS", "")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout, env=env, check=False)
