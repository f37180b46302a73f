# Cython mirror of vx_mpmc.h.
from libc.stdint cimport uint64_t
from velox._native.vx_txn cimport vx_txn

cdef extern from "vx_mpmc.h" nogil:
    uint64_t VX_MPMC_MAX_CAPACITY
    ctypedef struct vx_mpmc:
        pass
    int vx_mpmc_capacity_ok(uint64_t n)
    vx_mpmc *vx_mpmc_create(uint64_t capacity, uint64_t start_index, int *err)
    void vx_mpmc_destroy(vx_mpmc *q)
    int vx_mpmc_push(vx_mpmc *q, const vx_txn *t)
    int vx_mpmc_pop(vx_mpmc *q, vx_txn *out)
    size_t vx_mpmc_push_many(vx_mpmc *q, const vx_txn *src, size_t n)
    size_t vx_mpmc_pop_many(vx_mpmc *q, vx_txn *out, size_t n)
    uint64_t vx_mpmc_len(vx_mpmc *q)
