# Cython mirror of vx_bundle.h.
from libc.stdint cimport uint32_t, uint64_t
from velox._native.vx_txn cimport vx_txn

cdef extern from "vx_bundle.h" nogil:
    enum:
        VX_BUNDLE_MAX
        VX_FLUSH_NONE
        VX_FLUSH_SIZE
        VX_FLUSH_TIMEOUT
        VX_FLUSH_FLUSH

    ctypedef struct vx_bundle:
        uint32_t count
        uint32_t reason
        uint64_t first_ts
        uint64_t flush_ts
        uint64_t seq
        vx_txn txns[16]

    ctypedef struct vx_bundle_builder:
        pass
    int vx_bundle_builder_init(vx_bundle_builder *b, uint32_t max_txns, uint64_t timeout)
    int vx_bundle_builder_push(vx_bundle_builder *b, const vx_txn *t, uint64_t now, vx_bundle *out)
    int vx_bundle_builder_poll(vx_bundle_builder *b, uint64_t now, vx_bundle *out)
    int vx_bundle_builder_flush(vx_bundle_builder *b, uint64_t now, vx_bundle *out)
    uint32_t vx_bundle_builder_pending(const vx_bundle_builder *b)
    uint64_t vx_bundle_builder_deadline(const vx_bundle_builder *b)
