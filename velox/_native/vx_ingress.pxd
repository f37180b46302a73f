# Cython mirror of vx_ingress.h.
from libc.stdint cimport uint32_t, uint64_t, int64_t
from velox._native.vx_txn cimport vx_txn

cdef extern from "vx_ingress.h" nogil:
    enum:
        VX_INGRESS_MAX_PRODUCERS
        VX_ORDER_LIFETIME
        VX_WALK_STEP_EVERY
        VX_WALK_GAP
        VX_INGRESS_LEVELS
        VX_INGRESS_TICK_SHIFT
        VX_PRICE_UNIFORM
        VX_PRICE_WALK
    int64_t VX_INGRESS_BASE_PRICE
    ctypedef struct vx_rng:
        pass
    ctypedef struct vx_ingress:
        double next_arrival
    void vx_rng_seed(vx_rng *r, uint64_t seed)
    uint64_t vx_rng_next(vx_rng *r)
    int vx_ingress_init(vx_ingress *g, uint64_t seed, int price_mode, uint32_t producers, double rate_per_tick,
                        uint64_t start_tick)
    void vx_ingress_make(vx_ingress *g, vx_txn *t, uint64_t now)
    double vx_ingress_advance(vx_ingress *g)
