/*
 * vx_bundle.h: the bundle builder.
 *
 * Accumulates transactions in arrival order and hands out a bundle when
 * max_txns are in (reason "size") or when the oldest waiting transaction has
 * waited timeout ticks (reason "timeout", found by vx_bundle_builder_poll), or on an
 * explicit flush. Single-threaded: one pipeline stage owns a builder, so it has
 * no atomics. The clock is a parameter (`now`, in the same unit as the
 * timeout): the pipeline passes TSC ticks, tests pass a fake clock, and the
 * model build passes the explorer's virtual clock. No allocation after create.
 */
#ifndef VX_BUNDLE_H
#define VX_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "vx_txn.h"

/** Most transactions a bundle can hold. */
#define VX_BUNDLE_MAX 16

enum vx_flush_reason { VX_FLUSH_NONE = 0, VX_FLUSH_SIZE = 1, VX_FLUSH_TIMEOUT = 2, VX_FLUSH_FLUSH = 3 };

/** A bundle: up to VX_BUNDLE_MAX transactions in arrival order. */
typedef struct vx_bundle {
    uint32_t count;           /**< transactions in txns[0..count) */
    uint32_t reason;          /**< enum vx_flush_reason */
    uint64_t first_ts;        /**< builder clock when the first transaction arrived */
    uint64_t flush_ts;        /**< builder clock when the bundle was handed out */
    uint64_t seq;             /**< bundle number, from 0, per builder */
    vx_txn txns[VX_BUNDLE_MAX];
} vx_bundle;

_Static_assert(offsetof(vx_bundle, txns) % 8 == 0, "bundle transactions must stay 8-byte aligned");

typedef struct vx_bundle_builder {
    uint32_t max_txns;  /**< 1..VX_BUNDLE_MAX */
    uint64_t timeout;   /**< in the caller's clock unit, >= 1 */
    uint64_t next_seq;  /**< number of the next bundle handed out */
    vx_bundle cur;      /**< the bundle being filled */
} vx_bundle_builder;

int vx_bundle_builder_init(vx_bundle_builder *b, uint32_t max_txns, uint64_t timeout);
/** Heap-allocated builder (NULL on bad arguments or no memory). */
vx_bundle_builder *vx_bundle_builder_new(uint32_t max_txns, uint64_t timeout);
void vx_bundle_builder_free(vx_bundle_builder *b);
/** Add t at time now. Returns 1 and fills *out when this push fills the
 *  bundle (reason size), else 0. */
int vx_bundle_builder_push(vx_bundle_builder *b, const vx_txn *t, uint64_t now, vx_bundle *out);
/** Returns 1 and fills *out if the oldest waiting transaction arrived at least
 *  timeout before now (reason timeout), else 0. */
int vx_bundle_builder_poll(vx_bundle_builder *b, uint64_t now, vx_bundle *out);
/** Returns 1 and fills *out with whatever is waiting (reason flush), else 0. */
int vx_bundle_builder_flush(vx_bundle_builder *b, uint64_t now, vx_bundle *out);
/** Transactions waiting. */
uint32_t vx_bundle_builder_pending(const vx_bundle_builder *b);
/** Deadline (clock value) of the oldest waiting transaction; UINT64_MAX if none. */
uint64_t vx_bundle_builder_deadline(const vx_bundle_builder *b);

#endif /* VX_BUNDLE_H */
