"""Unannotated C under the explorer: the model build's compiler instrumentation
(-fsanitize=thread with velox's own runtime) reports every plain access, waits
written in C end with the explorer's verdict, and cmodel.build explains its
errors (gcc's own message, a cdef function the header does not declare)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from velox import cmodel, explore
from velox.explore.rt.threads import _Worker

CSRC = Path(__file__).resolve().parent / "csrc"
CDEF = """
typedef struct message { ...; } message;
typedef struct { ...; } vx_atomic_u64;
void message_init(message *m);
void message_post(message *m, uint64_t price, uint32_t qty);
int message_read(message *m, uint64_t *price, uint32_t *qty);
void seven_init(vx_atomic_u64 *x);
void wait_for_seven(vx_atomic_u64 *x);
int poll_seven(vx_atomic_u64 *x, int tries);
"""


def build(publish: str = "VX_RELEASE", name: str | None = None, **kw):
    return cmodel.build(
        name or f"plain_publish_{publish.lower()}", cdef=CDEF, source='#include "plain_publish.h"',
        sources=[str(CSRC / "plain_publish.c")], include_dirs=[str(CSRC)], defines={"PUBLISH": publish}, **kw)


def publish_test(m):
    def body():
        box = m.ffi.new("message *")
        m.lib.message_init(box)

        def reader():
            price, qty = m.ffi.new("uint64_t *"), m.ffi.new("uint32_t *")
            while not m.lib.message_read(box, price, qty):
                explore.spin_hint()
            return price[0], qty[0]

        r = explore.spawn(reader)
        explore.spawn(m.lib.message_post, box, 1002500, 7).join()
        assert r.join() == (1002500, 7)

    return body


def line_of(text: str) -> int:
    for n, line in enumerate((CSRC / "plain_publish.c").read_text().splitlines(), 1):
        if text in line:
            return n
    raise AssertionError(text)


def test_unannotated_release_publish_passes():
    stats = explore.check(publish_test(build("VX_RELEASE")))
    assert stats.complete


def test_unannotated_relaxed_publish_is_a_data_race_named_by_its_c_expression():
    with pytest.raises(explore.ExplorationFailure) as info:
        explore.check(publish_test(build("VX_RELAXED")))
    failure = info.value
    assert failure.kind == "data race"
    msg = failure.failure_message
    # the race is on the price field: named as the C code writes it, with both lines
    assert "m->price" in msg, msg
    assert f"plain_publish.c:{line_of('m->price = price;')}" in msg, msg
    assert f"plain_publish.c:{line_of('*price = m->price;')}" in msg, msg
    assert "cell@" not in str(failure)


def test_plain_accesses_appear_in_the_trace_with_their_expression():
    with pytest.raises(explore.ExplorationFailure) as info:
        explore.check(publish_test(build("VX_RELAXED")))
    trace = str(info.value)
    assert "m->qty" in trace or "m->price" in trace
    assert "set" in trace and "get" in trace


def test_wait_in_c_without_writer_is_a_livelock_within_seconds():
    m = build("VX_RELEASE")

    def body():
        x = m.ffi.new("vx_atomic_u64 *")
        m.lib.seven_init(x)
        h = explore.spawn(m.lib.wait_for_seven, x)
        h.join()

    start = time.monotonic()
    with pytest.raises(explore.ExplorationFailure) as info:
        explore.check(body)
    elapsed = time.monotonic() - start
    assert info.value.kind in ("livelock", "deadlock"), str(info.value)
    assert f"plain_publish.c:{line_of('while (vx_load(x, VX_ACQUIRE) != 7)')}" in str(info.value)
    assert elapsed < 10, f"took {elapsed:.1f} s"
    assert _Worker.busy() == 0, "a model thread outlived its execution"


def test_bounded_poll_in_c_gives_up_and_is_not_a_livelock():
    """A C loop whose own state changes (a retry counter) is no wait: its give-up path is explored."""
    m = build("VX_RELEASE")

    def body():
        x = m.ffi.new("vx_atomic_u64 *")
        m.lib.seven_init(x)
        return explore.spawn(m.lib.poll_seven, x, 3).join()

    assert explore.outcomes(body) == {0}


def test_compile_error_raises_with_gccs_own_message(tmp_path):
    bad = tmp_path / "bad.c"
    bad.write_text('#include "vx_atomic.h"\nint broken(void) { return undeclared_name + 1; }\n')
    (tmp_path / "bad.h").write_text("int broken(void);\n")
    with pytest.raises(cmodel.BuildError) as info:
        cmodel.build("bad_model", cdef="int broken(void);", source='#include "bad.h"', sources=[str(bad)],
                     include_dirs=[str(tmp_path)], cache_dir=str(tmp_path / "cache"))
    text = str(info.value)
    assert "bad.c:2" in text and "undeclared_name" in text and "error" in text, text


def test_cdef_function_missing_from_the_header_is_reported_before_compiling(tmp_path):
    with pytest.raises(cmodel.BuildError) as info:
        cmodel.build("missing_model", cdef=CDEF + "void message_clear(message *m);\n",
                     source='#include "plain_publish.h"', sources=[str(CSRC / "plain_publish.c")],
                     include_dirs=[str(CSRC)], cache_dir=str(tmp_path / "cache"))
    text = str(info.value)
    assert "message_clear" in text and "plain_publish.h" in text, text
    assert not any((tmp_path / "cache").rglob("*.o")), "compiled before reporting the missing declaration"


def test_replay_token_from_another_build_variant_is_refused():
    ok, bad = build("VX_RELEASE"), build("VX_RELAXED")
    with pytest.raises(explore.ExplorationFailure) as info:
        explore.check(publish_test(bad))
    token = info.value.token
    with pytest.raises(ValueError) as refused:
        explore.check(publish_test(ok), replay=token)
    text = str(refused.value)
    assert "build" in text and "plain_publish_vx_relaxed" in text, text


def test_velox_core_instrumented_explores_like_the_annotated_build(core):
    """velox's own core compiled with the instrumentation (every plain access reported, VX_CELL_*
    compiled out) finds no race the annotations miss, and explores the same executions."""
    import os

    from velox._native import _model_build as mb
    from velox_testing.explore_c import ring_test

    with open(os.path.join(mb.HERE, "_model_cdef.h")) as f:
        cdef = f.read()
    instrumented = cmodel.build(
        "vxcore_instrumented", cdef=cdef, sources=[os.path.join(mb.HERE, s) for s in mb.MODEL_SOURCES],
        source='#include "vx_ring.h"\n#include "vx_mpmc.h"\n#include "vx_book.h"\n#include "vx_bundle.h"\n'
               '#include "vx_tsc.h"\n')
    annotated = explore.check(ring_test(core, 2, 3))
    stats = explore.check(ring_test(instrumented, 2, 3))
    assert stats.complete and annotated.complete
    assert (stats.executions, stats.distinct) == (annotated.executions, annotated.distinct)


SLOT_CDEF = """
typedef struct slot { ...; } slot;
void slot_init(slot *s);
void slot_post(slot *s, uint64_t price);
int slot_read(slot *s, uint64_t *price);
unsigned slot_bump(slot *s);
"""


def build_stdatomic(publish: str):
    return cmodel.build(
        f"stdatomic_{publish}", cdef=SLOT_CDEF,
        source='#include <stdatomic.h>\n#include "stdatomic_publish.h"\n'
               'typedef struct slot { uint64_t price; atomic_uint ready; } slot_layout;',
        sources=[str(CSRC / "stdatomic_publish.c")], include_dirs=[str(CSRC)], defines={"PUBLISH": publish})


def slot_test(m, bump=False):
    def body():
        s = m.ffi.new("slot *")
        m.lib.slot_init(s)

        def reader():
            price = m.ffi.new("uint64_t *")
            while not m.lib.slot_read(s, price):
                explore.spin_hint()
            return price[0], (m.lib.slot_bump(s) if bump else None)

        r = explore.spawn(reader)
        explore.spawn(m.lib.slot_post, s, 1002500).join()
        got = r.join()
        assert got[0] == 1002500
        if bump:
            assert got[1] == 2, got

    return body


def test_stdatomic_release_publish_passes_and_its_rmws_run_on_the_explorer():
    assert explore.check(slot_test(build_stdatomic("memory_order_release"), bump=True)).complete


def test_stdatomic_relaxed_publish_is_a_data_race():
    with pytest.raises(explore.ExplorationFailure) as info:
        explore.check(slot_test(build_stdatomic("memory_order_relaxed")))
    assert info.value.kind == "data race"
    assert "s->price" in info.value.failure_message, info.value.failure_message
    assert "s->ready" in str(info.value)  # the atomic, named by the object its calls act on
