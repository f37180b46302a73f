# Cython mirror of vx_bundle.h.
from libc.stdint cimport uint32_t, uint64_t
from velox._native.vx_txn cimport vx_txn, vx_bundle

cdef extern from "vx_bundle.h" nogil:
    ctypedef struct vx_builder:
        pass
    int vx_builder_init(vx_builder *b, uint32_t max_txns, uint64_t timeout)
    int vx_builder_push(vx_builder *b, const vx_txn *t, uint64_t now, vx_bundle *out)
    int vx_builder_poll(vx_builder *b, uint64_t now, vx_bundle *out)
    int vx_builder_flush(vx_builder *b, uint64_t now, vx_bundle *out)
    uint32_t vx_builder_pending(const vx_builder *b)
    uint64_t vx_builder_deadline(const vx_builder *b)
