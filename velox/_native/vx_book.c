/* vx_book.c: order book; see vx_book.h for the design and its invariants. */
#include "vx_book.h"

#include <stdlib.h>
#include <string.h>

#define WORD_OF(i) ((i) / VX_BOOK_WORD_BITS)
#define BIT_OF(i) (UINT64_C(1) << ((i) % VX_BOOK_WORD_BITS))

/* Index of the highest set bit of a non-zero word. */
static inline uint32_t top_bit(uint64_t w) { return 63u - (uint32_t)__builtin_clzll(w); }

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

/* Bytes of one side's block: quantities, then first-level words, then
 * second-level words, the whole rounded up to cache lines. */
static size_t side_bytes(uint32_t levels, uint32_t *nwords, uint32_t *nsummary) {
    *nwords = (levels + VX_BOOK_WORD_BITS - 1) / VX_BOOK_WORD_BITS;
    *nsummary = (*nwords + VX_BOOK_WORD_BITS - 1) / VX_BOOK_WORD_BITS;
    size_t bytes = (size_t)levels * sizeof(vx_atomic_i64) + (size_t)(*nwords + *nsummary) * sizeof(vx_atomic_u64);
    return (bytes + VX_CACHELINE - 1) / VX_CACHELINE * VX_CACHELINE;
}

/* Lay one side out in `block` (side_bytes long) with every level empty. */
static void side_init(vx_book_side *s, void *block, uint32_t levels) {
    side_bytes(levels, &s->nwords, &s->nsummary);
    s->qty = block;
    s->words = (vx_atomic_u64 *)(s->qty + levels);
    s->summary = s->words + s->nwords;
    for (uint32_t i = 0; i < levels; i++) vx_init(&s->qty[i], 0);
    for (uint32_t i = 0; i < s->nwords; i++) vx_init(&s->words[i], 0);
    for (uint32_t i = 0; i < s->nsummary; i++) vx_init(&s->summary[i], 0);
}

vx_book *vx_book_create(int64_t base_price, uint32_t levels, uint32_t tick_shift, uint32_t max_retries,
                        int *err) {
    *err = vx_book_params_ok(base_price, levels, tick_shift, max_retries);
    if (*err != VX_OK) return NULL;
    uint32_t nwords, nsummary;
    size_t bytes = side_bytes(levels, &nwords, &nsummary);
    vx_book *b = aligned_alloc(VX_CACHELINE, sizeof(vx_book));
    void *bid = aligned_alloc(VX_CACHELINE, bytes);
    void *ask = aligned_alloc(VX_CACHELINE, bytes);
    if (b == NULL || bid == NULL || ask == NULL) {
        free(b);
        free(bid);
        free(ask);
        *err = VX_ENOMEM;
        return NULL;
    }
    memset(b, 0, sizeof *b);
    side_init(&b->side[VX_BID], bid, levels);
    side_init(&b->side[VX_ASK], ask, levels);
    b->base_price = base_price;
    b->levels = levels;
    b->tick_shift = tick_shift;
    b->max_retries = max_retries;
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

/* After making `rank` non-empty: set its bit, and if its word was zero, the
 * word's bit in the second level. Each set is a release RMW: a remover whose
 * clearing RMW comes later in the word's modification order acquires it
 * (the word's RMWs form one release sequence), so its recheck sees our
 * quantity (or a later one) and it sets the bit again (docs/order-book.md). */
static void mark_nonempty(vx_book_side *s, uint32_t rank) {
    uint32_t w = WORD_OF(rank);
    /* release: publishes our non-zero quantity at `rank` to the acquire
     * fetch-and of a later clear (mark_empty's recheck) and to the acquire
     * loads of vx_book_best. */
    uint64_t old = vx_fetch_or(&s->words[w], BIT_OF(rank), VX_RELEASE);
    if (old != 0) return;
    /* release: as above one level up: publishes words[w] != 0 to a later
     * clear of the summary bit (its recheck) and to vx_book_best. */
    vx_fetch_or(&s->summary[WORD_OF(w)], BIT_OF(w), VX_RELEASE);
}

/* After emptying `rank`: clear its bit, then re-read the quantity; if an
 * adder refilled the level meanwhile, set the bit again (that adder's own
 * set may have come before our clear). Same for the summary bit when the
 * word became zero. A stale set bit (an empty level) only costs a query a
 * skipped bit; a clear bit over a non-empty level would lose it, and the
 * recheck is what rules that out. */
static void mark_empty(vx_book_side *s, uint32_t rank) {
    uint32_t w = WORD_OF(rank);
    /* acquire: if a mark_nonempty's release fetch-or precedes this RMW in the
     * word's modification order, its quantity write is visible to the
     * recheck below. */
    uint64_t old = vx_fetch_and(&s->words[w], ~BIT_OF(rank), VX_ACQUIRE);
    /* relaxed: ordered after the acquire RMW above, which is all the recheck
     * needs (coherence gives the adder's write or a later one). */
    if (vx_load(&s->qty[rank], VX_RELAXED) > 0) {
        mark_nonempty(s, rank);
        return;
    }
    if ((old & ~BIT_OF(rank)) != 0) return;
    /* acquire: as above, against the release fetch-or of the summary bit by
     * a thread that made words[w] non-zero. */
    vx_fetch_and(&s->summary[WORD_OF(w)], ~BIT_OF(w), VX_ACQUIRE);
    /* relaxed: ordered after the acquire RMW above. */
    if (vx_load(&s->words[w], VX_RELAXED) != 0)
        /* release: as in mark_nonempty. */
        vx_fetch_or(&s->summary[WORD_OF(w)], BIT_OF(w), VX_RELEASE);
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
         * published by the release RMW in mark_nonempty, after this. */
        if (vx_cas_weak(q, &cur, next, VX_RELAXED, VX_RELAXED)) {
            if (cur == 0 && next > 0) mark_nonempty(s, rank);
            else if (next == 0) mark_empty(s, rank);
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

/* Highest rank whose quantity is positive, as rank + 1 (0: none). */
static uint32_t best_rank1(vx_book_side *s) {
    for (uint32_t t = s->nsummary; t-- > 0;) {
        /* acquire: pairs with the release fetch-or in mark_nonempty, so the
         * first-level words announced here are visible. */
        uint64_t top = vx_load(&s->summary[t], VX_ACQUIRE);
        while (top != 0) {
            uint32_t w = t * VX_BOOK_WORD_BITS + top_bit(top);
            /* acquire: pairs with the release fetch-or in mark_nonempty, so
             * the quantity of every rank announced here is visible. */
            uint64_t word = vx_load(&s->words[w], VX_ACQUIRE);
            while (word != 0) {
                uint32_t rank = w * VX_BOOK_WORD_BITS + top_bit(word);
                /* relaxed: ordered after the acquire load of its word. */
                if (vx_load(&s->qty[rank], VX_RELAXED) > 0) return rank + 1;
                word &= ~BIT_OF(rank); /* a stale bit: the level is empty */
            }
            top &= ~BIT_OF(w);
        }
    }
    return 0;
}

int vx_book_best(vx_book *b, int side, int64_t *price) {
    uint32_t best1 = best_rank1(&b->side[side]);
    if (best1 == 0) return 0;
    uint32_t rank = best1 - 1;
    uint32_t level = side == VX_BID ? rank : b->levels - 1 - rank;
    *price = vx_book_level_price(b, level);
    return 1;
}
