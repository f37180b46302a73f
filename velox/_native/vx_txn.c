/* vx_txn.c: error strings (the record itself is a plain struct in vx_txn.h). */
#include "vx_txn.h"

#include <stdlib.h>

vx_txn *vx_txn_alloc(uint64_t n) {
    size_t bytes = (size_t)n * sizeof(vx_txn);
    bytes = (bytes + VX_CACHELINE - 1) / VX_CACHELINE * VX_CACHELINE;
    return aligned_alloc(VX_CACHELINE, bytes);
}

const char *vx_strerror(int err) {
    switch (err) {
    case VX_OK: return "ok";
    case VX_EINVAL: return "invalid argument";
    case VX_ERANGE: return "price out of range";
    case VX_EUNDERFLOW: return "quantity would go below zero";
    case VX_EOVERFLOW: return "quantity would overflow";
    case VX_ETIMEOUT: return "retry limit reached under contention";
    case VX_ENOMEM: return "out of memory";
    default: return "unknown error";
    }
}
