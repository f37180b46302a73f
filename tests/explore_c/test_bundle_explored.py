"""The shipping bundle builder (vx_bundle.c, model build) under the explorer's
virtual clock: every clock read may see time stand still or jump by the step,
so both the size flush and the timeout flush are explored deterministically."""

from __future__ import annotations

from velox import cmodel, explore

STEP = 1_000_000


def builder_test(m, pushes: int, max_txns: int, timeout: int):
    ffi, lib = m.ffi, m.lib

    def body():
        cmodel.clock.reset(step=STEP, start=1_000)
        b = lib.vx_bundle_builder_new(max_txns, timeout)
        out = ffi.new("vx_bundle *")
        t = ffi.new("vx_txn *")
        seen = []
        try:
            def stage():
                for i in range(pushes):
                    t.id = i
                    if lib.vx_bundle_builder_push(b, t, lib.vx_tsc_now(), out):
                        seen.append((out.reason, [out.txns[j].id for j in range(out.count)], out.first_ts,
                                     out.flush_ts))
                    if lib.vx_bundle_builder_poll(b, lib.vx_tsc_now(), out):
                        seen.append((out.reason, [out.txns[j].id for j in range(out.count)], out.first_ts,
                                     out.flush_ts))
                if lib.vx_bundle_builder_flush(b, lib.vx_tsc_now(), out):
                    seen.append((out.reason, [out.txns[j].id for j in range(out.count)], out.first_ts, out.flush_ts))

            explore.spawn(stage).join()
        finally:
            lib.vx_bundle_builder_free(b)
        # Invariants: every transaction exactly once, in order; no bundle over
        # max_txns; a size flush is full; a timeout flush waited >= timeout.
        ids = [i for _, txns, _, _ in seen for i in txns]
        assert ids == list(range(pushes)), ids
        for reason, txns, first, flushed in seen:
            assert 1 <= len(txns) <= max_txns
            if reason == 1:
                assert len(txns) == max_txns
            if reason == 2:
                assert flushed - first >= timeout, (first, flushed)
        return tuple(r for r, *_ in seen)

    return body


def test_size_and_timeout_flushes_are_both_explored():
    m = cmodel.core()
    reasons = explore.outcomes(builder_test(m, pushes=3, max_txns=2, timeout=STEP))
    flat = {r for outcome in reasons for r in outcome}
    assert {1, 2, 3} <= flat, reasons  # size, timeout and flush all reached
    stats = explore.check(builder_test(m, pushes=3, max_txns=2, timeout=STEP))
    assert stats.complete
