/* vx_hist.c: log-linear histogram; see vx_hist.h. */
#include "vx_hist.h"

#include <math.h>

void vx_hist_init(vx_hist *h) {
    vx_init(&h->count, 0);
    vx_init(&h->max, 0);
    vx_init(&h->sum, 0);
    for (uint32_t i = 0; i < VX_HIST_BUCKETS; i++) vx_init(&h->counts[i], 0);
}

uint32_t vx_hist_bucket(uint64_t v) {
    if (v < VX_HIST_SUB) return (uint32_t)v;
    uint32_t e = 63u - (uint32_t)__builtin_clzll(v); /* v >= 32, so e >= 5 */
    uint32_t shift = e - VX_HIST_SUB_BITS;
    return (e - VX_HIST_SUB_BITS + 1) * VX_HIST_SUB + (uint32_t)(v >> shift) - VX_HIST_SUB;
}

uint64_t vx_hist_bucket_lo(uint32_t b) {
    if (b < VX_HIST_SUB) return b;
    uint32_t g = b / VX_HIST_SUB, s = b % VX_HIST_SUB;
    uint32_t shift = g - 1; /* e - SUB_BITS with e = g + SUB_BITS - 1 */
    return (uint64_t)(VX_HIST_SUB + s) << shift;
}

uint64_t vx_hist_bucket_hi(uint32_t b) {
    if (b < VX_HIST_SUB) return b;
    uint32_t g = b / VX_HIST_SUB;
    return vx_hist_bucket_lo(b) + ((UINT64_C(1) << (g - 1)) - 1);
}

void vx_hist_record(vx_hist *h, uint64_t v) {
    vx_atomic_u64 *c = &h->counts[vx_hist_bucket(v)];
    /* relaxed load + relaxed store, not an RMW: this thread is the only
     * writer, so no increment can be lost; the monitor's relaxed loads in
     * vx_hist_snapshot need no ordering with anything else. */
    vx_store(c, vx_load(c, VX_RELAXED) + 1, VX_RELAXED);
    /* relaxed: single writer, as above. */
    vx_store(&h->count, vx_load(&h->count, VX_RELAXED) + 1, VX_RELAXED);
    /* relaxed: single writer, as above. */
    vx_store(&h->sum, vx_load(&h->sum, VX_RELAXED) + v, VX_RELAXED);
    /* relaxed: single writer; the monitor reads it relaxed. */
    if (v > vx_load(&h->max, VX_RELAXED)) vx_store(&h->max, v, VX_RELAXED);
}

void vx_hist_snapshot(const vx_hist *h, vx_hist_snap *out) {
    uint64_t total = 0;
    for (uint32_t i = 0; i < VX_HIST_BUCKETS; i++) {
        /* relaxed: a statistic; pairs with the owner's relaxed stores in
         * vx_hist_record, each counter read once. */
        out->counts[i] = vx_load((vx_atomic_u64 *)&h->counts[i], VX_RELAXED);
        total += out->counts[i];
    }
    out->count = total;
    /* relaxed: statistics, as above. */
    out->max = vx_load((vx_atomic_u64 *)&h->max, VX_RELAXED);
    /* relaxed: statistics, as above. */
    out->sum = vx_load((vx_atomic_u64 *)&h->sum, VX_RELAXED);
}

uint64_t vx_hist_quantile(const vx_hist_snap *s, double q) {
    if (s->count == 0) return 0;
    if (q <= 0) q = 0;
    if (q > 1) q = 1;
    uint64_t rank = (uint64_t)ceil(q * (double)s->count);
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < VX_HIST_BUCKETS; i++) {
        seen += s->counts[i];
        if (seen >= rank) {
            uint64_t hi = vx_hist_bucket_hi(i);
            return hi < s->max ? hi : s->max;
        }
    }
    return s->max;
}
