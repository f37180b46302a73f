/* vx_hist.c: log-linear histogram; see vx_hist.h. */
#include "vx_hist.h"

#include <math.h>

void vx_hist_init(vx_hist *h) {
    vx_init(&h->max, 0);
    vx_init(&h->sum, 0);
    for (uint32_t i = 0; i < VX_HIST_BUCKETS; i++) vx_init(&h->counts[i], 0);
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
