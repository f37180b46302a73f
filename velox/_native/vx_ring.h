/*
 * vx_ring.h: bounded single-producer single-consumer ring of transactions.
 *
 * Algorithm: Lamport's SPSC queue ("Specifying concurrent program modules",
 * TOPLAS 1983) with the cached opposite index of rigtorp/SPSCQueue
 * (https://github.com/rigtorp/SPSCQueue, README "Implementation") and
 * free-running 64-bit indices as in the Linux kernel's circular buffers
 * (Documentation/core-api/circular-buffers.rst).
 *
 * Invariant: 0 <= tail - head <= capacity, computed in unsigned 64-bit
 * arithmetic, so it holds across wrap-around of the counters; slot of index i
 * is slots[i & mask]. Full <=> tail - head == capacity; empty <=> tail == head.
 * capacity is a power of two, so every one of the 2^64 index values maps to a
 * slot consistently across the wrap (2^64 is a multiple of capacity).
 *
 * Ownership: tail and head_cache are written only by the producer; head and
 * tail_cache only by the consumer; each group sits on its own cache line.
 */
#ifndef VX_RING_H
#define VX_RING_H

#include <stddef.h>
#include <stdint.h>

#include "vx_atomic.h"
#include "vx_txn.h"

/** Largest capacity accepted (2^26 slots = 2 GiB of records). */
#define VX_RING_MAX_CAPACITY (UINT64_C(1) << 26)

typedef struct vx_ring {
    /* ---- producer cache line ---- */
    /** Next index the producer writes; written only by the producer, published
     *  with release, observed by the consumer with acquire. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 tail;
    /** Producer's last observed value of head (producer-private, plain). */
    uint64_t head_cache;

    /* ---- consumer cache line ---- */
    /** Next index the consumer reads; written only by the consumer. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 head;
    /** Consumer's last observed value of tail (consumer-private, plain). */
    uint64_t tail_cache;

    /* ---- read-only after creation ---- */
    _Alignas(VX_CACHELINE) uint64_t capacity; /**< power of two, >= 1 */
    uint64_t mask;                            /**< capacity - 1 */
    vx_txn *slots;                            /**< capacity records, 64-byte aligned */
} vx_ring;

_Static_assert(offsetof(vx_ring, head) - offsetof(vx_ring, tail) >= VX_CACHELINE,
               "producer and consumer indices must not share a cache line");
_Static_assert(offsetof(vx_ring, capacity) - offsetof(vx_ring, head) >= VX_CACHELINE,
               "consumer index must not share a cache line with the read-only fields");

/** Is n a power of two in [1, VX_RING_MAX_CAPACITY]? */
int vx_ring_capacity_ok(uint64_t n);

/** Create a ring; *err gets VX_EINVAL (bad capacity) or VX_ENOMEM on NULL.
 *  start_index places both counters (tests use it to reach the 2^64 wrap). */
vx_ring *vx_ring_create(uint64_t capacity, uint64_t start_index, int *err);
/** Initialise a ring in caller-provided memory (model build, tests). */
void vx_ring_init(vx_ring *r, vx_txn *slots, uint64_t capacity, uint64_t start_index);
void vx_ring_destroy(vx_ring *r);

/*
 * Fast paths, inlined at the call site (as rigtorp/SPSCQueue's single header
 * does): the pipeline and the benchmark driver call these; the extern
 * functions below wrap them for the Python binding and the model build.
 */

/* Free slots as the producer sees them, refreshing its cached head only when
 * the cache says fewer than `want` are free. */
static inline uint64_t vx_ring__space(vx_ring *r, uint64_t tail, uint64_t want) {
    uint64_t space = r->capacity - (tail - r->head_cache);
    if (space < want) {
        /* acquire: the consumer's reads of the slots it released happen before
         * we overwrite them; pairs with the release store of head in
         * vx_ring_try_pop / vx_ring_consume. */
        r->head_cache = vx_load(&r->head, VX_ACQUIRE);
        space = r->capacity - (tail - r->head_cache);
    }
    return space;
}

/* Records ready as the consumer sees them, refreshing the cached tail only
 * when the cache says fewer than `want` are ready. */
static inline uint64_t vx_ring__ready(vx_ring *r, uint64_t head, uint64_t want) {
    uint64_t ready = r->tail_cache - head;
    if (ready < want) {
        /* acquire: the producer's writes to the slots below tail are visible
         * before we read them; pairs with the release store of tail in
         * vx_ring_try_push / vx_ring_push_many / vx_ring_publish. */
        r->tail_cache = vx_load(&r->tail, VX_ACQUIRE);
        ready = r->tail_cache - head;
    }
    return ready;
}

/** Producer only. 1 if pushed, 0 if full (never blocks or overwrites). */
static inline int vx_ring_try_push(vx_ring *r, const vx_txn *t) {
    /* relaxed: only the producer (this thread) writes tail. */
    uint64_t tail = vx_load(&r->tail, VX_RELAXED);
    if (vx_ring__space(r, tail, 1) == 0) return 0;
    vx_txn *slot = &r->slots[tail & r->mask];
    VX_CELL_WRITE(slot, sizeof *slot);
    *slot = *t;
    /* release: publishes the slot written above; pairs with the acquire load
     * of tail in vx_ring__ready. */
    vx_store(&r->tail, tail + 1, VX_RELEASE);
    return 1;
}

/** Consumer only. 1 and *out filled, or 0 if empty. */
static inline int vx_ring_try_pop(vx_ring *r, vx_txn *out) {
    /* relaxed: only the consumer (this thread) writes head. */
    uint64_t head = vx_load(&r->head, VX_RELAXED);
    if (vx_ring__ready(r, head, 1) == 0) return 0;
    const vx_txn *slot = &r->slots[head & r->mask];
    VX_CELL_READ(slot, sizeof *slot);
    *out = *slot;
    /* release: our read of the slot is done before the producer may reuse
     * it; pairs with the acquire load of head in vx_ring__space. */
    vx_store(&r->head, head + 1, VX_RELEASE);
    return 1;
}

/** Producer only: inline vx_ring_reserve. */
static inline size_t vx_ring_try_reserve(vx_ring *r, size_t want, vx_txn **a, size_t *na, vx_txn **b) {
    /* relaxed: only the producer (this thread) writes tail. */
    uint64_t tail = vx_load(&r->tail, VX_RELAXED);
    uint64_t space = vx_ring__space(r, tail, want);
    size_t k = want < space ? want : (size_t)space;
    size_t first = (size_t)(tail & r->mask);
    size_t run = k;
    if (first + run > r->capacity) run = (size_t)r->capacity - first;
    for (size_t i = 0; i < k; i++) VX_CELL_WRITE(&r->slots[(tail + i) & r->mask], sizeof(vx_txn));
    *a = &r->slots[first];
    *na = run;
    *b = run < k ? &r->slots[0] : NULL;
    return k;
}

/** Producer only: inline vx_ring_commit. */
static inline void vx_ring_publish(vx_ring *r, size_t k) {
    if (k == 0) return;
    /* relaxed: only the producer (this thread) writes tail. */
    uint64_t tail = vx_load(&r->tail, VX_RELAXED);
    /* release: publishes the k slots written in place since the reserve;
     * pairs with the acquire load of tail in vx_ring__ready. */
    vx_store(&r->tail, tail + k, VX_RELEASE);
}

/** Consumer only: inline vx_ring_peek. */
static inline size_t vx_ring_try_peek(vx_ring *r, size_t want, const vx_txn **a, size_t *na, const vx_txn **b) {
    /* relaxed: only the consumer (this thread) writes head. */
    uint64_t head = vx_load(&r->head, VX_RELAXED);
    uint64_t ready = vx_ring__ready(r, head, want);
    size_t k = want < ready ? want : (size_t)ready;
    size_t first = (size_t)(head & r->mask);
    size_t run = k;
    if (first + run > r->capacity) run = (size_t)r->capacity - first;
    for (size_t i = 0; i < k; i++) VX_CELL_READ(&r->slots[(head + i) & r->mask], sizeof(vx_txn));
    *a = &r->slots[first];
    *na = run;
    *b = run < k ? &r->slots[0] : NULL;
    return k;
}

/** Consumer only: inline vx_ring_release. */
static inline void vx_ring_consume(vx_ring *r, size_t k) {
    if (k == 0) return;
    /* relaxed: only the consumer (this thread) writes head. */
    uint64_t head = vx_load(&r->head, VX_RELAXED);
    /* release: our in-place reads of the k slots are done before the producer
     * may reuse them; pairs with the acquire load of head in vx_ring__space. */
    vx_store(&r->head, head + k, VX_RELEASE);
}

/** Producer only. Returns 1 if pushed, 0 if full (never blocks or overwrites). */
int vx_ring_push(vx_ring *r, const vx_txn *t);
/** Producer only. Pushes up to n records with one index publication; returns
 *  how many were pushed (0 when full). */
size_t vx_ring_push_many(vx_ring *r, const vx_txn *src, size_t n);
/** Consumer only. Returns 1 and fills *out, or 0 if empty. */
int vx_ring_pop(vx_ring *r, vx_txn *out);
/** Consumer only. Pops up to n records into out; returns how many. */
size_t vx_ring_pop_many(vx_ring *r, vx_txn *out, size_t n);
/*
 * Zero-copy batches (used by the pipeline): the caller reads or writes slots
 * in place and publishes many of them with one index store. Free or ready
 * slots come as at most two contiguous spans, because the run may wrap past
 * the end of the slot array: *a holds *na records, *b (NULL when the run does
 * not wrap) holds the rest, starting at slot 0.
 */
/** Producer only. Reserves up to `want` free slots for writing in place;
 *  returns how many (0 when full). Nothing is visible to the consumer until
 *  vx_ring_commit. A later reserve before the commit returns the same slots. */
size_t vx_ring_reserve(vx_ring *r, size_t want, vx_txn **a, size_t *na, vx_txn **b);
/** Producer only. Publishes the first k reserved slots (k <= the reserve). */
void vx_ring_commit(vx_ring *r, size_t k);
/** Consumer only. Up to `want` ready records, readable in place until
 *  vx_ring_release; returns how many (0 when empty). */
size_t vx_ring_peek(vx_ring *r, size_t want, const vx_txn **a, size_t *na, const vx_txn **b);
/** Consumer only. Hands the first k peeked slots back to the producer. */
void vx_ring_release(vx_ring *r, size_t k);

/** Any thread: a snapshot of the occupancy, exact when both sides are quiet. */
uint64_t vx_ring_len(vx_ring *r);

#endif /* VX_RING_H */
