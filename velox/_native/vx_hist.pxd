# Cython mirror of vx_hist.h.
from libc.stdint cimport uint32_t, uint64_t

cdef extern from "vx_hist.h" nogil:
    enum:
        VX_HIST_SUB_BITS
        VX_HIST_BUCKETS
    ctypedef struct vx_hist:
        pass
    ctypedef struct vx_hist_snap:
        uint64_t count
        uint64_t max
        uint64_t sum
        uint64_t counts[VX_HIST_BUCKETS]
    void vx_hist_init(vx_hist *h)
    uint32_t vx_hist_bucket(uint64_t v)
    uint64_t vx_hist_bucket_lo(uint32_t b)
    uint64_t vx_hist_bucket_hi(uint32_t b)
    void vx_hist_record(vx_hist *h, uint64_t v)
    ctypedef struct vx_hist_run:
        uint64_t v
        uint64_t n
    void vx_hist_run_add(vx_hist *h, vx_hist_run *r, uint64_t v)
    void vx_hist_run_flush(vx_hist *h, vx_hist_run *r)
    void vx_hist_snapshot(const vx_hist *h, vx_hist_snap *out)
    uint64_t vx_hist_quantile(const vx_hist_snap *s, double q)
