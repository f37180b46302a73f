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
    /** Largest value recorded (exact, not bucketed); written only by the
     *  owner. (The count is the sum of the buckets, taken by the snapshot.) */
    _Alignas(VX_CACHELINE) vx_atomic_u64 max;
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

/** Bucket of a value (inline: the pipeline calls it per record). */
static inline uint32_t vx_hist_bucket(uint64_t v) {
    if (v < VX_HIST_SUB) return (uint32_t)v;
    uint32_t e = 63u - (uint32_t)__builtin_clzll(v); /* v >= 32, so e >= 5 */
    uint32_t shift = e - VX_HIST_SUB_BITS;
    return (e - VX_HIST_SUB_BITS + 1) * VX_HIST_SUB + (uint32_t)(v >> shift) - VX_HIST_SUB;
}

/** Owner thread only (inline: called per record on the hot path). */
static inline void vx_hist_record(vx_hist *h, uint64_t v) {
    vx_atomic_u64 *c = &h->counts[vx_hist_bucket(v)];
    /* relaxed load + relaxed store, not an RMW: this thread is the only
     * writer, so no increment can be lost; the monitor's relaxed loads in
     * vx_hist_snapshot need no ordering with anything else. */
    vx_store(c, vx_load(c, VX_RELAXED) + 1, VX_RELAXED);
    /* relaxed: single writer, as above. */
    vx_store(&h->sum, vx_load(&h->sum, VX_RELAXED) + v, VX_RELAXED);
    /* relaxed: single writer; the monitor reads it relaxed. */
    if (v > vx_load(&h->max, VX_RELAXED)) vx_store(&h->max, v, VX_RELAXED);
}

/** Smallest and largest value that fall in a bucket. */
/** Record v n times (n >= 1): one bucket update for the lot. */
static inline void vx_hist_record_n(vx_hist *h, uint64_t v, uint64_t n) {
    vx_atomic_u64 *c = &h->counts[vx_hist_bucket(v)];
    /* relaxed load + relaxed store: single writer, as in vx_hist_record. */
    vx_store(c, vx_load(c, VX_RELAXED) + n, VX_RELAXED);
    /* relaxed: single writer; v * n wraps as n separate additions would. */
    vx_store(&h->sum, vx_load(&h->sum, VX_RELAXED) + v * n, VX_RELAXED);
    /* relaxed: single writer; the monitor reads it relaxed. */
    if (v > vx_load(&h->max, VX_RELAXED)) vx_store(&h->max, v, VX_RELAXED);
}

/** A run of equal values not yet recorded. A pipeline stage reads the clock
 *  once per batch and the transactions of one ingress batch share a
 *  timestamp, so the ages it records come in runs: recording a run at once
 *  costs one compare per value instead of a bucket computation and three
 *  counter updates. The histogram is exact either way (every value counted);
 *  the owner flushes the run before anyone could expect it counted (at the
 *  end of each batch). */
typedef struct vx_hist_run {
    uint64_t v; /**< the value of the run */
    uint64_t n; /**< its length (0: no run) */
} vx_hist_run;

static inline void vx_hist_run_flush(vx_hist *h, vx_hist_run *r) {
    if (r->n) vx_hist_record_n(h, r->v, r->n);
    r->n = 0;
}

static inline void vx_hist_run_add(vx_hist *h, vx_hist_run *r, uint64_t v) {
    if (r->n && r->v == v) {
        r->n++;
        return;
    }
    vx_hist_run_flush(h, r);
    r->v = v;
    r->n = 1;
}

uint64_t vx_hist_bucket_lo(uint32_t b);
uint64_t vx_hist_bucket_hi(uint32_t b);
/** Any thread. */
void vx_hist_snapshot(const vx_hist *h, vx_hist_snap *out);
/** Value at quantile q in [0, 1] (the top of the bucket holding rank
 *  ceil(q * count), capped at the exact max); 0 when empty. */
uint64_t vx_hist_quantile(const vx_hist_snap *s, double q);

#endif /* VX_HIST_H */
