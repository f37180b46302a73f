"""Compiler flags and source lists shared by setup.py, the model build and the
mutant builds used by the tests. Pure Python with no velox imports, so setup.py
can load it before anything is compiled."""

import os

#: C sources of the core library, relative to this folder.
CORE_SOURCES = [
    "vx_txn.c",
    "vx_ring.c",
    "vx_book.c",
    "vx_tsc.c",
    "vx_bundle.c",
    "vx_bench.c",
    "vx_mpmc.c",
    "vx_stress.c",
    "vx_hist.c",
    "vx_ingress.c",
    "vx_pipeline.c",
]

HERE = os.path.dirname(os.path.abspath(__file__))


def c_flags(strict: bool) -> list[str]:
    """Flags for C compiled by velox. ``strict`` adds -Werror and the warning
    set for velox's own sources (not for Cython's generated code)."""
    flags = ["-std=gnu11"]
    if os.environ.get("VELOX_DEBUG") == "1":
        flags += ["-O0", "-g", "-UNDEBUG"]
    else:
        flags += ["-O2"]
    if os.environ.get("VELOX_NATIVE_ARCH") == "1":
        flags += ["-march=native"]
    san = os.environ.get("VELOX_SANITIZE")
    if san:
        if san not in ("thread", "address"):
            raise SystemExit(f"VELOX_SANITIZE must be 'thread' or 'address', not {san!r}")
        flags += [f"-fsanitize={san}", "-fno-omit-frame-pointer", "-g"]
    if strict:
        flags += ["-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter"]
    else:
        flags += ["-Wno-unused-function", "-Wno-unreachable-code"]
    return flags


def link_flags() -> list[str]:
    san = os.environ.get("VELOX_SANITIZE")
    flags = ["-pthread"]
    if san:
        flags.append(f"-fsanitize={san}")
    return flags
