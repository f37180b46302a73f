"""The assembler pass of instrumented model builds (``velox.cmodel.build``).

User C is compiled to assembly with ``-fsanitize=thread -g``; this pass then

* puts a label after every call to a ``__tsan_*`` entry point, and records
  for it the source position of the access (the last ``.loc`` directive gcc
  wrote before the call: file, line and column) in a table in the section
  ``vx_tsan_sites``, which ``vx_model_tsan.c`` hands to the explorer; the
  address a ``__tsan_*`` call returns to is then the key of its site;
* renames calls to ``memcpy``, ``memmove`` and ``memset`` (kept as calls by
  ``-fno-builtin-mem*``) to velox's interceptors, which report the accesses.

Pure Python with no velox imports (setup.py may load it before velox is built).
"""

from __future__ import annotations

import os
import re

#: Flags added to user C compiled for an instrumented model build.
TSAN_CFLAGS = ["-fsanitize=thread", "-g", "-fno-builtin-memcpy", "-fno-builtin-memmove", "-fno-builtin-memset",
               "-fno-optimize-sibling-calls", "-fPIC"]

_CALL = re.compile(r"^(\s*)(call|bl|jmp|b)(\s+)([A-Za-z_][\w.]*)(@PLT)?(\s*)$")
_FILE = re.compile(r'^\s*\.file\s+(\d+)\s+"((?:[^"\\]|\\.)*)"(?:\s+"((?:[^"\\]|\\.)*)")?')
_LOC = re.compile(r"^\s*\.loc\s+(\d+)\s+(\d+)(?:\s+(\d+))?")
_INTERCEPTED = {"memcpy": "vx_tsan_memcpy", "memmove": "vx_tsan_memmove", "memset": "vx_tsan_memset"}


def _is_tsan_access(target: str) -> bool:
    return target.startswith("__tsan_") and target not in ("__tsan_func_entry", "__tsan_func_exit", "__tsan_init")


def rewrite(asm: str, compile_dir: str) -> tuple[str, int]:
    """The rewritten assembly and the number of sites it records."""
    files: dict[str, str] = {}
    loc: tuple[str, int, int] | None = None
    out: list[str] = []
    sites: list[tuple[int, str, int, int]] = []
    for line in asm.splitlines():
        m = _FILE.match(line)
        if m:
            num, a, b = m.group(1), m.group(2), m.group(3)
            path = os.path.join(a, b) if b is not None else a
            files[num] = os.path.normpath(os.path.join(compile_dir, path))
            out.append(line)
            continue
        m = _LOC.match(line)
        if m:
            loc = (m.group(1), int(m.group(2)), int(m.group(3) or 0))
            out.append(line)
            continue
        m = _CALL.match(line)
        if m and (_is_tsan_access(m.group(4)) or m.group(4) in _INTERCEPTED):
            target = _INTERCEPTED.get(m.group(4), m.group(4))
            out.append(f"{m.group(1)}{m.group(2)}{m.group(3)}{target}{m.group(5) or ''}{m.group(6)}")
            if m.group(2) in ("call", "bl") and loc is not None:
                n = len(sites)
                sites.append((n, loc[0], loc[1], loc[2]))
                out.append(f".Lvx_site_{n}:")
            continue
        out.append(line)
    if sites:
        names = sorted({f for _, f, _, _ in sites})
        out.append('\t.section\tvx_tsan_sites,"aw"')
        out.append("\t.balign\t8")
        for n, f, ln, col in sites:
            out += [f"\t.quad\t.Lvx_site_{n}", f"\t.quad\t.Lvx_file_{f}", f"\t.quad\t{ln}", f"\t.quad\t{col}"]
        out.append("\t.section\t.rodata")
        for f in names:
            path = files.get(f, "?").replace("\\", "\\\\").replace('"', '\\"')
            out += [f".Lvx_file_{f}:", f'\t.string\t"{path}"']
    return "\n".join(out) + "\n", len(sites)
