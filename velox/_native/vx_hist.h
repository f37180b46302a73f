/*
 * vx_hist.h: log-linear latency histogram in TSC ticks (HDR-style).
 *
 * Layout after Gil Tene's HdrHistogram (http://hdrhistogram.org/): values
 * below 2^VX_HIST_SUB_BITS get one bucket each; above, every power of two
 * [2^e, 2^(e+1)) is cut into 2^VX_HIST_SUB_BITS equal buckets, so a bucket is
 * never wider than 1/32 of the values it holds (relative error <= 3.2%) and
 * the whole u64 range fits in VX_HIST_BUCKETS counters.
 *
 * Concurrency: exactly one thread (the stage that owns the histogram) records;
 * any other thread (the monitor) may take a snapshot at any time, off the hot
 * path. Counters are atomics updated with a relaxed load and a relaxed store,
 * not a read-modify-write: with a single writer no update can be lost, and on
 * x86 both compile to plain moves. A snapshot is per-counter exact but not a
 * single instant (counts recorded during the copy may or may not be in it);
 * the final report is taken after the writer has stopped and is exact.
 */
#ifndef VX_HIST_H
#define VX_HIST_H

#include <stdint.h>

#include "vx_atomic.h"

#define VX_HIST_SUB_BITS 5
#define VX_HIST_SUB (1u << VX_HIST_SUB_BITS)
/** Buckets for the whole u64 range: one linear group plus one per exponent 5..63. */
#define VX_HIST_BUCKETS ((64 - VX_HIST_SUB_BITS + 1) * VX_HIST_SUB)

typedef struct vx_hist {
    /** Values recorded; written only by the owner. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 count;
    /** Largest value recorded (exact, not bucketed); written only by the owner. */
    vx_atomic_u64 max;
    /** Sum of values recorded (ticks); written only by the owner. */
    vx_atomic_u64 sum;
    /** counts[bucket]; written only by the owner. */
    vx_atomic_u64 counts[VX_HIST_BUCKETS];
} vx_hist;

/** A plain copy taken by the monitor. */
typedef struct vx_hist_snap {
    uint64_t count; /**< sum of counts[] (consistent with the buckets copied) */
    uint64_t max;
    uint64_t sum;
    uint64_t counts[VX_HIST_BUCKETS];
} vx_hist_snap;

void vx_hist_init(vx_hist *h);
/** Bucket of a value. */
uint32_t vx_hist_bucket(uint64_t v);
/** Smallest and largest value that fall in a bucket. */
uint64_t vx_hist_bucket_lo(uint32_t b);
uint64_t vx_hist_bucket_hi(uint32_t b);
/** Owner thread only. */
void vx_hist_record(vx_hist *h, uint64_t v);
/** Any thread. */
void vx_hist_snapshot(const vx_hist *h, vx_hist_snap *out);
/** Value at quantile q in [0, 1] (the top of the bucket holding rank
 *  ceil(q * count), capped at the exact max); 0 when empty. */
uint64_t vx_hist_quantile(const vx_hist_snap *s, double q);

#endif /* VX_HIST_H */
