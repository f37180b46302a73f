/*
 * vx_mpmc.h: bounded multi-producer multi-consumer ring of transactions.
 *
 * Algorithm: Dmitry Vyukov's bounded MPMC queue
 * (https://www.1024cores.net/home/lock-free-algorithms/queues/bounded-mpmc-queue),
 * the design crossbeam's ArrayQueue is based on. Every cell carries a sequence
 * number that says whose turn the cell is:
 *   - seq == pos:      the cell is free for the producer that claims index pos;
 *   - seq == pos + 1:  the cell holds the record of index pos, ready for the
 *                      consumer that claims pos;
 *   - after that consumer is done it sets seq = pos + capacity, which is the
 *     "free" value for index pos + capacity, the cell's next lap.
 * Producers claim an index by a compare-exchange on enqueue_pos, consumers on
 * dequeue_pos; the cell's seq, not the positions, carries the data between
 * threads (release store after writing or reading the record, acquire load
 * before). Indices are free-running 64-bit counters and every comparison is a
 * signed difference, so the ring works across the 2^64 wrap (tests start the
 * counters just below it through start_index).
 *
 * Invariants: capacity is a power of two >= 2 (with one cell, "free for lap
 * k+1" and "full for lap k" are the same seq value: Vyukov's note); a
 * transaction is read only after its producer's release store of seq; a cell
 * is overwritten only after its consumer's release store of seq.
 *
 * Progress: push and pop never block and never overwrite; they return 0 when
 * the ring is full or empty. The queue is not strictly lock-free: a producer
 * descheduled between claiming an index and publishing its cell makes
 * consumers of that index see "empty" until it resumes (Vyukov documents this).
 */
#ifndef VX_MPMC_H
#define VX_MPMC_H

#include <stddef.h>
#include <stdint.h>

#include "vx_atomic.h"
#include "vx_txn.h"

/** Largest capacity accepted (2^26 cells). */
#define VX_MPMC_MAX_CAPACITY (UINT64_C(1) << 26)

/** One cell: the turn counter and the record it guards. */
typedef struct vx_mpmc_cell {
    /** Turn counter (see the header): written by the producer (release) after
     *  filling the record, and by the consumer (release) after reading it. */
    vx_atomic_u64 seq;
    /** The record; plain data, published and retired through seq. */
    vx_txn txn;
} vx_mpmc_cell;

typedef struct vx_mpmc {
    /** Next index a producer claims; any producer may advance it (CAS). */
    _Alignas(VX_CACHELINE) vx_atomic_u64 enqueue_pos;
    /** Next index a consumer claims; any consumer may advance it (CAS). */
    _Alignas(VX_CACHELINE) vx_atomic_u64 dequeue_pos;
    /* ---- read-only after creation ---- */
    _Alignas(VX_CACHELINE) uint64_t capacity; /**< power of two, >= 2 */
    uint64_t mask;                            /**< capacity - 1 */
    vx_mpmc_cell *cells;                      /**< capacity cells, 64-byte aligned */
} vx_mpmc;

_Static_assert(offsetof(vx_mpmc, dequeue_pos) - offsetof(vx_mpmc, enqueue_pos) >= VX_CACHELINE,
               "producer and consumer positions must not share a cache line");
_Static_assert(offsetof(vx_mpmc, capacity) - offsetof(vx_mpmc, dequeue_pos) >= VX_CACHELINE,
               "consumer position must not share a cache line with the read-only fields");

/** Is n a power of two in [2, VX_MPMC_MAX_CAPACITY]? */
int vx_mpmc_capacity_ok(uint64_t n);
/** Create a ring; *err gets VX_EINVAL (bad capacity) or VX_ENOMEM on NULL.
 *  start_index places both positions (tests use it to reach the 2^64 wrap). */
vx_mpmc *vx_mpmc_create(uint64_t capacity, uint64_t start_index, int *err);
/** Initialise in caller-provided memory (capacity cells). */
void vx_mpmc_init(vx_mpmc *q, vx_mpmc_cell *cells, uint64_t capacity, uint64_t start_index);
void vx_mpmc_destroy(vx_mpmc *q);

/** Any thread. Returns 1 if pushed, 0 if full. */
int vx_mpmc_push(vx_mpmc *q, const vx_txn *t);
/** Any thread. Returns 1 and fills *out, or 0 if empty. */
int vx_mpmc_pop(vx_mpmc *q, vx_txn *out);
/** Any thread. Pushes src[0..n) in order until full; returns how many. Each
 *  record is its own push: other producers' records may interleave. */
size_t vx_mpmc_push_many(vx_mpmc *q, const vx_txn *src, size_t n);
/** Any thread. Pops up to n records; returns how many. */
size_t vx_mpmc_pop_many(vx_mpmc *q, vx_txn *out, size_t n);
/** Any thread: a snapshot of the occupancy, exact when all sides are quiet. */
uint64_t vx_mpmc_len(vx_mpmc *q);

#endif /* VX_MPMC_H */
