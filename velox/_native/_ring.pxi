# SpscRing: the SPSC ring of transactions.
from cpython.bytearray cimport PyByteArray_FromStringAndSize, PyByteArray_AS_STRING, PyByteArray_Resize
from velox._native.vx_ring cimport (
    vx_ring, vx_ring_capacity_ok, vx_ring_create, vx_ring_destroy, vx_ring_push, vx_ring_push_many,
    vx_ring_pop, vx_ring_pop_many, vx_ring_len, VX_RING_MAX_CAPACITY,
)


cdef class SpscRing:
    """Bounded single-producer single-consumer ring of Transactions.

    ``capacity`` must be a power of two from 1 to 2**26. One thread may push
    and one (other) thread may pop; ``len()`` may be called from anywhere.
    ``push`` returns False when full: it never blocks and never overwrites.
    Batches move records as raw 32-byte wire records through the buffer
    protocol, with no per-record Python object; a batch is validated whole
    before any record of it is pushed.

    Two threads on one side at once (two producers, or two consumers) would
    lose or duplicate records, so a call made while another thread is inside
    a call on the same side raises RuntimeError, and nothing moves. The check
    is a flag read and written with the GIL held (no atomic instruction);
    calls from different threads that do not overlap are fine.
    """

    cdef vx_ring *r
    cdef readonly uint64_t capacity
    # Set while a thread is inside a GIL-releasing call on that side; read and
    # written only with the GIL held, so a plain int is enough.
    cdef public bint _producer_inside
    cdef public bint _consumer_inside

    def __cinit__(self, capacity, *, _start_index=0):
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise TypeError(f"capacity must be an int, got {type(capacity).__name__}")
        if capacity < 1 or capacity > VX_RING_MAX_CAPACITY or not vx_ring_capacity_ok(capacity):
            raise ValueError(
                f"capacity must be a power of two from 1 to {VX_RING_MAX_CAPACITY}, got {capacity}")
        _check_int("_start_index", _start_index, 0, 0xFFFFFFFFFFFFFFFF)
        cdef int err = 0
        self.r = vx_ring_create(capacity, _start_index, &err)
        if self.r == NULL:
            _raise_for(err, f"SpscRing({capacity})")
        self.capacity = capacity

    def __dealloc__(self):
        vx_ring_destroy(self.r)

    def push(self, Transaction txn not None):
        """Append txn; False if the ring is full (nothing is overwritten)."""
        if self._producer_inside:
            _spsc_misuse("push", "producer")
        return vx_ring_push(self.r, &txn.rec) == 1

    def pop(self):
        """Remove and return the oldest Transaction, or None if empty."""
        cdef vx_txn rec
        if self._consumer_inside:
            _spsc_misuse("pop", "consumer")
        if vx_ring_pop(self.r, &rec) == 0:
            return None  # no allocation when empty
        return _txn_from(&rec)

    def push_many(self, buffer):
        """Push the records of a bytes-like buffer of 32-byte records (as many
        as fit). Returns how many were pushed; the caller keeps the rest."""
        cdef const unsigned char[::1] view = _byte_view(buffer, False, "push_many")
        cdef Py_ssize_t nbytes = view.shape[0]
        if nbytes % sizeof(vx_txn) != 0:
            raise ValueError(
                f"buffer length must be a multiple of {sizeof(vx_txn)} bytes (one record each), got {nbytes}")
        cdef size_t n = nbytes // sizeof(vx_txn)
        cdef size_t done
        if self._producer_inside:
            _spsc_misuse("push_many", "producer")
        if n == 0:
            return 0
        # The flag goes up before the validation: _check_records releases the
        # GIL, and a second producer must not slip in while it runs.
        self._producer_inside = True
        try:
            _check_records(<const vx_txn *>&view[0], n, "SpscRing.push_many")
            with nogil:
                done = vx_ring_push_many(self.r, <const vx_txn *>&view[0], n)
        finally:
            self._producer_inside = False
        return done

    def pop_many(self, n):
        """Pop up to n records; returns a bytearray of k*32 bytes (k <= n)."""
        _check_int("n", n, 0, VX_RING_MAX_CAPACITY)
        if self._consumer_inside:
            _spsc_misuse("pop_many", "consumer")
        # Never more than is queued now: only the consumer removes records, so
        # what len() sees stays available, and an empty ring allocates nothing.
        cdef size_t queued = vx_ring_len(self.r)
        cdef size_t want = n if n < queued else queued
        if want == 0:
            return bytearray()
        # Uninitialised on purpose: the first `got` records are written below
        # and the bytearray is cut to them before anyone sees it.
        cdef bytearray out = PyByteArray_FromStringAndSize(NULL, want * sizeof(vx_txn))
        cdef char *dst = PyByteArray_AS_STRING(out)
        cdef size_t got
        self._consumer_inside = True
        try:
            with nogil:
                got = vx_ring_pop_many(self.r, <vx_txn *>dst, want)
        finally:
            self._consumer_inside = False
        if got != want:
            PyByteArray_Resize(out, got * sizeof(vx_txn))
        return out

    def pop_into(self, buffer):
        """Pop into a writable buffer (whole 32-byte records); returns how many."""
        cdef unsigned char[::1] view = _byte_view(buffer, True, "pop_into")
        cdef size_t n = view.shape[0] // sizeof(vx_txn)
        cdef size_t got
        if self._consumer_inside:
            _spsc_misuse("pop_into", "consumer")
        if n == 0:
            return 0
        self._consumer_inside = True
        try:
            with nogil:
                got = vx_ring_pop_many(self.r, <vx_txn *>&view[0], n)
        finally:
            self._consumer_inside = False
        return got

    def __len__(self):
        return vx_ring_len(self.r)

    def __repr__(self):
        return f"SpscRing(capacity={self.capacity}) with {len(self)} queued"


cdef int _spsc_misuse(str method, str side) except -1:
    raise RuntimeError(
        f"SpscRing.{method}: another thread is inside a {side} call on this ring right now; an SPSC ring "
        f"has one {side} thread at a time (records would be lost or duplicated), so nothing was done. "
        f"Use velox.MpmcRing for several {side}s.")
