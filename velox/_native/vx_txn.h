/*
 * vx_txn.h: the 32-byte transaction record and the error codes every structure shares.
 *
 * A transaction is the unit every stage of the pipeline moves. It is a plain
 * value: copied into ring slots, never shared by pointer between threads, so
 * it has no atomic fields. Its wire format is its memory layout on a
 * little-endian machine (the targets we build for); `Transaction.to_bytes()`
 * and the pipeline's output file both use it, and tests/test_txn_layout.py
 * checks every offset against Python's struct module ("<QQqIBBH").
 *
 * Prices are fixed point with 4 decimals: one tick is 0.0001, so $100.25 is
 * 1002500. Integer ticks keep prices exact and comparisons cheap.
 */
#ifndef VX_TXN_H
#define VX_TXN_H

#include <stddef.h>
#include <stdint.h>

#include "vx_atomic.h"

/** Ticks per currency unit: 4 decimal places. */
#define VX_PRICE_SCALE 10000

enum vx_side { VX_BID = 0, VX_ASK = 1 };

/** One transaction: exactly 32 bytes, 8-byte aligned. */
typedef struct vx_txn {
    uint64_t id;       /**< per-producer sequence number, starting at 0 */
    uint64_t ts;       /**< TSC timestamp taken at ingress (ticks) */
    int64_t price;     /**< price in ticks of 0.0001 */
    uint32_t qty;      /**< quantity, in lots */
    uint8_t side;      /**< VX_BID or VX_ASK */
    uint8_t flags;     /**< reserved, 0 */
    uint16_t producer; /**< producer id */
} vx_txn;

_Static_assert(sizeof(vx_txn) == 32, "vx_txn must be exactly 32 bytes");
_Static_assert(_Alignof(vx_txn) == 8, "vx_txn must be 8-byte aligned");
_Static_assert(offsetof(vx_txn, id) == 0, "vx_txn.id offset");
_Static_assert(offsetof(vx_txn, ts) == 8, "vx_txn.ts offset");
_Static_assert(offsetof(vx_txn, price) == 16, "vx_txn.price offset");
_Static_assert(offsetof(vx_txn, qty) == 24, "vx_txn.qty offset");
_Static_assert(offsetof(vx_txn, side) == 28, "vx_txn.side offset");
_Static_assert(offsetof(vx_txn, flags) == 29, "vx_txn.flags offset");
_Static_assert(offsetof(vx_txn, producer) == 30, "vx_txn.producer offset");

/** Error codes shared by every structure (0 is success). */
enum vx_err {
    VX_OK = 0,
    VX_EINVAL = -1,    /**< an argument outside what the call allows */
    VX_ERANGE = -2,    /**< a price outside the book */
    VX_EUNDERFLOW = -3,/**< a removal below zero */
    VX_EOVERFLOW = -4, /**< a quantity past INT64_MAX */
    VX_ETIMEOUT = -5,  /**< a bounded retry loop gave up */
    VX_ENOMEM = -6,    /**< allocation failed */
};

/** n records, cache-line aligned (size rounded up to whole lines), or NULL.
 *  Uninitialised: callers read a record only after writing it. Free with free(). */
vx_txn *vx_txn_alloc(uint64_t n);

/** Human-readable name of an error code (static string). */
const char *vx_strerror(int err);

#endif /* VX_TXN_H */
