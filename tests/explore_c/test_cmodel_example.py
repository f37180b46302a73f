"""The worked example of docs/explore-c.md: a user's own C structure
(examples/cmodel/mailbox.c) built in model mode with velox.cmodel.build and
checked by the explorer; its relaxed-publish bug is caught as a data race."""

from __future__ import annotations

from pathlib import Path

import pytest

from velox import cmodel, explore

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cmodel"
CDEF = """
typedef struct mailbox { ...; } mailbox;
void mailbox_init(mailbox *m);
void mailbox_post(mailbox *m, uint64_t a, uint64_t b);
int mailbox_try_read(mailbox *m, uint64_t *a, uint64_t *b);
"""


def build(bug: bool, instrument: bool = True):
    return cmodel.build(
        ("mailbox_bug" if bug else "mailbox_ok") + ("" if instrument else "_annotated"), cdef=CDEF,
        source='#include "mailbox.h"', sources=[str(EXAMPLE / "mailbox.c")], include_dirs=[str(EXAMPLE)],
        defines={"MAILBOX_BUG_RELAXED": "1"} if bug else None, instrument=instrument)


def mailbox_test(m):
    def body():
        box = m.ffi.new("mailbox *")
        m.lib.mailbox_init(box)

        def reader():
            a, b = m.ffi.new("uint64_t *"), m.ffi.new("uint64_t *")
            while not m.lib.mailbox_try_read(box, a, b):
                explore.spin_hint()
            return a[0], b[0]

        r = explore.spawn(reader)
        explore.spawn(m.lib.mailbox_post, box, 1, 2).join()
        assert r.join() == (1, 2)

    return body


def test_mailbox_passes():
    stats = explore.check(mailbox_test(build(bug=False)))
    assert stats.complete


def test_relaxed_publish_is_a_data_race():
    with pytest.raises(explore.ExplorationFailure) as info:
        explore.check(mailbox_test(build(bug=True)))
    assert "DATA RACE" in str(info.value)
    assert "mailbox.c:" in str(info.value)


def test_annotated_cells_without_instrumentation_are_named_by_their_c_expression():
    explore.check(mailbox_test(build(bug=False, instrument=False)))
    with pytest.raises(explore.ExplorationFailure) as info:
        explore.check(mailbox_test(build(bug=True, instrument=False)))
    assert info.value.kind == "data race"
    assert "data race on m->a" in info.value.failure_message, info.value.failure_message
    assert "cell@" not in str(info.value)


def test_an_atomic_used_before_vx_init_is_reported_at_its_line():
    m = build(bug=False)

    def body():
        box = m.ffi.new("mailbox *")  # mailbox_init not called
        a, b = m.ffi.new("uint64_t *"), m.ffi.new("uint64_t *")
        m.lib.mailbox_try_read(box, a, b)

    with pytest.raises(ValueError) as info:
        explore.check(body)
    assert "mailbox.c:" in str(info.value) and "vx_init" in str(info.value), str(info.value)
