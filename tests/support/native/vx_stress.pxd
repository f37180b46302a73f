# Cython mirror of vx_stress.h.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, int32_t, uint64_t, int64_t

cdef extern from "vx_stress.h" nogil:
    ctypedef struct vx_stress_result:
        uint64_t ops
        uint64_t checks
        uint64_t violations
        uint64_t timeouts
        uint64_t waits
        char first_violation[240]

    ctypedef struct vx_stress_ring:
        pass
    vx_stress_ring *vx_stress_ring_create(uint64_t capacity, uint64_t start_index, uint32_t max_batch,
                                          uint64_t seed, int *err)
    int vx_stress_ring_run(vx_stress_ring *d, uint64_t max_ops, uint64_t duration_ns, vx_stress_result *out)
    void vx_stress_ring_destroy(vx_stress_ring *d)

    ctypedef struct vx_stress_book:
        pass
    vx_stress_book *vx_stress_book_create(uint32_t threads, uint32_t levels, uint32_t max_qty, uint64_t seed,
                                          int *err)
    int vx_stress_book_run(vx_stress_book *d, uint64_t max_ops, uint64_t duration_ns, vx_stress_result *out)
    void vx_stress_book_destroy(vx_stress_book *d)

    ctypedef struct vx_stress_mpmc:
        pass
    vx_stress_mpmc *vx_stress_mpmc_create(uint64_t capacity, uint32_t producers, uint32_t consumers,
                                          uint64_t start_index, uint64_t seed, int *err)
    int vx_stress_mpmc_run(vx_stress_mpmc *d, uint64_t max_ops, uint64_t duration_ns, vx_stress_result *out)
    void vx_stress_mpmc_destroy(vx_stress_mpmc *d)

    enum:
        VX_LC_ADD
        VX_LC_REMOVE
        VX_LC_DEPTH
        VX_STRESS_HIST_BASE
    size_t VX_STRESS_SNAP_WORDS(uint32_t levels)

    ctypedef struct vx_lc_op:
        uint64_t call
        uint64_t ret
        int64_t price
        int64_t arg
        int64_t result
        int32_t status
        uint8_t kind
        uint8_t side
        uint16_t thread

    ctypedef struct vx_stress_hist:
        pass
    vx_stress_hist *vx_stress_hist_create(uint32_t threads, uint32_t levels, uint32_t ops_per_window,
                                          uint32_t max_qty, uint64_t seed, int *err)
    int vx_stress_hist_run(vx_stress_hist *d, uint32_t windows, vx_lc_op *ops_out, int64_t *snap_out,
                           vx_stress_result *out)
    void vx_stress_hist_destroy(vx_stress_hist *d)
