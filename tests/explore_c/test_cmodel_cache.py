"""velox.cmodel.build's cache: an edit to any file the compiler read (a
header in a subfolder of include_dirs, a header beside the source) rebuilds;
an unchanged tree reuses the build. The key comes from the compiler's own
dependency list (gcc -MM), not from a guess at where headers live."""

from __future__ import annotations

import os

from velox import cmodel

CDEF = "int answer(void);"


def _tree(tmp_path, value_sub: int, value_local: int):
    src = tmp_path / "src"
    (tmp_path / "inc" / "sub").mkdir(parents=True, exist_ok=True)
    src.mkdir(exist_ok=True)
    (tmp_path / "inc" / "sub" / "deep.h").write_text(f"#define DEEP {value_sub}\n")
    (tmp_path / "inc" / "top.h").write_text('#include "sub/deep.h"\nint answer(void);\n')
    (src / "beside.h").write_text(f"#define BESIDE {value_local}\n")
    (src / "answer.c").write_text('#include "top.h"\n#include "beside.h"\nint answer(void) { return DEEP * 100 + BESIDE; }\n')
    return src / "answer.c", tmp_path / "inc"


def _answer(tmp_path, c, inc) -> int:
    m = cmodel.build("cache_probe", cdef=CDEF, source='#include "top.h"', sources=[str(c)],
                     include_dirs=[str(inc)], cache_dir=str(tmp_path / "cache"))
    return m.lib.answer()


def test_edits_to_every_file_read_rebuild(tmp_path):
    c, inc = _tree(tmp_path, 1, 2)
    assert _answer(tmp_path, c, inc) == 102
    (inc / "sub" / "deep.h").write_text("#define DEEP 3\n")  # a header in a subfolder of include_dirs
    assert _answer(tmp_path, c, inc) == 302
    (c.parent / "beside.h").write_text("#define BESIDE 4\n")  # a header beside the source
    assert _answer(tmp_path, c, inc) == 304


def test_unchanged_tree_reuses_the_build(tmp_path):
    c, inc = _tree(tmp_path, 5, 6)
    assert _answer(tmp_path, c, inc) == 506
    builds = sorted(str(p) for p in (tmp_path / "cache").rglob("*.so"))
    mtimes = [os.stat(p).st_mtime_ns for p in builds]
    assert _answer(tmp_path, c, inc) == 506
    assert sorted(str(p) for p in (tmp_path / "cache").rglob("*.so")) == builds
    assert [os.stat(p).st_mtime_ns for p in builds] == mtimes
