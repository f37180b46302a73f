# MpmcRing: the bounded MPMC ring of transactions (Vyukov).
from velox._native.vx_mpmc cimport (
    vx_mpmc, vx_mpmc_capacity_ok, vx_mpmc_create, vx_mpmc_destroy, vx_mpmc_push, vx_mpmc_pop,
    vx_mpmc_push_many, vx_mpmc_pop_many, vx_mpmc_len, VX_MPMC_MAX_CAPACITY,
)


cdef class MpmcRing:
    """Bounded multi-producer multi-consumer ring of Transactions.

    Dmitry Vyukov's bounded MPMC queue (per-cell sequence numbers). Any number
    of threads may push and pop at once. ``capacity`` must be a power of two
    from 2 to 2**26 (one cell cannot tell "full" from "free for the next lap").
    ``push`` returns False when full and ``pop`` None when empty: neither
    blocks nor overwrites. Batches move raw 32-byte wire records; unlike
    SpscRing's, a batch is a sequence of single pushes, so other producers'
    records may interleave with it.
    """

    cdef vx_mpmc *q
    cdef readonly uint64_t capacity

    def __cinit__(self, capacity, *, _start_index=0):
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise TypeError(f"capacity must be an int, got {type(capacity).__name__}")
        if capacity < 2 or capacity > VX_MPMC_MAX_CAPACITY or not vx_mpmc_capacity_ok(capacity):
            raise ValueError(
                f"capacity must be a power of two from 2 to {VX_MPMC_MAX_CAPACITY}, got {capacity}")
        _check_int("_start_index", _start_index, 0, 0xFFFFFFFFFFFFFFFF)
        cdef int err = 0
        self.q = vx_mpmc_create(capacity, _start_index, &err)
        if self.q == NULL:
            _raise_for(err, f"MpmcRing({capacity})")
        self.capacity = capacity

    def __dealloc__(self):
        vx_mpmc_destroy(self.q)

    def push(self, Transaction txn not None):
        """Append txn; False if the ring is full (nothing is overwritten)."""
        return vx_mpmc_push(self.q, &txn.rec) == 1

    def pop(self):
        """Remove and return the oldest Transaction, or None if empty."""
        cdef Transaction t = Transaction.__new__(Transaction)
        if vx_mpmc_pop(self.q, &t.rec) == 0:
            return None
        return t

    def push_many(self, buffer):
        """Push the records of a bytes-like buffer of 32-byte records in order
        (as many as fit). Returns how many were pushed."""
        cdef const unsigned char[::1] view = _byte_view(buffer, False, "push_many")
        cdef Py_ssize_t nbytes = view.shape[0]
        if nbytes % sizeof(vx_txn) != 0:
            raise ValueError(
                f"buffer length must be a multiple of {sizeof(vx_txn)} bytes (one record each), got {nbytes}")
        cdef size_t n = nbytes // sizeof(vx_txn)
        cdef size_t done
        if n == 0:
            return 0
        _check_records(<const vx_txn *>&view[0], n, "MpmcRing.push_many")
        with nogil:
            done = vx_mpmc_push_many(self.q, <const vx_txn *>&view[0], n)
        return done

    def pop_many(self, n):
        """Pop up to n records; returns a bytearray of k*32 bytes (k <= n)."""
        _check_int("n", n, 0, VX_MPMC_MAX_CAPACITY)
        # At most what is queued now (other consumers may take some: then
        # fewer come back); an empty ring allocates nothing.
        cdef size_t queued = vx_mpmc_len(self.q)
        cdef size_t want = n if n < queued else queued
        if want > self.capacity:
            want = self.capacity
        if want == 0:
            return bytearray()
        # Uninitialised on purpose: cut to the records written before return.
        cdef bytearray out = PyByteArray_FromStringAndSize(NULL, want * sizeof(vx_txn))
        cdef char *dst = PyByteArray_AS_STRING(out)
        cdef size_t got
        with nogil:
            got = vx_mpmc_pop_many(self.q, <vx_txn *>dst, want)
        if got != want:
            PyByteArray_Resize(out, got * sizeof(vx_txn))
        return out

    def pop_into(self, buffer):
        """Pop into a writable buffer (whole 32-byte records); returns how many."""
        cdef unsigned char[::1] view = _byte_view(buffer, True, "pop_into")
        cdef size_t n = view.shape[0] // sizeof(vx_txn)
        cdef size_t got
        if n == 0:
            return 0
        with nogil:
            got = vx_mpmc_pop_many(self.q, <vx_txn *>&view[0], n)
        return got

    def __len__(self):
        return vx_mpmc_len(self.q)

    def __repr__(self):
        return f"MpmcRing(capacity={self.capacity}) with {len(self)} queued"
