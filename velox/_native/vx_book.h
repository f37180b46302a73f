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
 * exact at quiescence.
 *
 * A single-writer book (vx_book_create_single_writer; the pipeline's book
 * stage owns one) has no locked instruction at all: its one writer updates
 * with vx_book_owner_add / _remove, plain stores, and sets a level's bits on
 * a fill with plain stores too; the bits are the writer's alone. Queries
 * from other threads (vx_book_best) only read and skip the stale bits of
 * emptied levels; the writer's own queries (vx_book_owner_best) clear the
 * stale bits they meet, so its best price stays a few instructions away.
 * With nothing but reads racing the writer's stores, no store-buffering
 * argument is needed: a bit is set whenever its level is non-empty and the
 * writer is between updates. The argument is in docs/order-book.md; the explorer
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
    int single_writer;     /**< set at creation: one writer, owner updates only */
    int64_t base_price;    /**< price of level 0, in ticks */
    uint32_t levels;       /**< levels per side */
    uint32_t tick_shift;   /**< log2 of ticks per level */
    uint32_t max_retries;  /**< compare-exchange attempts before VX_ETIMEOUT */
} vx_book;

/** Validate parameters (VX_EINVAL when the price range would not fit in int64). */
int vx_book_params_ok(int64_t base_price, uint32_t levels, uint32_t tick_shift, uint32_t max_retries);
vx_book *vx_book_create(int64_t base_price, uint32_t levels, uint32_t tick_shift, uint32_t max_retries,
                        int *err);
/** A single-writer book: only vx_book_owner_add / _remove may update it,
 *  from one thread at a time (with happens-before between successive
 *  writers, as a lock or a thread hand-off gives); vx_book_add / _remove /
 *  _update return VX_EINVAL on it. Any number of threads may query it. */
vx_book *vx_book_create_single_writer(int64_t base_price, uint32_t levels, uint32_t tick_shift, int *err);
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
/** Updates of a single-writer book by its writer (VX_EINVAL on any other
 *  book): the same results and checks as vx_book_add and vx_book_remove,
 *  never VX_ETIMEOUT, no locked instruction. Two threads writing at once
 *  would lose updates: the caller guarantees one writer. */
int vx_book_owner_add(vx_book *b, int side, int64_t price, int64_t qty);
int vx_book_owner_remove(vx_book *b, int side, int64_t price, int64_t qty);
/** Resting quantity at the level holding price (VX_ERANGE / VX_EINVAL as negatives). */
int64_t vx_book_depth(vx_book *b, int side, int64_t price);
/** Best level's price into *price; returns 1, or 0 when the side is empty.
 *  In a shared book, clears the bits of levels it finds empty on the way;
 *  in a single-writer book it only reads. */
int vx_book_best(vx_book *b, int side, int64_t *price);
/** vx_book_best for a single-writer book's writer (VX_EINVAL on any other
 *  book, as a negative): clears, with plain stores, the stale bits of the
 *  emptied levels it meets. */
int vx_book_owner_best(vx_book *b, int side, int64_t *price);

#endif /* VX_BOOK_H */
