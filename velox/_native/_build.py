"""The one description of how velox's C is built: source sets, flag profiles,
one content-addressed object cache, and the mutant-aware ``sources()``.

Every builder reads this module: setup.py (the production extension and the
model build), ``velox.cmodel.build`` (model builds of user code), the test
builders (mutants, the native stress and pipeline drivers, the ThreadSanitizer
builds) and the ci scripts (``python velox/_native/_build.py --help``).

Source sets name the C files of one build. The files live in this folder,
except the test-only drivers (``vx_stress_*.c``, ``stress_main.c``,
``pipeline_main.c``), which live in the checkout's ``tests/support/native/``
and never ship. Flag profiles name one set of compiler and linker flags each.

Objects are cached by content: the key of an object is a hash of its source
text, the text of every header it can see, the compiler and the flags. Two
builds that differ in any of these never share an object path, so a
production build can never link an object compiled for the model build (or
with another sanitizer), whatever order builds run in. Cache root:
``$VELOX_BUILD_CACHE``, else ``~/.cache/velox/build`` (setup.py uses
``build/velox-cache`` inside the checkout).

Pure Python with no velox imports: setup.py loads it by path before anything
is compiled.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: This folder: the shipping C sources and headers.
NATIVE = Path(__file__).resolve().parent
#: The test-only C drivers (present in a checkout, absent from an install).
TESTING = NATIVE.parents[1] / "tests" / "support" / "native"

#: Source sets: name -> the C files of that build (headers are always visible).
SOURCE_SETS: dict[str, tuple[str, ...]] = {
    # the static core of the production extension velox._native._core
    "core": ("vx_txn.c", "vx_ring.c", "vx_book.c", "vx_tsc.c", "vx_bundle.c", "vx_bench.c", "vx_mpmc.c",
             "vx_hist.c", "vx_ingress.c", "vx_pipeline.c", "vx_bench_pipe.c"),
    # the model build velox._native._model (the clock is the explorer's: no vx_tsc.c)
    "model": ("vx_txn.c", "vx_ring.c", "vx_mpmc.c", "vx_book.c", "vx_bundle.c"),
    # the test-only stress drivers and history recorder (tests/support/native/vx_stress_*.c) and what
    # they drive: the standalone stress_main.c and the test extension velox_testing._stress
    "stress": ("vx_stress_util.c", "vx_stress_ring.c", "vx_stress_book.c", "vx_stress_mpmc.c", "vx_stress_hist.c",
               "vx_ring.c", "vx_book.c", "vx_mpmc.c", "vx_txn.c", "vx_tsc.c"),
    # the standalone pipeline driver (pipeline_main.c)
    "pipeline": ("vx_pipeline.c", "vx_ring.c", "vx_book.c", "vx_bundle.c", "vx_hist.c", "vx_ingress.c",
                 "vx_txn.c", "vx_tsc.c"),
    # the ring benchmark driver alone (bench_main.c: its delivery check against mutants)
    "bench": ("vx_bench.c", "vx_ring.c", "vx_txn.c"),
    # the explorer's C runtime, compiled uninstrumented into every model build (velox's and cmodel.build's)
    "model-runtime": ("vx_model_hooks.c",),
    # velox's own thread-sanitizer entry points, added to instrumented cmodel builds
    "model-tsan-runtime": ("vx_model_tsan.c",),
}

#: The main program of the standalone builds (in tests/support/native/).
MAINS: dict[str, str] = {"stress": "stress_main.c", "pipeline": "pipeline_main.c", "bench": "bench_main.c"}

_WARN = ("-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter")


@dataclass(frozen=True, kw_only=True)
class Profile:
    """One way to compile: ``cflags`` for every C file, ``ldflags`` to link."""

    name: str
    cflags: tuple[str, ...]
    ldflags: tuple[str, ...] = ()
    cc: str = ""  # empty: $CC, else gcc
    doc: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    def compiler(self) -> str:
        return self.cc or os.environ.get("CC", "gcc")


def _mode_flags() -> tuple[list[str], list[str]]:
    """The production build modes from the environment (as msgspec and uvloop
    do): VELOX_DEBUG=1 (-O0 -g -UNDEBUG), VELOX_NATIVE_ARCH=1 (-march=native),
    VELOX_SANITIZE=thread|address. Returns (cflags, ldflags)."""
    if os.environ.get("VELOX_DEBUG") == "1":
        cflags, ldflags = ["-O0", "-g", "-UNDEBUG"], ["-pthread"]
    else:
        # The pipeline's stages call the ring, the book, the bundle builder and
        # the generator across translation units: link-time optimisation
        # inlines those calls (about +25% saturated throughput). Fat objects
        # keep ordinary code beside the LTO bytecode, so a link without -flto
        # still works. velox's C symbols are internal to the extension
        # (hidden, no interposition): calls between them need no PLT and may
        # be inlined within a file too.
        cflags = ["-O2", "-flto=auto", "-ffat-lto-objects", "-fvisibility=hidden", "-fno-semantic-interposition"]
        ldflags = ["-pthread", "-O2", "-flto=auto"]
    if os.environ.get("VELOX_NATIVE_ARCH") == "1":
        cflags.append("-march=native")
    san = os.environ.get("VELOX_SANITIZE")
    if san:
        if san not in ("thread", "address"):
            raise SystemExit(f"VELOX_SANITIZE must be 'thread' or 'address', not {san!r}")
        cflags += [f"-fsanitize={san}", "-fno-omit-frame-pointer", "-g"]
        ldflags.append(f"-fsanitize={san}")
    return cflags, ldflags


def profile(name: str) -> Profile:
    """The flag profile ``name``; see ``PROFILES`` for the list."""
    mode, mode_ld = _mode_flags()
    if name == "strict":  # velox's own C in the production extension
        return Profile(name=name, cflags=("-std=gnu11", *mode, *_WARN, "-fPIC"), ldflags=tuple(mode_ld),
                       doc="velox's C in the production extension: -O2 and warnings as errors")
    if name == "binding":  # Cython's generated C (not velox's to warn about)
        return Profile(name=name, cflags=("-std=gnu11", *mode, "-Wno-unused-function", "-Wno-unreachable-code",
                                          "-fPIC"), ldflags=tuple(mode_ld),
                       doc="Cython's generated C of the production extension")
    if name == "model":  # -O1: quick to build; every hook is an opaque call, so the order stays as written
        return Profile(name=name, cflags=("-std=gnu11", "-O1", *_WARN, "-DVX_MODEL=1"),
                       doc="the model build: every atomic calls into the explorer")
    if name == "driver":  # the standalone drivers, plainly (mutant checks)
        return Profile(name=name, cflags=("-std=gnu11", "-O1", "-g", "-pthread", *_WARN[:2], _WARN[3]),
                       ldflags=("-pthread", "-lm"), doc="standalone test drivers, -O1 -g")
    if name == "tsan":
        return Profile(name=name, cflags=("-std=gnu11", "-O1", "-g", "-fsanitize=thread", "-pthread", *_WARN[:2],
                                          _WARN[3]),
                       ldflags=("-fsanitize=thread", "-pthread", "-lm"),
                       doc="standalone test drivers under ThreadSanitizer")
    if name == "cross":
        return Profile(name=name, cflags=("-std=gnu11", "-O2", *_WARN, "-pthread"),
                       cc=os.environ.get("CC_AARCH64", "aarch64-linux-gnu-gcc"),
                       doc="the production flags with the aarch64 cross compiler (compile only)")
    if name == "cross-model":
        return Profile(name=name, cflags=("-std=gnu11", "-O1", *_WARN, "-DVX_MODEL=1"),
                       cc=os.environ.get("CC_AARCH64", "aarch64-linux-gnu-gcc"),
                       doc="the model flags with the aarch64 cross compiler (compile only)")
    raise KeyError(f"no flag profile {name!r}; known: {', '.join(PROFILES)}")


PROFILES = ("strict", "binding", "model", "driver", "tsan", "cross", "cross-model")


# ---------------------------------------------------------------- sources


def apply_edits(sources: Mapping[str, str], edits: Iterable[tuple[str, str, str]], *, label: str = "edit") -> dict[str, str]:
    """``sources`` (file name -> text) with each ``(file, old, new)`` edit
    applied; ``old`` must occur exactly once (else ValueError naming it)."""
    out = dict(sources)
    for file, old, new in edits:
        if file not in out:
            raise ValueError(f"{label}: file {file!r} is not among the sources")
        count = out[file].count(old)
        if count != 1:
            raise ValueError(f"{label}: {file} contains the text to replace {count} times (need exactly 1):\n{old}")
        out[file] = out[file].replace(old, new)
    return out


def all_sources(*, testing: bool = True) -> dict[str, str]:
    """Every C source and header (file name -> text): this folder's, and with
    ``testing`` the test-only drivers of the checkout (when present)."""
    out: dict[str, str] = {}
    dirs = [NATIVE] + ([TESTING] if testing and TESTING.is_dir() else [])
    for d in dirs:
        for p in sorted(d.iterdir()):
            if p.suffix in (".c", ".h") and not p.name.startswith("_"):
                if p.name in out:
                    raise ValueError(f"{p.name} exists both in {NATIVE} and in {TESTING}")
                out[p.name] = p.read_text()
    return out


def sources(set_name: str, *, edits: Iterable[tuple[str, str, str]] = (), label: str = "edit") -> dict[str, str]:
    """The files a build of ``set_name`` sees (its C files, its main program if
    any, and every header), with ``edits`` applied (a mutant's)."""
    files = source_set(set_name)
    src = all_sources(testing=set_name in MAINS or any(n not in _native_names() for n in files))
    src = apply_edits(src, edits, label=label)
    keep = set(files)
    return {k: v for k, v in src.items() if k.endswith(".h") or k in keep}


def _native_names() -> set[str]:
    return {p.name for p in NATIVE.iterdir()}


def source_set(set_name: str) -> tuple[str, ...]:
    """The C files of a set, its main program last (KeyError for an unknown set)."""
    if set_name not in SOURCE_SETS:
        raise KeyError(f"no source set {set_name!r}; known: {', '.join(SOURCE_SETS)}")
    main = MAINS.get(set_name)
    return SOURCE_SETS[set_name] + ((main,) if main else ())


# ---------------------------------------------------------------- the cache


def cache_dir(kind: str = "") -> Path:
    """The build cache (``$VELOX_BUILD_CACHE``, else ``~/.cache/velox/build``),
    or its sub-folder ``kind``."""
    root = Path(os.environ.get("VELOX_BUILD_CACHE") or Path.home() / ".cache" / "velox" / "build")
    return root / kind if kind else root


def digest(*parts: object) -> str:
    """A short stable hash of ``parts`` (their reprs)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(repr(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:20]


def replace_into(built: Path, dest: Path) -> None:
    """Move a finished file into the cache atomically: concurrent builders
    (pytest-xdist workers, other users of the cache) never see half a file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    shutil.copy(built, tmp)
    os.replace(tmp, dest)


def source_tree(src: Mapping[str, str], *, root: Path | None = None) -> Path:
    """Write the files of ``src`` to a content-addressed folder (reused when
    present) and return it: the include directory of a build."""
    tree = (root or cache_dir()) / "src" / digest(sorted(src.items()))
    if not (tree / ".complete").exists():
        tree.mkdir(parents=True, exist_ok=True)
        for name, text in src.items():
            p = tree / name
            if not p.exists() or p.read_text() != text:
                tmp = p.with_name(f".{name}.{os.getpid()}.tmp")
                tmp.write_text(text)
                os.replace(tmp, p)
        (tree / ".complete").write_text("")
    return tree


def object_key(name: str, src: Mapping[str, str], prof: Profile, extra: Sequence[str] = ()) -> str:
    """The cache key of ``name``'s object: its text, every header, the
    compiler and every flag."""
    headers = sorted((k, v) for k, v in src.items() if k.endswith(".h"))
    return digest(name, src[name], headers, prof.compiler(), prof.cflags, tuple(extra))


def _publish_once(tmp: Path, dest: Path) -> None:
    """Move a finished object into the cache unless another process got there
    first; an object already in the cache is never replaced. Two compiles of
    one source are equal in content but not in bytes (an LTO object carries
    random symbol ids), and a link running in another process (pytest-xdist
    workers building one extension) reads each object twice: replacing it in
    between made the link fail ("resolution sub id ... not in object file")."""
    try:
        os.link(tmp, dest)  # atomic, and fails if dest exists
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links: the old way, a rename
        if not dest.exists():
            os.replace(tmp, dest)
            return
    tmp.unlink(missing_ok=True)


def compile_objects(src: Mapping[str, str], names: Sequence[str], prof: Profile, *, root: Path | None = None,
                    include_dirs: Sequence[str] = (), extra_cflags: Sequence[str] = (),
                    log=None) -> list[Path]:
    """Compile ``names`` (files of ``src``) with profile ``prof`` into the
    content-addressed object cache, in parallel, reusing objects present.
    Returns the object paths in order. Raises RuntimeError with the
    compiler's own message when a compile fails."""
    root = root or cache_dir()
    tree = source_tree(src, root=root)
    cc = prof.compiler()
    out, jobs = [], []
    for name in names:
        obj = root / "obj" / prof.name / object_key(name, src, prof, [*include_dirs, *extra_cflags]) / (
            Path(name).stem + ".o")
        out.append(obj)
        if obj.exists():
            continue
        tmp = obj.with_name(f".{obj.name}.{os.getpid()}.tmp")
        obj.parent.mkdir(parents=True, exist_ok=True)
        cmd = [cc, *prof.cflags, *extra_cflags, f"-I{tree}", *(f"-I{d}" for d in include_dirs), "-c",
               str(tree / name), "-o", str(tmp)]
        if log:
            log(f"compiling {name} ({prof.name})")
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except FileNotFoundError:
            raise RuntimeError(f"no C compiler {cc!r} on PATH (profile {prof.name})") from None
        jobs.append((obj, tmp, cmd, proc))
    errors = []
    for obj, tmp, cmd, proc in jobs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            errors.append(f"{' '.join(cmd)}\n{err}")
        else:
            _publish_once(tmp, obj)
    if errors:
        raise RuntimeError("compiling failed:\n" + "\n".join(errors))
    return out


def build_executable(set_name: str, prof: Profile | str, *, edits: Iterable[tuple[str, str, str]] = (),
                     label: str = "edit", root: Path | None = None, log=None) -> Path:
    """Build the standalone program of ``set_name`` (its main program and
    sources, with ``edits`` applied) with profile ``prof``; cached by content.
    Returns the executable's path."""
    prof = profile(prof) if isinstance(prof, str) else prof
    if set_name not in MAINS:
        raise KeyError(f"source set {set_name!r} has no main program; those that do: {', '.join(MAINS)}")
    root = root or cache_dir()
    src = sources(set_name, edits=edits, label=label)
    objs = compile_objects(src, source_set(set_name), prof, root=root, log=log)
    exe = root / "exe" / prof.name / digest([str(o) for o in objs], prof.ldflags) / Path(MAINS[set_name]).stem
    if exe.exists():
        return exe
    exe.parent.mkdir(parents=True, exist_ok=True)
    tmp = exe.with_name(f".{exe.name}.{os.getpid()}.tmp")
    cmd = [prof.compiler(), *map(str, objs), *prof.ldflags, "-o", str(tmp)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"linking failed:\n{' '.join(cmd)}\n{r.stderr}")
    os.replace(tmp, exe)
    return exe


def build_cython_extension(module: str, pyx: str, *, binding: Mapping[str, str], c_src: Mapping[str, str],
                           c_names: Sequence[str], root: Path | None = None, log=None) -> Path:
    """Build a Cython extension from source texts and return the shared
    object (cached by content). ``module`` is the dotted name it is imported
    as (its last part names PyInit); ``pyx`` the file of ``binding`` to
    cythonize; ``binding`` relative path -> text of every .pyx/.pxd/.pxi it
    needs (laid out under one root, which is Cython's include path, with the
    .pxi files also at the root); ``c_src``/``c_names`` velox's C it links
    (compiled with the ``strict`` profile; its generated C with ``binding``)."""
    import sysconfig

    import Cython

    root = root or cache_dir()
    strict, glue_prof = profile("strict"), profile("binding")
    leaf = module.rsplit(".", 1)[-1]
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    key = digest(module, pyx, sorted(binding.items()), sorted(c_src.items()), tuple(c_names), strict, glue_prof,
                 sys.version, Cython.__version__)
    so = root / "ext" / key / f"{leaf}{suffix}"
    if so.exists():
        return so
    gen = _cythonize(module, pyx, binding, root=root, log=log)
    objs = compile_objects(c_src, c_names, strict, root=root, log=log)
    glue = {k: v for k, v in c_src.items() if k.endswith(".h")} | {f"{leaf}.c": gen}
    objs += compile_objects(glue, [f"{leaf}.c"], glue_prof, root=root,
                            include_dirs=[sysconfig.get_paths()["include"]], log=log)
    if log:
        log(f"linking {so.name}")
    so.parent.mkdir(parents=True, exist_ok=True)
    tmp = so.with_name(f".{so.name}.{os.getpid()}.tmp")
    cmd = [glue_prof.compiler(), "-shared", *map(str, objs), *glue_prof.ldflags, "-lm", "-o", str(tmp)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"linking failed:\n{' '.join(cmd)}\n{r.stderr}")
    os.replace(tmp, so)
    return so


def _cythonize(module: str, pyx: str, binding: Mapping[str, str], *, root: Path, log=None) -> str:
    """Cython's C for ``pyx`` (cached by the binding files' text)."""
    import fcntl
    import tempfile

    import Cython

    directives = {"language_level": "3", "boundscheck": False, "wraparound": False}
    leaf = module.rsplit(".", 1)[-1]
    out = root / "cython" / digest(module, pyx, sorted(binding.items()), Cython.__version__, directives) / f"{leaf}.c"
    if out.exists():
        return out.read_text()
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / ".lock", "w") as lock:  # concurrent builders wait instead of cythonizing twice
        fcntl.flock(lock, fcntl.LOCK_EX)
        if out.exists():
            return out.read_text()
        from Cython.Build import cythonize
        from setuptools import Extension

        if log:
            log(f"cythonizing {pyx} (10-20 s)")
        with tempfile.TemporaryDirectory(prefix="vx-cython-") as tmp:
            top = Path(tmp)
            for rel, text in binding.items():
                p = top / rel
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(text)
                if rel.endswith(".pxi"):  # include "x.pxi" resolves beside the .pyx
                    (top / Path(rel).name).write_text(text)
            src = top / f"{leaf}.pyx"
            if Path(pyx).name != src.name or Path(pyx).parent != Path("."):
                src.write_text(binding[pyx])
            cythonize([Extension(leaf, [str(src)])], include_path=[str(top)], compiler_directives=directives,
                      quiet=True, force=True)
            tmp_out = out.with_name(f".{out.name}.{os.getpid()}.tmp")
            tmp_out.write_text((top / f"{leaf}.c").read_text())
            os.replace(tmp_out, out)
    return out.read_text()


def binding_files(*, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The production binding's Cython files as ``velox/_native/<name>`` ->
    text (for cimports of velox._native's .pxd files), plus ``extra``."""
    out = {"velox/__init__.py": "", "velox/_native/__init__.py": ""}
    for p in sorted(NATIVE.iterdir()):
        if p.suffix in (".pxd", ".pxi", ".pyx") and not p.name.startswith("_core.c"):
            out[f"velox/_native/{p.name}"] = p.read_text()
    out.update(extra or {})
    return out


# ---------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python velox/_native/_build.py",
        description="velox's native build description: print a source set or a flag profile, compile a set "
                    "(checking it builds), or build a standalone driver. Objects land in the content-addressed "
                    "cache ($VELOX_BUILD_CACHE, else ~/.cache/velox/build).")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sources", help="print the C files of a source set, one a line")
    s.add_argument("set", choices=sorted(SOURCE_SETS))
    s.add_argument("--paths", action="store_true", help="print paths instead of names")
    f = sub.add_parser("flags", help="print the compiler and flags of a profile")
    f.add_argument("profile", choices=PROFILES)
    c = sub.add_parser("compile", help="compile every file of a set with a profile (exit 1 with the compiler's "
                                       "message when one fails)")
    c.add_argument("set", choices=sorted(SOURCE_SETS))
    c.add_argument("profile", choices=PROFILES)
    e = sub.add_parser("exe", help="build a standalone driver and print its path")
    e.add_argument("set", choices=sorted(MAINS))
    e.add_argument("profile", choices=PROFILES)
    args = p.parse_args(argv)
    if args.cmd == "sources":
        for n in source_set(args.set):
            print((NATIVE / n if (NATIVE / n).exists() else TESTING / n) if args.paths else n)
        return 0
    if args.cmd == "flags":
        prof = profile(args.profile)
        print(" ".join([prof.compiler(), *prof.cflags]))
        return 0
    if args.cmd == "compile":
        prof = profile(args.profile)
        if shutil.which(prof.compiler()) is None:
            print(f"no compiler {prof.compiler()!r} on PATH", file=sys.stderr)
            return 3
        try:
            compile_objects(sources(args.set), source_set(args.set), prof,
                            log=lambda m: print(m, file=sys.stderr))
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"{args.set}: every file compiles with profile {args.profile}")
        return 0
    try:
        print(build_executable(args.set, args.profile, log=lambda m: print(m, file=sys.stderr)))
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
