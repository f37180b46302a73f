/*
 * vx_stress.h: native multi-thread stress drivers for velox's structures.
 *
 * Each driver owns a structure and a few POSIX threads that hammer it, and
 * checks invariants as it goes and at quiescence. Drivers run in slices: a
 * call to vx_stress_*_run starts the threads, stops them after max_ops
 * operations per thread or at a deadline (whichever comes first), joins them,
 * checks the quiescent invariants, and returns the slice's counts. State
 * (sequence numbers, owned quantities, the structure itself) carries over to
 * the next slice, so a Python caller prints live progress between slices and
 * stops on time, while the structure sees one long history. Callers release
 * the GIL around a run: the drivers never call into Python.
 *
 * Counts: ops = operations on the structure; checks = invariant checks made
 * (per record for rings, per operation and per level for the book);
 * violations = checks that failed. The first violation's description is kept
 * in the result (with the slice-local details needed to reproduce it: the
 * caller prints the seed and parameters).
 *
 * The history recorder (vx_stress_hist_*) is the source of the
 * linearizability check: threads run short windows of order-book operations
 * between barriers, stamping each call and return with the TSC, and the
 * recorder snapshots the book (quiescent) before each window.
 */
#ifndef VX_STRESS_H
#define VX_STRESS_H

#include <stddef.h>
#include <stdint.h>

#include "vx_txn.h"

/** Counts of one slice (or one window batch). */
typedef struct vx_stress_result {
    uint64_t ops;        /**< operations on the structure */
    uint64_t checks;     /**< invariant checks performed */
    uint64_t violations; /**< checks that failed */
    uint64_t timeouts;   /**< book: bounded retries that gave up (not a violation) */
    uint64_t waits;      /**< full/empty encounters (ring back-pressure), for reports */
    char first_violation[240]; /**< first failed check, "" when none */
} vx_stress_result;

/* ---- SPSC ring: one producer, one consumer, FIFO / no loss / no dup ---- */
typedef struct vx_stress_ring vx_stress_ring;
/** max_batch >= 1: each side alternates single ops and batches of 1..max_batch
 *  (1 = single ops only). start_index places the ring's counters. */
vx_stress_ring *vx_stress_ring_create(uint64_t capacity, uint64_t start_index, uint32_t max_batch,
                                      uint64_t seed, int *err);
int vx_stress_ring_run(vx_stress_ring *d, uint64_t max_ops, uint64_t duration_ns, vx_stress_result *out);
void vx_stress_ring_destroy(vx_stress_ring *d);

/* ---- order book: threads add/remove owned quantities on shared levels ---- */
typedef struct vx_stress_book vx_stress_book;
/** levels >= 2 (bids use the lower half, asks the upper half: never crossed). */
vx_stress_book *vx_stress_book_create(uint32_t threads, uint32_t levels, uint32_t max_qty, uint64_t seed,
                                      int *err);
int vx_stress_book_run(vx_stress_book *d, uint64_t max_ops, uint64_t duration_ns, vx_stress_result *out);
void vx_stress_book_destroy(vx_stress_book *d);

/* ---- MPMC ring: producers x consumers, per-producer FIFO, no loss/dup ---- */
typedef struct vx_stress_mpmc vx_stress_mpmc;
vx_stress_mpmc *vx_stress_mpmc_create(uint64_t capacity, uint32_t producers, uint32_t consumers,
                                      uint64_t start_index, uint64_t seed, int *err);
int vx_stress_mpmc_run(vx_stress_mpmc *d, uint64_t max_ops, uint64_t duration_ns, vx_stress_result *out);
void vx_stress_mpmc_destroy(vx_stress_mpmc *d);

/* ---- order-book history recorder for the linearizability checker ---- */
enum vx_lc_kind { VX_LC_ADD = 0, VX_LC_REMOVE = 1, VX_LC_DEPTH = 2 };

/** One completed operation of a recorded history (48 bytes, little-endian,
 *  read in Python with struct "<QQqqqiBBH"). */
typedef struct vx_lc_op {
    uint64_t call;   /**< TSC just before the call (fenced) */
    uint64_t ret;    /**< TSC just after the return (fenced) */
    int64_t price;   /**< price (ticks) */
    int64_t arg;     /**< quantity for add/remove, 0 for depth */
    int64_t result;  /**< depth's value; 0 for add/remove */
    int32_t status;  /**< VX_OK, VX_EUNDERFLOW, VX_ETIMEOUT, ... */
    uint8_t kind;    /**< enum vx_lc_kind */
    uint8_t side;    /**< VX_BID or VX_ASK */
    uint16_t thread; /**< recording thread, from 0 */
} vx_lc_op;

_Static_assert(sizeof(vx_lc_op) == 48, "vx_lc_op is read by Python as 48 bytes");

typedef struct vx_stress_hist vx_stress_hist;
/** threads record ops_per_window operations each per window, on `levels`
 *  levels (tick_shift 0, base price VX_STRESS_HIST_BASE) of both sides. */
vx_stress_hist *vx_stress_hist_create(uint32_t threads, uint32_t levels, uint32_t ops_per_window,
                                      uint32_t max_qty, uint64_t seed, int *err);
/** Words of one window's snapshot: 2 * levels depths ([side][level]), then
 *  the best bid and best ask prices (-1 when that side is empty). */
#define VX_STRESS_SNAP_WORDS(levels) (2 * (size_t)(levels) + 2)

/** Record `windows` windows. ops_out holds windows * threads * ops_per_window
 *  records (window-major, then thread, then program order); snap_out holds
 *  windows * VX_STRESS_SNAP_WORDS(levels) words, each window's snapshot
 *  taken at quiescence just before it. Returns VX_OK or an error code. */
int vx_stress_hist_run(vx_stress_hist *d, uint32_t windows, vx_lc_op *ops_out, int64_t *snap_out,
                       vx_stress_result *out);
void vx_stress_hist_destroy(vx_stress_hist *d);

/** Base price of the recorder's book (level i is price base + i). */
#define VX_STRESS_HIST_BASE 1000000

#endif /* VX_STRESS_H */
