# Bundle and BundleBuilder.
from velox._native.vx_bundle cimport (
    vx_bundle, VX_FLUSH_SIZE, VX_FLUSH_TIMEOUT, VX_FLUSH_FLUSH, VX_BUNDLE_MAX,
    vx_bundle_builder, vx_bundle_builder_init, vx_bundle_builder_push, vx_bundle_builder_poll,
    vx_bundle_builder_flush, vx_bundle_builder_pending, vx_bundle_builder_deadline,
)
from velox._native.vx_tsc cimport vx_tsc_now, vx_tsc_from_ns

BUNDLE_MAX = VX_BUNDLE_MAX
_REASONS = {VX_FLUSH_SIZE: "size", VX_FLUSH_TIMEOUT: "timeout", VX_FLUSH_FLUSH: "flush"}


cdef class Bundle:
    """Transactions handed out together: ``.transactions`` in arrival order,
    ``.reason`` ("size", "timeout" or "flush"), ``.first_ts`` (clock when the
    first arrived), ``.flush_ts`` (clock when handed out), ``.seq`` (from 0)."""

    cdef readonly tuple transactions
    cdef readonly str reason
    cdef readonly uint64_t first_ts
    cdef readonly uint64_t flush_ts
    cdef readonly uint64_t seq

    def __init__(self, transactions=(), reason="flush", *, first_ts=0, flush_ts=0, seq=0):
        """Bundles come from BundleBuilder; building one by hand (to compare
        against, in a test) takes the same fields."""
        txns = tuple(transactions)
        for t in txns:
            if not isinstance(t, Transaction):
                raise TypeError(f"transactions must be Transaction objects, got {type(t).__name__}")
        if len(txns) > VX_BUNDLE_MAX:
            raise ValueError(f"a bundle holds at most {VX_BUNDLE_MAX} transactions, got {len(txns)}")
        if reason not in ("size", "timeout", "flush"):
            raise ValueError(f"reason must be 'size', 'timeout' or 'flush', got {reason!r}")
        _check_int("first_ts", first_ts, 0, 0xFFFFFFFFFFFFFFFF)
        _check_int("flush_ts", flush_ts, 0, 0xFFFFFFFFFFFFFFFF)
        _check_int("seq", seq, 0, 0xFFFFFFFFFFFFFFFF)
        self.transactions = txns
        self.reason = reason
        self.first_ts = first_ts
        self.flush_ts = flush_ts
        self.seq = seq

    def __len__(self):
        return len(self.transactions)

    def __iter__(self):
        return iter(self.transactions)

    def __repr__(self):
        return (f"<Bundle seq={self.seq} reason={self.reason!r} n={len(self.transactions)} "
                f"first_ts={self.first_ts} flush_ts={self.flush_ts}>")


cdef Bundle _bundle_from(const vx_bundle *b):
    cdef Bundle out = Bundle.__new__(Bundle)
    out.transactions = tuple([_txn_from(&b.txns[i]) for i in range(b.count)])
    out.reason = _REASONS[b.reason]
    out.first_ts = b.first_ts
    out.flush_ts = b.flush_ts
    out.seq = b.seq
    return out


cdef class BundleBuilder:
    """Groups transactions into bundles of ``max_txns`` (1..16), or fewer when
    the oldest waiting one has waited ``timeout_ns``.

    ``push`` returns the bundle this push fills, ``poll`` the bundle whose
    oldest transaction timed out, ``flush`` whatever waits. By default time is
    the TSC (timeout converted with the calibration); ``clock=`` takes a
    callable returning integer nanoseconds instead (tests, replays).
    Not thread-safe: one owner, as in the pipeline.
    """

    cdef vx_bundle_builder b
    cdef vx_bundle out
    cdef object clock
    cdef readonly uint32_t max_txns
    cdef readonly uint64_t timeout_ns

    def __cinit__(self, max_txns=16, timeout_ns=100_000, *, clock=None):
        _check_int("max_txns", max_txns, 1, VX_BUNDLE_MAX)
        _check_int("timeout_ns", timeout_ns, 1, 0xFFFFFFFFFFFFFFFF)
        if clock is not None and not callable(clock):
            raise TypeError(f"clock must be a callable returning int nanoseconds, got {clock!r}")
        self.clock = clock
        timeout = timeout_ns if clock is not None else max(1, vx_tsc_from_ns(timeout_ns))
        _raise_for(vx_bundle_builder_init(&self.b, max_txns, timeout), "BundleBuilder")
        self.max_txns = max_txns
        self.timeout_ns = timeout_ns

    cdef uint64_t _now(self) except? 0xFFFFFFFFFFFFFFFF:
        if self.clock is None:
            return vx_tsc_now()
        now = self.clock()
        _check_int("clock()", now, 0, 0xFFFFFFFFFFFFFFFE)
        return now

    def push(self, Transaction txn not None):
        """Add txn; returns the Bundle if this push fills one, else None."""
        if vx_bundle_builder_push(&self.b, &txn.rec, self._now(), &self.out):
            return _bundle_from(&self.out)
        return None

    def poll(self):
        """The waiting Bundle if its oldest transaction timed out, else None."""
        if vx_bundle_builder_poll(&self.b, self._now(), &self.out):
            return _bundle_from(&self.out)
        return None

    def flush(self):
        """Whatever is waiting as a Bundle (reason "flush"), or None."""
        if vx_bundle_builder_flush(&self.b, self._now(), &self.out):
            return _bundle_from(&self.out)
        return None

    @property
    def pending(self):
        """Transactions waiting for the next bundle."""
        return vx_bundle_builder_pending(&self.b)

    def __len__(self):
        return vx_bundle_builder_pending(&self.b)
