# Cython mirror of vx_ring.h.
from libc.stdint cimport uint64_t
from velox._native.vx_txn cimport vx_txn

cdef extern from "vx_ring.h" nogil:
    uint64_t VX_RING_MAX_CAPACITY
    ctypedef struct vx_ring:
        pass
    int vx_ring_capacity_ok(uint64_t n)
    vx_ring *vx_ring_create(uint64_t capacity, uint64_t start_index, int *err)
    void vx_ring_destroy(vx_ring *r)
    int vx_ring_push(vx_ring *r, const vx_txn *t)
    size_t vx_ring_push_many(vx_ring *r, const vx_txn *src, size_t n)
    int vx_ring_pop(vx_ring *r, vx_txn *out)
    size_t vx_ring_pop_many(vx_ring *r, vx_txn *out, size_t n)
    size_t vx_ring_reserve(vx_ring *r, size_t want, vx_txn **a, size_t *na, vx_txn **b)
    void vx_ring_commit(vx_ring *r, size_t k)
    size_t vx_ring_peek(vx_ring *r, size_t want, const vx_txn **a, size_t *na, const vx_txn **b)
    void vx_ring_release(vx_ring *r, size_t k)
    uint64_t vx_ring_len(vx_ring *r)
