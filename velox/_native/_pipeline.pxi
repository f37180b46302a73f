# The native pipeline (vx_pipeline.h), its histogram and its generator.
# velox/_pipeline.py is the user-facing layer; these classes only translate.
from libc.stdlib cimport malloc, free
from libc.stdint cimport uint32_t, uint64_t
from velox._native.vx_hist cimport (
    vx_hist, vx_hist_snap, vx_hist_init, vx_hist_record, vx_hist_snapshot, vx_hist_quantile,
    vx_hist_run, vx_hist_run_add, vx_hist_run_flush,
    vx_hist_bucket, vx_hist_bucket_lo, vx_hist_bucket_hi, VX_HIST_BUCKETS,
)
from velox._native.vx_ingress cimport (
    vx_ingress, vx_ingress_init, vx_ingress_make, vx_ingress_advance, VX_ORDER_LIFETIME, VX_WALK_STEP_EVERY,
    VX_WALK_GAP, VX_INGRESS_LEVELS, VX_INGRESS_TICK_SHIFT, VX_INGRESS_BASE_PRICE, VX_INGRESS_MAX_PRODUCERS,
)
from velox._native.vx_pipeline cimport vx_waiter, vx_wait_init, vx_wait_idle, vx_wait_reset
from velox._native.vx_pipeline cimport VX_WAIT_SPINS, VX_WAIT_YIELDS
from velox._native.vx_pipeline cimport (
    vx_pipeline, vx_pipeline_cfg, vx_pipeline_cfg_ok, vx_pipeline_create, vx_pipeline_start, vx_pipeline_stop,
    vx_pipeline_finished, vx_pipeline_join, vx_pipeline_destroy, vx_pipeline_counters, vx_pipeline_hist,
    vx_pipeline_ring_len, vx_pipeline_threads, vx_pipeline_pinned, vx_pipeline_topology,
    vx_pipeline_timeout_ticks, vx_pipeline_first_violation, vx_pipeline_wait_stats, vx_pipeline_book_depth,
    vx_pipeline_trace_enable, vx_pipeline_trace_drain_book, vx_pipeline_trace_drain_output, vx_pipeline_trace_stats,
    vx_pipeline_output_stats,
    VX_NSTAGES, VX_CTRS,
    VX_NHIST, VX_PIPE_MAX_BATCH, VX_PIPE_MIN_RING, VX_PIPE_HEADER,
)

PIPE_MAX_BATCH = VX_PIPE_MAX_BATCH
PIPE_MIN_RING = VX_PIPE_MIN_RING
PIPE_NSTAGES = VX_NSTAGES
PIPE_NCTRS = VX_CTRS
PIPE_NHIST = VX_NHIST
ORDER_LIFETIME = VX_ORDER_LIFETIME
WALK_STEP_EVERY = VX_WALK_STEP_EVERY
WALK_GAP = VX_WALK_GAP
BOOK_LEVELS = VX_INGRESS_LEVELS
BOOK_TICK_SHIFT = VX_INGRESS_TICK_SHIFT
BOOK_BASE_PRICE = VX_INGRESS_BASE_PRICE
MAX_PRODUCERS = VX_INGRESS_MAX_PRODUCERS
HIST_BUCKETS = VX_HIST_BUCKETS


WAIT_SPINS = VX_WAIT_SPINS
WAIT_YIELDS = VX_WAIT_YIELDS


def _wait_ladder(int kind, list idle_runs):
    """(sched_yield calls, nanosleep calls) of one pipeline waiter that sees
    idle_runs[0] idle passes, one useful pass, idle_runs[1] idle passes, ...:
    the wait strategy's ladder, without the scheduler in the way."""
    cdef vx_waiter w
    vx_wait_init(&w, kind)
    for n in idle_runs:
        _check_int("idle passes", n, 0, 1 << 20)
        for _ in range(n):
            vx_wait_idle(&w)
        vx_wait_reset(&w)
    return (w.yields, w.sleeps)


cdef dict _hist_dict(vx_hist_snap *s):
    return {
        "count": s.count, "max": s.max, "sum": s.sum,
        "p50": vx_hist_quantile(s, 0.5), "p90": vx_hist_quantile(s, 0.9), "p99": vx_hist_quantile(s, 0.99),
        "p999": vx_hist_quantile(s, 0.999),
    }


cdef class _Histogram:
    """Test and tooling handle on one vx_hist (single-threaded use)."""

    cdef vx_hist *h

    def __cinit__(self):
        self.h = <vx_hist *>malloc(sizeof(vx_hist))
        if self.h == NULL:
            raise MemoryError("_Histogram")
        vx_hist_init(self.h)

    def __dealloc__(self):
        free(self.h)

    def record(self, value):
        _check_int("value", value, 0, 0xFFFFFFFFFFFFFFFF)
        vx_hist_record(self.h, value)

    def record_runs(self, values):
        """Record values through the run accumulator the pipeline's stages use."""
        cdef vx_hist_run run
        run.n = 0
        for value in values:
            _check_int("value", value, 0, 0xFFFFFFFFFFFFFFFF)
            vx_hist_run_add(self.h, &run, value)
        vx_hist_run_flush(self.h, &run)

    def quantile(self, q):
        if not (0.0 <= q <= 1.0):
            raise ValueError(f"q must be in [0, 1], got {q!r}")
        cdef vx_hist_snap *s = <vx_hist_snap *>malloc(sizeof(vx_hist_snap))
        if s == NULL:
            raise MemoryError("_Histogram.quantile")
        vx_hist_snapshot(self.h, s)
        cdef uint64_t v = vx_hist_quantile(s, q)
        free(s)
        return v

    def summary(self):
        cdef vx_hist_snap *s = <vx_hist_snap *>malloc(sizeof(vx_hist_snap))
        if s == NULL:
            raise MemoryError("_Histogram.summary")
        vx_hist_snapshot(self.h, s)
        d = _hist_dict(s)
        free(s)
        return d

    @staticmethod
    def bucket_bounds(value):
        """(lo, hi) of the bucket holding value."""
        _check_int("value", value, 0, 0xFFFFFFFFFFFFFFFF)
        cdef uint32_t b = vx_hist_bucket(value)
        return vx_hist_bucket_lo(b), vx_hist_bucket_hi(b)


def _ingress_sample(seed, price_mode, producers, n):
    """The first n transactions the ingress generator makes for this seed, as
    32-byte records (ts = 0), for tests of prices and sequence numbers."""
    _check_int("n", n, 0, 1 << 24)
    cdef vx_ingress *g = <vx_ingress *>malloc(sizeof(vx_ingress))
    if g == NULL:
        raise MemoryError("_ingress_sample")
    cdef bytearray out = bytearray(n * sizeof(vx_txn))
    cdef vx_txn *dst = <vx_txn *><char *>out
    try:
        _raise_for(vx_ingress_init(g, seed, price_mode, producers, 0.0, 0), "ingress")
        for i in range(n):
            vx_ingress_make(g, &dst[i], 0)
    finally:
        free(g)
    return bytes(out)


def _ingress_arrivals(seed, rate_per_tick, n):
    """The first n scheduled arrival ticks (start tick 0) at rate_per_tick."""
    _check_int("n", n, 0, 1 << 24)
    cdef vx_ingress *g = <vx_ingress *>malloc(sizeof(vx_ingress))
    if g == NULL:
        raise MemoryError("_ingress_arrivals")
    try:
        _raise_for(vx_ingress_init(g, seed, 0, 1, rate_per_tick, 0), "ingress")
        return [vx_ingress_advance(g) for _ in range(n)]
    finally:
        free(g)


cdef class _NativePipeline:
    """One run of the native pipeline. Build with a dict of vx_pipeline_cfg
    fields (velox._pipeline validates them first and explains errors)."""

    cdef vx_pipeline *p
    cdef bint started
    cdef bint joined

    def __cinit__(self, dict cfg):
        cdef vx_pipeline_cfg c
        c.rate = cfg["rate"]
        c.duration_ns = cfg["duration_ns"]
        c.saturate = cfg["saturate"]
        c.price_mode = cfg["price_mode"]
        c.backpressure = cfg["backpressure"]
        c.wait = cfg["wait"]
        c.topology = cfg["topology"]
        c.pin = cfg["pin"]
        c.ring_capacity = cfg["ring_capacity"]
        c.bundle_size = cfg["bundle_size"]
        c.bundle_timeout_ns = cfg["bundle_timeout_ns"]
        c.flush_slack_ns = cfg["flush_slack_ns"]
        c.seed = cfg["seed"]
        c.producers = cfg["producers"]
        c.batch = cfg["batch"]
        c.out_fd = cfg["out_fd"]
        cdef int err = 0
        self.p = vx_pipeline_create(&c, &err)
        if self.p == NULL:
            _raise_for(err, "Pipeline")

    def __dealloc__(self):
        if self.p != NULL:
            with nogil:
                vx_pipeline_destroy(self.p)

    def start(self):
        if self.started:
            raise RuntimeError("this pipeline has already run; build a new one")
        cdef int rc = vx_pipeline_start(self.p)
        self.started = True
        if rc != 0:
            raise OSError(rc, "could not start the pipeline threads")

    def stop(self):
        vx_pipeline_stop(self.p)

    def finished(self):
        return vx_pipeline_finished(self.p) != 0

    def join(self):
        with nogil:
            vx_pipeline_join(self.p)
        self.joined = True

    def counters(self):
        cdef uint64_t out[64]
        vx_pipeline_counters(self.p, out)
        return [[out[s * VX_CTRS + i] for i in range(VX_CTRS)] for s in range(VX_NSTAGES)]

    def hist(self, int which):
        if which < 0 or which >= VX_NHIST:
            raise ValueError(f"histogram index must be in [0, {VX_NHIST}), got {which}")
        cdef vx_hist_snap *s = <vx_hist_snap *>malloc(sizeof(vx_hist_snap))
        if s == NULL:
            raise MemoryError("hist")
        vx_pipeline_hist(self.p, which, s)
        d = _hist_dict(s)
        free(s)
        return d

    def hist_buckets(self, int which, bounds):
        """Histogram ``which`` regrouped for export: ``bounds`` are ascending
        upper bounds in ticks; returns (count, sum, min, max, counts) where
        counts[i] holds the native buckets whose top value is <= bounds[i] and
        above bounds[i - 1], and counts[len(bounds)] the rest. A native bucket
        goes whole to the group of its top value (never under-reporting a
        latency; a native bucket is at most 3.2% wide). min is the bottom of
        the lowest non-empty bucket (0 when empty)."""
        if which < 0 or which >= VX_NHIST:
            raise ValueError(f"histogram index must be in [0, {VX_NHIST}), got {which}")
        cdef list ub = [float(x) for x in bounds]
        cdef Py_ssize_t nb = len(ub)
        cdef vx_hist_snap *s = <vx_hist_snap *>malloc(sizeof(vx_hist_snap))
        if s == NULL:
            raise MemoryError("hist_buckets")
        cdef list counts = [0] * (nb + 1)
        cdef Py_ssize_t j = 0
        cdef uint32_t b
        cdef double top
        lowest = None
        try:
            vx_pipeline_hist(self.p, which, s)
            for b in range(VX_HIST_BUCKETS):
                if s.counts[b] == 0:
                    continue
                if lowest is None:
                    lowest = vx_hist_bucket_lo(b)
                top = <double>vx_hist_bucket_hi(b)
                while j < nb and top > ub[j]:
                    j += 1
                counts[j] += s.counts[b]
            return (s.count, s.sum, lowest or 0, s.max, counts)
        finally:
            free(s)

    def hist_quantiles(self, int which, qs):
        """Values (ticks) of histogram ``which`` at each quantile in ``qs``."""
        if which < 0 or which >= VX_NHIST:
            raise ValueError(f"histogram index must be in [0, {VX_NHIST}), got {which}")
        cdef list want = [float(q) for q in qs]
        for q in want:
            if not (0.0 <= q <= 1.0):
                raise ValueError(f"quantiles must be in [0, 1], got {q!r}")
        cdef vx_hist_snap *s = <vx_hist_snap *>malloc(sizeof(vx_hist_snap))
        if s == NULL:
            raise MemoryError("hist_quantiles")
        try:
            vx_pipeline_hist(self.p, which, s)
            return [vx_hist_quantile(s, q) for q in want]
        finally:
            free(s)

    def trace_enable(self, double rate, uint64_t capacity, double max_per_s=float("inf")):
        """Sample transactions at ``rate``, at most ``max_per_s`` a second,
        into side rings of ``capacity`` records (before start())."""
        if self.started:
            raise RuntimeError("enable tracing before start()")
        _raise_for(vx_pipeline_trace_enable(self.p, rate, capacity, max_per_s), "trace_enable")

    def trace_drain(self, size_t max_samples=4096):
        """(book records [(producer, id, tick)], output records [(producer, id,
        ingress, arrival, flush, output ticks)]) waiting in the side rings,
        at most ``max_samples`` of each. One thread only (the side rings are
        single-consumer).

        The output ring is read first: a transaction's book record is written
        before its output record, so every output record returned has its book
        record either in this call's book list, in an earlier call's, or (when
        the book list came back full) still in the ring for the next call.
        Reading the book ring first would let a transaction pass through book
        and output between the two reads and arrive without its book record."""
        cdef uint64_t *buf = <uint64_t *>malloc(max_samples * 6 * sizeof(uint64_t))
        if buf == NULL:
            raise MemoryError("trace_drain")
        cdef size_t n, i
        try:
            n = vx_pipeline_trace_drain_output(self.p, buf, max_samples)
            out = [tuple(buf[6 * i + j] for j in range(6)) for i in range(n)]
            n = vx_pipeline_trace_drain_book(self.p, buf, max_samples)
            book = [(buf[3 * i], buf[3 * i + 1], buf[3 * i + 2]) for i in range(n)]
            return book, out
        finally:
            free(buf)

    def trace_stats(self):
        """(book recorded, book dropped, output recorded, output dropped,
        selected over the budget)."""
        cdef uint64_t out[5]
        vx_pipeline_trace_stats(self.p, out)
        return (out[0], out[1], out[2], out[3], out[4])

    def book_depth(self, int side):
        """Resting quantity on one side (0 bid, 1 ask) of the book stage's book."""
        if side not in (0, 1):
            raise ValueError(f"side must be 0 (bid) or 1 (ask), got {side}")
        return vx_pipeline_book_depth(self.p, side)

    def ring_len(self, int ring):
        return vx_pipeline_ring_len(self.p, ring)

    @property
    def threads(self):
        return vx_pipeline_threads(self.p)

    @property
    def pinned(self):
        return vx_pipeline_pinned(self.p) != 0

    @property
    def topology(self):
        return vx_pipeline_topology(self.p)

    @property
    def timeout_ticks(self):
        return vx_pipeline_timeout_ticks(self.p)

    def first_violation(self):
        cdef uint64_t pr = 0, exp = 0, got = 0
        if vx_pipeline_first_violation(self.p, &pr, &exp, &got):
            return (pr, exp, got)
        return None

    def wait_stats(self):
        """(sched_yield calls, nanosleep calls, CPU ns of the pipeline threads); after join."""
        cdef uint64_t y = 0, s = 0, c = 0
        vx_pipeline_wait_stats(self.p, &y, &s, &c)
        return (y, s, c)

    def output_stats(self):
        """(bytes the output file accepted, their Adler-32, errno of the first
        failed write or 0); after join."""
        if not self.joined:
            raise RuntimeError("output_stats() after join()")
        cdef uint64_t nbytes = 0
        cdef uint32_t adler = 0
        cdef int err = 0
        vx_pipeline_output_stats(self.p, &nbytes, &adler, &err)
        return (nbytes, adler, err)
