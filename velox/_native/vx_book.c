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

vx_book *vx_book_create_single_writer(int64_t base_price, uint32_t levels, uint32_t tick_shift, int *err) {
    vx_book *b = vx_book_create(base_price, levels, tick_shift, 1, err);
    /* A plain field: written before the book is handed to any other thread,
     * which needs happens-before for the book itself anyway. */
    if (b != NULL) b->single_writer = 1;
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

/* After a 0 -> positive update of `rank`: make sure its bit is set, and if
 * its word was zero, the word's bit one level up. Most fills find the bit
 * still set (bits are cleared only by queries that find the level empty), so
 * the common case is one plain load and no RMW. Every access here and in
 * clear_rank / clear_word is seq_cst, and so is the quantity update before
 * it: that is what makes skipping safe (docs/order-book.md). */
static void mark_nonempty(vx_book_side *s, uint32_t rank) {
    uint32_t w = WORD_OF(rank);
    /* seq_cst: with the seq_cst compare-exchange that filled the level,
     * against the seq_cst fetch-and and re-read in clear_rank: store
     * buffering is forbidden, so either this load sees a concurrent clear
     * (and we set the bit) or that clear's re-read sees our quantity (and
     * the clearer sets it again). */
    if (vx_load(&s->words[w], VX_SEQ_CST) & BIT_OF(rank)) return;
    /* seq_cst: as above; this RMW is also the word's 0 -> non-zero write
     * that the summary's store-buffering argument (clear_word) starts from. */
    uint64_t old = vx_fetch_or(&s->words[w], BIT_OF(rank), VX_SEQ_CST);
    if (old != 0) return;
    uint32_t t = WORD_OF(w);
    /* seq_cst: the same argument one level up, against clear_word. */
    if (vx_load(&s->summary[t], VX_SEQ_CST) & BIT_OF(w)) return;
    /* seq_cst: as above. */
    vx_fetch_or(&s->summary[t], BIT_OF(w), VX_SEQ_CST);
}

/* A query found words[w] zero under a set summary bit: clear the bit, re-read
 * the word and set the bit again if a concurrent fill made it non-zero. */
static void clear_word(vx_book_side *s, uint32_t w) {
    uint32_t t = WORD_OF(w);
    /* seq_cst: one side of the store-buffering pair with mark_nonempty. */
    vx_fetch_and(&s->summary[t], ~BIT_OF(w), VX_SEQ_CST);
    /* seq_cst: the re-read of that pair; sees a concurrent 0 -> non-zero
     * fetch-or of the word unless that filler's own load saw our clear. */
    if (vx_load(&s->words[w], VX_SEQ_CST) != 0)
        /* seq_cst: as in mark_nonempty. */
        vx_fetch_or(&s->summary[t], BIT_OF(w), VX_SEQ_CST);
}

/* A query found `rank` empty under a set bit: clear the bit, re-read the
 * quantity and, if a concurrent fill made it positive, set the bit again and
 * return 1 (the level is non-empty after all). */
static int clear_rank(vx_book_side *s, uint32_t rank) {
    uint32_t w = WORD_OF(rank);
    /* seq_cst: one side of the store-buffering pair with mark_nonempty. */
    uint64_t old = vx_fetch_and(&s->words[w], ~BIT_OF(rank), VX_SEQ_CST);
    /* seq_cst: the re-read of that pair (see mark_nonempty). */
    if (vx_load(&s->qty[rank], VX_SEQ_CST) > 0) {
        mark_nonempty(s, rank);
        return 1;
    }
    if ((old & ~BIT_OF(rank)) == 0) clear_word(s, w);
    return 0;
}

/* Where an update of (side, price) lands: its side, rank and quantity, or
 * the error (VX_EINVAL: a bad side, or a book of the other kind than the
 * caller's update; VX_ERANGE: a price outside the book). */
static int locate(vx_book *b, int side, int64_t price, int single_writer, vx_book_side **s, uint32_t *rank) {
    if (side != VX_BID && side != VX_ASK) return VX_EINVAL;
    if (b->single_writer != single_writer) return VX_EINVAL; /* each kind has its own updates */
    int64_t level = vx_book_level(b, price);
    if (level < 0) return (int)level;
    *rank = rank_of(b, side, (uint32_t)level);
    *s = &b->side[side];
    return VX_OK;
}

static int update_level(vx_book *b, int side, int64_t price, int64_t delta, uint32_t attempts) {
    vx_book_side *s = NULL; /* set by locate when it returns VX_OK */
    uint32_t rank = 0;
    int err = locate(b, side, price, 0, &s, &rank);
    if (err != VX_OK) return err;
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
        /* seq_cst on success: RMW atomicity alone conserves the counter, but
         * a fill must not be reordered after mark_nonempty's load of its bit
         * (the store-buffering pair with clear_rank); x86 emits the same
         * locked instruction for any order. Failure relaxed: we only retry
         * with the value read. An update that empties the level leaves its
         * bit set: the next query that meets it clears it (clear_rank). */
        if (vx_cas_weak(q, &cur, next, VX_SEQ_CST, VX_RELAXED)) {
            if (cur == 0 && next > 0) mark_nonempty(s, rank);
            return VX_OK;
        }
        backoff(&spins);
    }
}

/* Set `bit` in *word for a single-writer book's writer; returns whether the
 * word was zero. The bits are the writer's alone (its queries clear them
 * with plain stores, other threads' queries only read). */
static int owner_set_bit(vx_atomic_u64 *word, uint64_t bit) {
    /* relaxed: only the writer stores here, so this reads its own last store. */
    uint64_t old = vx_load(word, VX_RELAXED);
    /* release: a query that reads the bit (its loads are seq_cst, so
     * acquire) also reads the quantity stored before it. */
    if (!(old & bit)) vx_store(word, old | bit, VX_RELEASE);
    return old == 0;
}

/* update_level for a single-writer book: the calling thread is its writer. */
static int owner_update(vx_book *b, int side, int64_t price, int64_t delta) {
    vx_book_side *s = NULL; /* set by locate when it returns VX_OK */
    uint32_t rank = 0;
    int err = locate(b, side, price, 1, &s, &rank);
    if (err != VX_OK) return err;
    vx_atomic_i64 *q = &s->qty[rank];
    /* relaxed: the writer's own last store (single writer), so the checks
     * below are exact. */
    int64_t cur = vx_load(q, VX_RELAXED);
    if (delta > 0 ? cur > INT64_MAX - delta : cur < -delta) return delta > 0 ? VX_EOVERFLOW : VX_EUNDERFLOW;
    /* relaxed: the counter publishes nothing; a query needs only coherence
     * for it, and a fill's bit store below is the release that orders it. */
    vx_store(q, cur + delta, VX_RELAXED);
    if (cur == 0) { /* a fill (cur == 0 cannot be a removal: no underflow) */
        uint32_t w = WORD_OF(rank);
        /* Emptying leaves the bits set; the writer's next query clears them. */
        if (owner_set_bit(&s->words[w], BIT_OF(rank))) owner_set_bit(&s->summary[WORD_OF(w)], BIT_OF(w));
    }
    return VX_OK;
}

int vx_book_owner_add(vx_book *b, int side, int64_t price, int64_t qty) {
    if (qty <= 0) return VX_EINVAL;
    return owner_update(b, side, price, qty);
}

int vx_book_owner_remove(vx_book *b, int side, int64_t price, int64_t qty) {
    if (qty <= 0) return VX_EINVAL;
    return owner_update(b, side, price, -qty);
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

/* How a query treats the stale bits it meets. */
enum { QUERY_SHARED, QUERY_READ_ONLY, QUERY_OWNER };

/* A single-writer book's writer clears bit `bit` of *word: plain stores, as
 * nothing else writes them. Returns whether the word is zero after. */
static int owner_clear_bit(vx_atomic_u64 *word, uint64_t bit) {
    /* relaxed: the writer's own last store (single writer). */
    uint64_t next = vx_load(word, VX_RELAXED) & ~bit;
    /* relaxed: a cleared bit publishes nothing; other threads' queries that
     * still see it set confirm it by the level's quantity. */
    vx_store(word, next, VX_RELAXED);
    return next == 0;
}

/* Highest rank whose quantity is positive, as rank + 1 (0: none). A shared
 * book's queries clear the bits over levels they find empty (clear_rank,
 * clear_word), a single-writer book's writer clears them with plain stores,
 * and other threads' queries of a single-writer book only read. */
static uint32_t best_rank1(vx_book_side *s, int how) {
    for (uint32_t t = s->nsummary; t-- > 0;) {
        /* seq_cst: pairs with the seq_cst fetch-or in mark_nonempty; a fill
         * that set nothing because its bit was set is covered by the bit.
         * (A single-writer book: acquire would do, pairing with the release
         * in owner_set_bit.) */
        uint64_t top = vx_load(&s->summary[t], VX_SEQ_CST);
        while (top != 0) {
            uint32_t w = t * VX_BOOK_WORD_BITS + top_bit(top);
            top &= ~BIT_OF(w);
            /* seq_cst: as above, for the word's bits. */
            uint64_t word = vx_load(&s->words[w], VX_SEQ_CST);
            if (word == 0) {
                if (how == QUERY_SHARED) clear_word(s, w);
                else if (how == QUERY_OWNER) owner_clear_bit(&s->summary[t], BIT_OF(w));
                continue;
            }
            while (word != 0) {
                uint32_t rank = w * VX_BOOK_WORD_BITS + top_bit(word);
                word &= ~BIT_OF(rank);
                /* seq_cst: a fill's quantity write before its bit check
                 * (update_level) is ordered before this read. */
                if (vx_load(&s->qty[rank], VX_SEQ_CST) > 0) return rank + 1;
                if (how == QUERY_SHARED && clear_rank(s, rank)) return rank + 1;
                if (how == QUERY_OWNER && owner_clear_bit(&s->words[w], BIT_OF(rank)))
                    owner_clear_bit(&s->summary[t], BIT_OF(w));
            }
        }
    }
    return 0;
}

static int best_price(vx_book *b, int side, int64_t *price, int how) {
    uint32_t best1 = best_rank1(&b->side[side], how);
    if (best1 == 0) return 0;
    uint32_t rank = best1 - 1;
    uint32_t level = side == VX_BID ? rank : b->levels - 1 - rank;
    *price = vx_book_level_price(b, level);
    return 1;
}

int vx_book_best(vx_book *b, int side, int64_t *price) {
    return best_price(b, side, price, b->single_writer ? QUERY_READ_ONLY : QUERY_SHARED);
}

int vx_book_owner_best(vx_book *b, int side, int64_t *price) {
    if (!b->single_writer) return VX_EINVAL;
    return best_price(b, side, price, QUERY_OWNER);
}
