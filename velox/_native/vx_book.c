/* vx_book.c: order book; see vx_book.h for the design and its invariants. */
#include "vx_book.h"

#include <stdlib.h>
#include <string.h>

#define HINT_RANK1(w) ((uint32_t)((w) & 0xffffffffu))
#define HINT_VERSION(w) ((w) >> 32)
#define HINT_MAKE(version, rank1) (((uint64_t)(version) << 32) | (uint64_t)(rank1))

int vx_book_params_ok(int64_t base_price, uint32_t levels, uint32_t tick_shift, uint32_t max_retries) {
    if (levels < 1 || levels > VX_BOOK_MAX_LEVELS) return VX_EINVAL;
    if (tick_shift > VX_BOOK_MAX_TICK_SHIFT) return VX_EINVAL;
    if (max_retries < 1) return VX_EINVAL;
    if (base_price < 0) return VX_EINVAL;
    /* levels <= 2^20 and tick_shift <= 40: span <= 2^60, no overflow here. */
    int64_t span = (int64_t)levels << tick_shift;
    if (base_price > INT64_MAX - span) return VX_EINVAL;
    return VX_OK;
}

void vx_book_init(vx_book *b, vx_atomic_i64 *bid_qty, vx_atomic_i64 *ask_qty, int64_t base_price,
                  uint32_t levels, uint32_t tick_shift, uint32_t max_retries) {
    b->side[VX_BID].qty = bid_qty;
    b->side[VX_ASK].qty = ask_qty;
    for (uint32_t i = 0; i < levels; i++) {
        vx_init(&bid_qty[i], 0);
        vx_init(&ask_qty[i], 0);
    }
    vx_init(&b->side[VX_BID].hint, HINT_MAKE(0, 0));
    vx_init(&b->side[VX_ASK].hint, HINT_MAKE(0, 0));
    b->base_price = base_price;
    b->levels = levels;
    b->tick_shift = tick_shift;
    b->max_retries = max_retries;
}

vx_book *vx_book_create(int64_t base_price, uint32_t levels, uint32_t tick_shift, uint32_t max_retries,
                        int *err) {
    *err = vx_book_params_ok(base_price, levels, tick_shift, max_retries);
    if (*err != VX_OK) return NULL;
    vx_book *b = aligned_alloc(VX_CACHELINE, sizeof(vx_book));
    size_t bytes = ((size_t)levels * sizeof(vx_atomic_i64) + VX_CACHELINE - 1) / VX_CACHELINE * VX_CACHELINE;
    vx_atomic_i64 *bid = aligned_alloc(VX_CACHELINE, bytes);
    vx_atomic_i64 *ask = aligned_alloc(VX_CACHELINE, bytes);
    if (b == NULL || bid == NULL || ask == NULL) {
        free(b);
        free(bid);
        free(ask);
        *err = VX_ENOMEM;
        return NULL;
    }
    memset(b, 0, sizeof *b);
    vx_book_init(b, bid, ask, base_price, levels, tick_shift, max_retries);
    return b;
}

void vx_book_destroy(vx_book *b) {
    if (b == NULL) return;
    free(b->side[VX_BID].qty);
    free(b->side[VX_ASK].qty);
    free(b);
}

int64_t vx_book_level(const vx_book *b, int64_t price) {
    if (price < b->base_price) return VX_ERANGE;
    /* price >= base_price and both fit in int64, so the difference does too. */
    uint64_t level = (uint64_t)(price - b->base_price) >> b->tick_shift;
    if (level >= b->levels) return VX_ERANGE;
    return (int64_t)level;
}

int64_t vx_book_level_price(const vx_book *b, uint32_t level) {
    return b->base_price + ((int64_t)level << b->tick_shift);
}

static inline uint32_t rank_of(const vx_book *b, int side, uint32_t level) {
    return side == VX_BID ? level : b->levels - 1 - level;
}

static inline void backoff(uint32_t *spins) {
    for (uint32_t i = 0; i < *spins; i++) vx_backoff_hint();
    if (*spins < VX_BOOK_BACKOFF_CAP) *spins *= 2;
}

/* After making `rank` non-empty: raise the hint to at least rank + 1 and bump
 * the version, so that a concurrent lowering (which read the hint before this
 * RMW) fails its compare-exchange. Lock-free, not bounded: giving up here
 * could lose the best price, and a failure means another thread's RMW on the
 * hint succeeded. */
static void hint_raise(vx_book_side *s, uint32_t rank) {
    /* relaxed: only a starting guess for the compare-exchange below, which
     * reads the current value on failure. */
    uint64_t w = vx_load(&s->hint, VX_RELAXED);
    for (;;) {
        uint32_t r1 = HINT_RANK1(w);
        uint32_t want = rank + 1 > r1 ? rank + 1 : r1;
        /* release on success: publishes our non-zero level quantity to any
         * thread that acquires the hint (hint_lower, vx_book_best), so a
         * lowering that read this version scans and sees the level. Failure
         * relaxed: we only retry with the value read. */
        if (vx_cas_weak(&s->hint, &w, HINT_MAKE(HINT_VERSION(w) + 1, want), VX_RELEASE, VX_RELAXED)) return;
    }
}

/* Highest non-empty rank at or below `from` (inclusive), as rank + 1; 0 if none. */
static uint32_t scan_down(vx_book_side *s, uint32_t from_rank1) {
    for (uint32_t r1 = from_rank1; r1 > 0; r1--) {
        /* relaxed: the caller's acquire load of the hint already ordered the
         * writes this scan must see; a level changing during the scan is a
         * concurrent update, resolved by the version check or by its own
         * hint_raise. */
        if (vx_load(&s->qty[r1 - 1], VX_RELAXED) > 0) return r1;
    }
    return 0;
}

/* After emptying `rank`: if the hint points at it, try once to lower it. A
 * failed attempt leaves the hint high, which is safe (queries scan down). */
static void hint_lower(vx_book_side *s, uint32_t rank) {
    /* acquire: pairs with the release RMW in hint_raise, so every level that
     * was made non-empty before the version we read is visible to the scan. */
    uint64_t w = vx_load(&s->hint, VX_ACQUIRE);
    if (HINT_RANK1(w) != rank + 1) return;
    uint32_t best1 = scan_down(s, rank + 1);
    /* relaxed on success: the RMW continues the release sequence of earlier
     * hint_raise calls, and it publishes nothing of its own. Strong: a
     * spurious failure would only leave the hint high, but strong avoids
     * needless scans. */
    (void)vx_cas_strong(&s->hint, &w, HINT_MAKE(HINT_VERSION(w) + 1, best1), VX_RELAXED, VX_RELAXED);
}

static int update_level(vx_book *b, int side, int64_t price, int64_t delta, uint32_t attempts) {
    if (side != VX_BID && side != VX_ASK) return VX_EINVAL;
    int64_t level = vx_book_level(b, price);
    if (level < 0) return (int)level;
    uint32_t rank = rank_of(b, side, (uint32_t)level);
    vx_book_side *s = &b->side[side];
    vx_atomic_i64 *q = &s->qty[rank];
    /* relaxed: a starting guess; the compare-exchange checks it. */
    int64_t cur = vx_load(q, VX_RELAXED);
    uint32_t spins = 1;
    for (uint32_t attempt = 0;; attempt++) {
        if (attempt == attempts) return VX_ETIMEOUT;
        int64_t next;
        if (delta > 0) {
            if (cur > INT64_MAX - delta) return VX_EOVERFLOW;
            next = cur + delta;
        } else {
            if (cur < -delta) return VX_EUNDERFLOW;
            next = cur + delta;
        }
        /* relaxed: quantities are counters; RMW atomicity alone conserves
         * them. What other threads must see (this level became non-empty) is
         * published by the release RMW in hint_raise, after this. */
        if (vx_cas_weak(q, &cur, next, VX_RELAXED, VX_RELAXED)) {
            if (cur == 0 && next > 0) hint_raise(s, rank);
            else if (next == 0) hint_lower(s, rank);
            return VX_OK;
        }
        backoff(&spins);
    }
}

int vx_book_add(vx_book *b, int side, int64_t price, int64_t qty) {
    if (qty <= 0) return VX_EINVAL;
    return update_level(b, side, price, qty, b->max_retries);
}

int vx_book_remove(vx_book *b, int side, int64_t price, int64_t qty) {
    if (qty <= 0) return VX_EINVAL;
    return update_level(b, side, price, -qty, b->max_retries);
}

int vx_book_update(vx_book *b, int side, int64_t price, int64_t delta, uint32_t attempts) {
    if (delta == 0 || delta == INT64_MIN || attempts < 1) return VX_EINVAL;
    return update_level(b, side, price, delta, attempts);
}

int64_t vx_book_depth(vx_book *b, int side, int64_t price) {
    if (side != VX_BID && side != VX_ASK) return VX_EINVAL;
    int64_t level = vx_book_level(b, price);
    if (level < 0) return level;
    /* relaxed: a single counter read; exact at quiescence by coherence. */
    return vx_load(&b->side[side].qty[rank_of(b, side, (uint32_t)level)], VX_RELAXED);
}

int vx_book_best(vx_book *b, int side, int64_t *price) {
    vx_book_side *s = &b->side[side];
    /* acquire: pairs with the release RMW in hint_raise, so levels made
     * non-empty before the hint we read are visible to the scan. */
    uint64_t w = vx_load(&s->hint, VX_ACQUIRE);
    uint32_t best1 = scan_down(s, HINT_RANK1(w));
    if (best1 == 0) return 0;
    uint32_t rank = best1 - 1;
    uint32_t level = side == VX_BID ? rank : b->levels - 1 - rank;
    *price = vx_book_level_price(b, level);
    return 1;
}
