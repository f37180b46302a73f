# Cython mirror of vx_tsc.h.
from libc.stdint cimport uint64_t

cdef extern from "vx_tsc.h" nogil:
    uint64_t vx_tsc_now()
    uint64_t vx_mono_ns()
    double vx_tsc_calibrate(uint64_t sleep_ns)
    double vx_tsc_ns_per_tick()
    double vx_tsc_to_ns(uint64_t ticks)
    uint64_t vx_tsc_from_ns(uint64_t ns)
