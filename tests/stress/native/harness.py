"""Build and run the standalone native stress driver (stress_main.c).

The stress drivers of ``velox/_native/vx_stress.c`` compiled together with the
structures they drive, without Python: with ``-fsanitize=thread`` for the
TSan gate (ci/tsan.sh does the same from the shell), or plainly against a
mutated copy of ``velox/_native/`` for the mutant checks. Mutants are
exact-text edits in the catalogue's format (``tests/mutants/catalogue.py``);
the ones this suite must catch are listed in ``STRESS_MUTANTS`` below and,
once the shared catalogue carries them, read from there.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
NATIVE = REPO / "velox" / "_native"
MAIN = Path(__file__).resolve().parent / "stress_main.c"
C_SOURCES = ["vx_stress.c", "vx_ring.c", "vx_book.c", "vx_mpmc.c", "vx_txn.c", "vx_tsc.c"]
SUPPRESSIONS = REPO / "ci" / "tsan.supp"


@dataclass(frozen=True, kw_only=True)
class NativeMutant:
    """A deliberately wrong variant: edits (file, old, new) and the gate
    ("stress", "tsan", "lincheck") that must catch it, with the driver to run."""

    name: str
    description: str
    edits: tuple[tuple[str, str, str], ...]
    caught_by: str
    driver: str


STRESS_MUTANTS = [
    NativeMutant(
        name="ring_pop_many_drops_wrapped",
        description="pop_many advances head by k but hands out only the records before the slot array's "
                    "end: the records after the wrap are lost",
        edits=(("vx_ring.c",
                "     * reuse them; pairs with the acquire load of head in producer_space. */\n"
                "    vx_store(&r->head, head + k, VX_RELEASE);\n    return k;",
                "     * reuse them; pairs with the acquire load of head in producer_space. */\n"
                "    vx_store(&r->head, head + k, VX_RELEASE);\n    return run; /* MUTANT */"),),
        caught_by="stress", driver="ring"),
    NativeMutant(
        name="book_update_load_store",
        description="a level update is a load and a store instead of a compare-exchange: concurrent "
                    "updates are lost",
        edits=(("vx_book.c",
                "        if (vx_cas_weak(q, &cur, next, VX_RELAXED, VX_RELAXED)) {",
                "        if ((vx_store(q, next, VX_RELAXED), 1)) { /* MUTANT: not atomic */"),),
        caught_by="stress", driver="book"),
    NativeMutant(
        name="book_hint_loses_max",
        description="raising the best-price hint overwrites it with the new level even when that level is "
                    "worse: the best price is lost",
        edits=(("vx_book.c",
                "        uint32_t want = rank + 1 > r1 ? rank + 1 : r1;",
                "        uint32_t want = rank + 1; (void)r1; /* MUTANT */"),),
        caught_by="stress", driver="book"),
    NativeMutant(
        name="mpmc_claim_by_store",
        description="producers claim an index with a plain store instead of the compare-exchange: two "
                    "producers can claim the same cell",
        edits=(("vx_mpmc.c",
                "            if (vx_cas_weak(&q->enqueue_pos, &pos, pos + 1, VX_RELAXED, VX_RELAXED)) break;",
                "            vx_store(&q->enqueue_pos, pos + 1, VX_RELAXED); break; /* MUTANT */"),),
        caught_by="stress", driver="mpmc"),
    NativeMutant(
        name="mpmc_pop_frees_early",
        description="pop hands the cell back to producers (release store of seq) before copying the record "
                    "out: a producer of the next lap can overwrite it mid-read",
        edits=(("vx_mpmc.c",
                "    vx_store(&cell->seq, pos + q->mask + 1, VX_RELEASE);\n    return 1;",
                "    return 1;"),
               ("vx_mpmc.c",
                "    VX_CELL_READ(&cell->txn, sizeof cell->txn);\n    *out = cell->txn;\n",
                "    vx_store(&cell->seq, pos + q->mask + 1, VX_RELEASE); /* MUTANT: freed before the read */\n"
                "    VX_CELL_READ(&cell->txn, sizeof cell->txn);\n    *out = cell->txn;\n")),
        caught_by="stress", driver="mpmc"),
    NativeMutant(
        name="ring_publish_relaxed",
        description="push publishes tail with a relaxed store: the consumer may read the slot before the "
                    "record is written (x86 hides it; TSan does not)",
        edits=(("vx_ring.c",
                "    vx_store(&r->tail, tail + 1, VX_RELEASE);",
                "    vx_store(&r->tail, tail + 1, VX_RELAXED); /* MUTANT */"),),
        caught_by="tsan", driver="ring"),
    NativeMutant(
        name="mpmc_publish_relaxed",
        description="MPMC push publishes the cell's seq with a relaxed store (x86 hides it; TSan does not)",
        edits=(("vx_mpmc.c",
                "    vx_store(&cell->seq, pos + 1, VX_RELEASE);",
                "    vx_store(&cell->seq, pos + 1, VX_RELAXED); /* MUTANT */"),),
        caught_by="tsan", driver="mpmc"),
]
MUTANTS = {m.name: m for m in STRESS_MUTANTS}


def tsan_available() -> str | None:
    """None when gcc can build and run a -fsanitize=thread program, else why not."""
    cc = shutil.which(os.environ.get("CC", "gcc"))
    if cc is None:
        return "no C compiler (gcc) on PATH"
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "t.c"
        src.write_text("int main(void) { return 0; }\n")
        r = subprocess.run([cc, "-fsanitize=thread", str(src), "-o", str(Path(d) / "t")],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return f"{cc} cannot build with -fsanitize=thread: {r.stderr.strip()[:200]}"
        r = subprocess.run([str(Path(d) / "t")], capture_output=True, text=True)
        if r.returncode != 0:
            return f"a -fsanitize=thread program does not run here: {r.stderr.strip()[:200]}"
    return None


def sources(mutant: str | None) -> dict[str, str]:
    """velox/_native's C sources and headers, with a mutant's edits applied."""
    src = {p.name: p.read_text() for p in NATIVE.iterdir() if p.suffix in (".c", ".h")}
    if mutant is None:
        return src
    m = MUTANTS[mutant]
    for file, old, new in m.edits:
        n = src[file].count(old)
        if n != 1:
            raise RuntimeError(f"mutant {mutant}: the text to replace occurs {n} times in {file} (need 1); "
                               f"the code changed under the mutant, update tests/stress/native/harness.py")
        src[file] = src[file].replace(old, new)
    return src


def build(out_dir: Path, *, mutant: str | None = None, tsan: bool = False) -> Path:
    """Compile stress_main against (mutated) sources into out_dir; returns the
    executable. Rebuilds only when the sources or flags change."""
    src = sources(mutant)
    flags = ["-std=gnu11", "-g", "-pthread", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    flags += ["-O1", "-fsanitize=thread"] if tsan else ["-O2"]
    key = hashlib.sha256(repr((sorted(src.items()), MAIN.read_text(), flags)).encode()).hexdigest()[:16]
    tree = out_dir / f"{mutant or 'shipping'}-{'tsan' if tsan else 'plain'}-{key}"
    exe = tree / "stress_main"
    if exe.exists():
        return exe
    tree.mkdir(parents=True, exist_ok=True)
    for name, text in src.items():
        (tree / name).write_text(text)
    cmd = [os.environ.get("CC", "gcc"), *flags, f"-I{tree}", str(MAIN), *(str(tree / s) for s in C_SOURCES),
           "-lm", "-o", str(exe) + ".tmp"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"building the native stress driver failed:\n{' '.join(cmd)}\n{r.stderr}")
    os.replace(str(exe) + ".tmp", exe)
    return exe


def run(exe: Path, *args: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    """Run the driver; TSan halts on the first report and uses ci/tsan.supp."""
    env = dict(os.environ)
    env["TSAN_OPTIONS"] = f"halt_on_error=1 second_deadlock_stack=1 suppressions={SUPPRESSIONS} " + env.get(
        "TSAN_OPTIONS", "")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout, env=env)
