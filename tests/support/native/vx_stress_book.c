/* vx_stress_book.c: the order-book stress driver (threads add and remove owned
 * quantities on shared levels; conservation, exact best prices at
 * quiescence); see vx_stress.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_atomic.h"
#include "vx_stress.h"
#include "vx_stress_util.h"
#include "vx_book.h"

#define BOOK_BASE 1000000

struct vx_stress_book;
typedef struct book_thread {
    struct vx_stress_book *d;
    uint32_t index;
    uint64_t prng;
    vx_stress_result res;
} book_thread;

struct vx_stress_book {
    vx_book *book;
    uint32_t threads, levels, max_qty;
    uint64_t seed;
    /** owned[(t * 2 + side) * levels + level]: quantity thread t added and has
     *  not removed; private to thread t while threads run. */
    int64_t *owned;
    book_thread *th;
    uint64_t max_ops, deadline_ns;
    int stalled; /* a slice's threads never finished: unusable, never freed */
};

static void *book_worker(void *arg) {
    book_thread *bt = arg;
    vx_stress_book *d = bt->d;
    vx_stress_result *r = &bt->res;
    uint32_t half = d->levels / 2;
    uint64_t done = 0;
    uint32_t iter = 0;
    while (!slice_over(done, d->max_ops, d->deadline_ns, &iter)) {
        uint64_t c = rnd(&bt->prng);
        int side = (int)(c & 1);
        /* bids on levels [0, half), asks on [half, levels): never crossed */
        uint32_t level = (uint32_t)((c >> 1) % half) + (side == VX_ASK ? half : 0);
        int64_t price = BOOK_BASE + level;
        int64_t *own = &d->owned[((size_t)bt->index * 2 + (size_t)side) * d->levels + level];
        int is_remove = *own > 0 && ((c >> 20) % 3) != 0;
        int64_t qty;
        int rc;
        if (is_remove) {
            /* half the removals take everything this thread owns there, so
             * levels empty often and their bitmap bits must come down */
            qty = ((c >> 24) & 1) ? *own : 1 + (int64_t)((c >> 32) % (uint64_t)*own);
            rc = vx_book_remove(d->book, side, price, qty);
        } else {
            qty = 1 + (int64_t)((c >> 32) % d->max_qty);
            rc = vx_book_add(d->book, side, price, qty);
        }
        done++;
        r->checks++;
        if (rc == VX_OK) {
            *own += is_remove ? -qty : qty;
        } else if (rc == VX_ETIMEOUT) {
            r->timeouts++; /* changed nothing, by contract */
        } else {
            vx_stress_violation(r, "book: %s(%s, %lld, %lld) by thread %u returned %s although the thread owns %lld there",
                      is_remove ? "remove" : "add", side == VX_BID ? "bid" : "ask", (long long)price,
                      (long long)qty, bt->index, vx_strerror(rc), (long long)*own);
        }
    }
    r->ops = done;
    return NULL;
}

/* Quiescent checks: conserved quantity per level, exact best prices, spread. */
static void book_check_quiescent(vx_stress_book *d, vx_stress_result *r) {
    int64_t best[2] = {-1, -1};
    for (int side = 0; side < 2; side++) {
        for (uint32_t level = 0; level < d->levels; level++) {
            int64_t want = 0;
            for (uint32_t t = 0; t < d->threads; t++) want += d->owned[((size_t)t * 2 + (size_t)side) * d->levels + level];
            int64_t got = vx_book_depth(d->book, side, BOOK_BASE + level);
            r->checks++;
            if (got != want)
                vx_stress_violation(r, "book: %s level %u holds %lld at quiescence, the threads' adds minus removes "
                          "total %lld (quantity not conserved)", side == VX_BID ? "bid" : "ask", level,
                          (long long)got, (long long)want);
            if (want > 0) {
                if (side == VX_BID) best[side] = BOOK_BASE + level;           /* highest non-empty bid */
                else if (best[side] < 0) best[side] = BOOK_BASE + level;      /* lowest non-empty ask */
            }
        }
        int64_t p = -1;
        if (!vx_book_best(d->book, side, &p)) p = -1;
        r->checks++;
        if (p != best[side])
            vx_stress_violation(r, "book: best %s is %lld at quiescence, recomputed from the levels %lld (-1: empty)",
                      side == VX_BID ? "bid" : "ask", (long long)p, (long long)best[side]);
    }
    if (best[VX_BID] >= 0 && best[VX_ASK] >= 0) {
        int64_t b, a;
        r->checks++;
        if (vx_book_best(d->book, VX_BID, &b) && vx_book_best(d->book, VX_ASK, &a) && a - b < 0)
            vx_stress_violation(r, "book: spread %lld < 0 on non-crossing input", (long long)(a - b));
    }
}

vx_stress_book *vx_stress_book_create(uint32_t threads, uint32_t levels, uint32_t max_qty, uint64_t seed,
                                      int *err) {
    if (threads < 1 || threads > MAX_THREADS || levels < 2 || levels > 4096 || max_qty < 1) {
        *err = VX_EINVAL;
        return NULL;
    }
    vx_stress_book *d = calloc(1, sizeof *d);
    if (d == NULL) {
        *err = VX_ENOMEM;
        return NULL;
    }
    d->owned = calloc((size_t)threads * 2 * levels, sizeof(int64_t));
    d->th = calloc(threads, sizeof(book_thread));
    d->book = vx_book_create(BOOK_BASE, levels, 0, VX_BOOK_DEFAULT_RETRIES, err);
    if (d->owned == NULL || d->th == NULL || d->book == NULL) {
        if (d->book != NULL) *err = VX_ENOMEM;
        vx_book_destroy(d->book);
        free(d->owned);
        free(d->th);
        free(d);
        return NULL;
    }
    d->threads = threads;
    d->levels = levels;
    d->max_qty = max_qty;
    d->seed = seed;
    for (uint32_t t = 0; t < threads; t++) {
        d->th[t].d = d;
        d->th[t].index = t;
        d->th[t].prng = seed_state(seed, 100 + t);
    }
    *err = VX_OK;
    return d;
}

int vx_stress_book_run(vx_stress_book *d, uint64_t max_ops, uint64_t duration_ns, vx_stress_result *out) {
    memset(out, 0, sizeof *out);
    if (d->stalled) return VX_EINVAL;
    d->max_ops = max_ops;
    d->deadline_ns = vx_mono_ns() + duration_ns;
    for (uint32_t t = 0; t < d->threads; t++) memset(&d->th[t].res, 0, sizeof d->th[t].res);
    pthread_t tids[MAX_THREADS];
    uint32_t started = vx_stress_start_threads(tids, d->threads, book_worker, d->th, sizeof(book_thread));
    /* the started workers stop at the deadline on their own */
    if (!vx_stress_join_or_stall(tids, started, d->deadline_ns, out, "book")) {
        d->stalled = 1;
        return VX_ETIMEOUT;
    }
    for (uint32_t t = 0; t < started; t++) vx_stress_merge(out, &d->th[t].res);
    book_check_quiescent(d, out);
    return started == d->threads ? VX_OK : VX_ENOMEM;
}

void vx_stress_book_destroy(vx_stress_book *d) {
    if (d == NULL || d->stalled) return; /* stalled threads may still use it: leak it */
    vx_book_destroy(d->book);
    free(d->owned);
    free(d->th);
    free(d);
}
