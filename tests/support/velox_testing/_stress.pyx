# cython: language_level=3
"""velox_testing._stress: the native stress drivers and the order-book
history recorder (tests/support/native/vx_stress.h), a test-only extension
built by velox_testing.stress through velox/_native/_build.py (never part of
the shipping extension). Each run releases the GIL for its whole slice: the C
threads never call back into Python."""

include "_errors.pxi"

from cpython.bytearray cimport PyByteArray_AS_STRING
from libc.stdint cimport int64_t, uint32_t, uint64_t
from velox._native.vx_mpmc cimport VX_MPMC_MAX_CAPACITY, vx_mpmc_capacity_ok
from velox._native.vx_ring cimport VX_RING_MAX_CAPACITY, vx_ring_capacity_ok

from vx_stress cimport (
    vx_stress_result, vx_stress_ring, vx_stress_ring_create, vx_stress_ring_run, vx_stress_ring_destroy,
    vx_stress_book, vx_stress_book_create, vx_stress_book_run, vx_stress_book_destroy,
    vx_stress_mpmc, vx_stress_mpmc_create, vx_stress_mpmc_run, vx_stress_mpmc_destroy,
    vx_lc_op, vx_stress_hist, vx_stress_hist_create, vx_stress_hist_run, vx_stress_hist_destroy,
    VX_STRESS_HIST_BASE, VX_STRESS_SNAP_WORDS,
)

STRESS_HIST_BASE = VX_STRESS_HIST_BASE
LC_OP_SIZE = sizeof(vx_lc_op)

cdef uint64_t _U64 = 0xFFFFFFFFFFFFFFFF


cdef dict _result_dict(vx_stress_result *r):
    return {
        "ops": r.ops, "checks": r.checks, "violations": r.violations, "timeouts": r.timeouts,
        "waits": r.waits, "first_violation": r.first_violation.decode("utf-8", "replace"),
    }


cdef uint64_t _slice_args(object max_ops, object seconds) except? 0:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not (0 < seconds <= 3600):
        raise ValueError(f"seconds must be a number in (0, 3600], got {seconds!r}")
    _check_int("max_ops", max_ops, 1, _U64)
    return <uint64_t>(seconds * 1e9)


cdef class StressRing:
    """SPSC ring driver: one producer and one consumer thread; the consumer
    checks FIFO, no loss, no duplication and each record's payload."""

    cdef vx_stress_ring *d

    def __cinit__(self, capacity, start_index=0, max_batch=1, seed=0):
        _check_int("capacity", capacity, 1, VX_RING_MAX_CAPACITY)
        if not vx_ring_capacity_ok(capacity):
            raise ValueError(f"capacity must be a power of two, got {capacity}")
        _check_int("start_index", start_index, 0, _U64)
        _check_int("max_batch", max_batch, 1, 64)
        _check_int("seed", seed, 0, _U64)
        cdef int err = 0
        self.d = vx_stress_ring_create(capacity, start_index, max_batch, seed, &err)
        if self.d == NULL:
            _raise_for(err, "StressRing")

    def __dealloc__(self):
        vx_stress_ring_destroy(self.d)

    def run(self, max_ops=_U64, seconds=0.25):
        """Run one slice (max_ops records or `seconds`); returns its counts."""
        cdef uint64_t ns = _slice_args(max_ops, seconds)
        cdef uint64_t m = max_ops
        cdef vx_stress_result r
        cdef int rc
        with nogil:
            rc = vx_stress_ring_run(self.d, m, ns, &r)
        if rc != VX_ETIMEOUT:  # a stall is reported as a violation in r
            _raise_for(rc, "StressRing.run")
        return _result_dict(&r)


cdef class StressBook:
    """Order-book driver: threads add and remove quantities they own on shared
    non-crossing levels; checked per operation and at quiescence."""

    cdef vx_stress_book *d

    def __cinit__(self, threads=2, levels=8, max_qty=5, seed=0):
        _check_int("threads", threads, 1, 64)
        _check_int("levels", levels, 2, 4096)
        _check_int("max_qty", max_qty, 1, 1 << 30)
        _check_int("seed", seed, 0, _U64)
        cdef int err = 0
        self.d = vx_stress_book_create(threads, levels, max_qty, seed, &err)
        if self.d == NULL:
            _raise_for(err, "StressBook")

    def __dealloc__(self):
        vx_stress_book_destroy(self.d)

    def run(self, max_ops=_U64, seconds=0.1):
        """Run one slice (max_ops per thread or `seconds`); returns its counts."""
        cdef uint64_t ns = _slice_args(max_ops, seconds)
        cdef uint64_t m = max_ops
        cdef vx_stress_result r
        cdef int rc
        with nogil:
            rc = vx_stress_book_run(self.d, m, ns, &r)
        if rc != VX_ETIMEOUT:  # a stall is reported as a violation in r
            _raise_for(rc, "StressBook.run")
        return _result_dict(&r)


cdef class StressMpmc:
    """MPMC ring driver: producers and consumers; consumers check per-producer
    FIFO and payloads, the slice end checks no loss and no duplication."""

    cdef vx_stress_mpmc *d

    def __cinit__(self, capacity, producers=2, consumers=2, start_index=0, seed=0):
        _check_int("capacity", capacity, 2, VX_MPMC_MAX_CAPACITY)
        if not vx_mpmc_capacity_ok(capacity):
            raise ValueError(f"capacity must be a power of two >= 2, got {capacity}")
        _check_int("producers", producers, 1, 32)
        _check_int("consumers", consumers, 1, 32)
        _check_int("start_index", start_index, 0, _U64)
        _check_int("seed", seed, 0, _U64)
        cdef int err = 0
        self.d = vx_stress_mpmc_create(capacity, producers, consumers, start_index, seed, &err)
        if self.d == NULL:
            _raise_for(err, "StressMpmc")

    def __dealloc__(self):
        vx_stress_mpmc_destroy(self.d)

    def run(self, max_ops=_U64, seconds=0.25):
        """Run one slice (max_ops per producer or `seconds`); returns its counts."""
        cdef uint64_t ns = _slice_args(max_ops, seconds)
        cdef uint64_t m = max_ops
        cdef vx_stress_result r
        cdef int rc
        with nogil:
            rc = vx_stress_mpmc_run(self.d, m, ns, &r)
        if rc != VX_ETIMEOUT:  # a stall is reported as a violation in r
            _raise_for(rc, "StressMpmc.run")
        return _result_dict(&r)


cdef class BookHistoryRecorder:
    """Records concurrent order-book histories in short windows.

    ``record(windows)`` returns ``(ops, snapshots)``: ``ops`` is bytes of
    windows*threads*ops_per_window 48-byte records (struct "<QQqqqiBBH":
    call, ret, price, arg, result, status, kind, side, thread), window-major;
    ``snapshots`` is bytes of windows*(2*levels+2) int64 words taken at
    quiescence before each window: the depths ([side][level]), then the best
    bid and best ask prices (-1 for an empty side)."""

    cdef vx_stress_hist *d
    cdef readonly uint32_t threads, levels, ops_per_window

    @property
    def base_price(self):
        """Price of level 0 of the recorder's book (level i is base_price + i)."""
        return VX_STRESS_HIST_BASE

    def __cinit__(self, threads=2, levels=2, ops_per_window=16, max_qty=3, seed=0):
        _check_int("threads", threads, 1, 64)
        _check_int("levels", levels, 1, 4096)
        _check_int("ops_per_window", ops_per_window, 1, 1 << 16)
        _check_int("max_qty", max_qty, 1, 1 << 30)
        _check_int("seed", seed, 0, _U64)
        cdef int err = 0
        self.d = vx_stress_hist_create(threads, levels, ops_per_window, max_qty, seed, &err)
        if self.d == NULL:
            _raise_for(err, "BookHistoryRecorder")
        self.threads = threads
        self.levels = levels
        self.ops_per_window = ops_per_window

    def __dealloc__(self):
        vx_stress_hist_destroy(self.d)

    def record(self, windows):
        """Record `windows` windows (1 to 100000); see the class docstring."""
        _check_int("windows", windows, 1, 100000)
        cdef uint32_t w = windows
        cdef size_t nops = <size_t>w * self.threads * self.ops_per_window
        cdef size_t nsnap = <size_t>w * VX_STRESS_SNAP_WORDS(self.levels)
        cdef bytearray ops = bytearray(nops * sizeof(vx_lc_op))
        cdef bytearray snap = bytearray(nsnap * sizeof(int64_t))
        cdef vx_lc_op *po = <vx_lc_op *>PyByteArray_AS_STRING(ops)
        cdef int64_t *ps = <int64_t *>PyByteArray_AS_STRING(snap)
        cdef vx_stress_result r
        cdef int rc
        with nogil:
            rc = vx_stress_hist_run(self.d, w, po, ps, &r)
        _raise_for(rc, "BookHistoryRecorder.record")
        return bytes(ops), bytes(snap)
