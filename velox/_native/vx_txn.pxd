# Cython mirror of vx_txn.h (declarations only; the header is the contract).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t

cdef extern from "vx_txn.h" nogil:
    enum:
        VX_PRICE_SCALE
        VX_BID
        VX_ASK
        VX_OK
        VX_EINVAL
        VX_ERANGE
        VX_EUNDERFLOW
        VX_EOVERFLOW
        VX_ETIMEOUT
        VX_ENOMEM

    ctypedef struct vx_txn:
        uint64_t id
        uint64_t ts
        int64_t price
        uint32_t qty
        uint8_t side
        uint8_t flags
        uint16_t producer

    const char *vx_strerror(int err)
