/*
 * vx_book.h: lock-free order book of aggregated price levels.
 *
 * Each side holds `levels` counters of resting quantity. A price p maps to
 * level (p - base_price) >> tick_shift; a price outside
 * [base_price, base_price + (levels << tick_shift)) is an error, never clamped.
 * A level's quantity changes by a compare-exchange-weak loop with exponential
 * backoff (spin hints doubling up to VX_BOOK_BACKOFF_CAP) and at most
 * max_retries attempts: under pathological contention the call reports
 * VX_ETIMEOUT and changes nothing, instead of spinning forever. A removal that
 * would go below zero fails with VX_EUNDERFLOW and changes nothing.
 *
 * Both sides are stored by *rank*, best first at the top: for bids rank ==
 * level, for asks rank == levels - 1 - level, so "higher rank is better" on
 * both sides and one code path serves both.
 *
 * Best price: each side keeps a two-level bitmap of its ranks. Bit r of the
 * first level (word r / 64) says rank r may be non-empty; bit w of the second
 * level says first-level word w may be non-zero. The best rank is the highest
 * set bit of the highest non-zero second-level word, then of the first-level
 * word it names (two count-leading-zeros), confirmed by reading the level's
 * quantity. An update that fills a level (0 -> positive) sets its bit unless
 * it reads it set already; an update that empties a level leaves the bit
 * alone, and the first query that meets the stale bit clears it, re-reads
 * the quantity and sets the bit again if the level was refilled meanwhile.
 * The filler's quantity update and bit check and the query's clear and
 * re-read are seq_cst, which rules out the store-buffering outcome where
 * both miss each other. So an add/cancel pair costs two RMWs (the two
 * quantity updates) plus, rarely, one to set a bit; best_bid / best_ask are
 * exact at quiescence. A book with a single writer can skip the RMWs
 * (vx_book_owner_add / _remove): one locked instruction per fill, none
 * otherwise. The argument is in docs/order-book.md; the explorer
 * checks it on this code (tests/explore_c) and so does the stress suite.
 */
#ifndef VX_BOOK_H
#define VX_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "vx_atomic.h"
#include "vx_txn.h"

#define VX_BOOK_BACKOFF_CAP 64
#define VX_BOOK_DEFAULT_RETRIES 100
#define VX_BOOK_MAX_LEVELS (1u << 20)
#define VX_BOOK_MAX_TICK_SHIFT 40

/** Ranks per bitmap word. */
#define VX_BOOK_WORD_BITS 64

typedef struct vx_book_side {
    /** qty[rank]: resting quantity at that rank, >= 0. */
    _Alignas(VX_CACHELINE) vx_atomic_i64 *qty;
    /** First level: bit (r % 64) of words[r / 64] is set when rank r may be
     *  non-empty (never clear for a non-empty rank at quiescence); set by
     *  fills, cleared by queries that find the level empty. */
    vx_atomic_u64 *words;
    /** Second level: bit (w % 64) of summary[w / 64] is set when words[w]
     *  may be non-zero (never clear for a non-zero word at quiescence). */
    vx_atomic_u64 *summary;
    uint32_t nwords;    /**< ceil(levels / 64) */
    uint32_t nsummary;  /**< ceil(nwords / 64): 1 for up to 4096 levels */
} vx_book_side;

typedef struct vx_book {
    vx_book_side side[2];  /**< indexed by enum vx_side */
    int64_t base_price;    /**< price of level 0, in ticks */
    uint32_t levels;       /**< levels per side */
    uint32_t tick_shift;   /**< log2 of ticks per level */
    uint32_t max_retries;  /**< compare-exchange attempts before VX_ETIMEOUT */
} vx_book;

/** Validate parameters (VX_EINVAL when the price range would not fit in int64). */
int vx_book_params_ok(int64_t base_price, uint32_t levels, uint32_t tick_shift, uint32_t max_retries);
vx_book *vx_book_create(int64_t base_price, uint32_t levels, uint32_t tick_shift, uint32_t max_retries,
                        int *err);
void vx_book_destroy(vx_book *b);

/** Level of a price, or VX_ERANGE. */
int64_t vx_book_level(const vx_book *b, int64_t price);
/** Lowest price of a level. */
int64_t vx_book_level_price(const vx_book *b, uint32_t level);

/** Add qty (> 0) at price: VX_OK, VX_EINVAL, VX_ERANGE, VX_EOVERFLOW or VX_ETIMEOUT. */
int vx_book_add(vx_book *b, int side, int64_t price, int64_t qty);
/** Remove qty (> 0) at price: VX_OK, VX_EINVAL, VX_ERANGE, VX_EUNDERFLOW or VX_ETIMEOUT. */
int vx_book_remove(vx_book *b, int side, int64_t price, int64_t qty);
/** Add (delta > 0) or remove (delta < 0) with at most `attempts` compare-exchange
 *  attempts (VX_ETIMEOUT beyond, nothing changed). The Python binding makes one
 *  attempt holding the GIL and releases it only for the retries. */
int vx_book_update(vx_book *b, int side, int64_t price, int64_t delta, uint32_t attempts);
/** Single-writer updates, for a book that only one thread ever writes (the
 *  pipeline's book stage): the same results and checks as vx_book_add and
 *  vx_book_remove (never VX_ETIMEOUT), but the level's quantity is written
 *  with a store instead of a compare-exchange. Only a fill (0 -> positive)
 *  pays a locked instruction (its seq_cst store, which the store-buffering
 *  argument with concurrent queries needs); other updates are plain stores.
 *  Any number of threads may query (depth, best) meanwhile. No other thread
 *  may write the book in any way: two writers would lose updates. */
int vx_book_owner_add(vx_book *b, int side, int64_t price, int64_t qty);
int vx_book_owner_remove(vx_book *b, int side, int64_t price, int64_t qty);
/** Resting quantity at the level holding price (VX_ERANGE / VX_EINVAL as negatives). */
int64_t vx_book_depth(vx_book *b, int side, int64_t price);
/** Best level's price into *price; returns 1, or 0 when the side is empty.
 *  Clears the bits of levels it finds empty on the way. */
int vx_book_best(vx_book *b, int side, int64_t *price);

#endif /* VX_BOOK_H */
