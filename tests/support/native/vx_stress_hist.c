/* vx_stress_hist.c: the order-book history recorder for the linearizability
 * checker (windows of stamped operations between barriers, a quiescent
 * snapshot before each); see vx_stress.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_atomic.h"
#include "vx_stress.h"
#include "vx_stress_util.h"
#include "vx_book.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

/* A fenced timestamp: the first fence waits for earlier operations to
 * complete (mfence drains our stores, lfence waits for loads), the second
 * keeps later operations from starting before the read. An interval
 * [call, ret] then contains the operation's real effect, which is all the
 * linearizability check assumes of it. */
static inline uint64_t stamp(void) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_mfence();
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
#else
    /* seq_cst fences around the clock read: the portable equivalent of the
     * above. Partner: none (a local ordering constraint). */
    vx_fence(VX_SEQ_CST);
    uint64_t t = vx_tsc_now();
    /* seq_cst: see above. */
    vx_fence(VX_SEQ_CST);
    return t;
#endif
}

/** A reusable spin barrier (sense by generation number). */
typedef struct barrier {
    /** Threads arrived in this generation (RMW by each arrival). */
    _Alignas(VX_CACHELINE) vx_atomic_u64 count;
    /** Generation; bumped by the last arrival (release). */
    _Alignas(VX_CACHELINE) vx_atomic_u64 gen;
    /** Set when not every thread could start: waiters give up. */
    vx_atomic_u64 aborted;
} barrier;

/* Returns 1 when every thread arrived, 0 when the run was aborted. */
static int barrier_wait(barrier *b, uint32_t n) {
    /* acquire: the generation we wait to leave; pairs with the release
     * fetch_add below of the previous round's last arrival. */
    uint64_t g = vx_load(&b->gen, VX_ACQUIRE);
    /* acq_rel: our work before the barrier is released to the last arrival,
     * and the last arrival acquires everyone's (pairs with itself). */
    if (vx_fetch_add(&b->count, 1, VX_ACQ_REL) == n - 1) {
        /* relaxed: nobody touches count until the gen bump below releases them. */
        vx_store(&b->count, 0, VX_RELAXED);
        /* release: everything every thread did before arriving (the last
         * arrival acquired it through count) happens before anything after
         * the barrier; pairs with the acquire loads of gen. */
        vx_fetch_add(&b->gen, 1, VX_RELEASE);
        return 1;
    }
    uint32_t fails = 0;
    /* acquire: pairs with the release bump of gen above. */
    while (vx_load(&b->gen, VX_ACQUIRE) == g) {
        /* acquire: pairs with the release store in vx_stress_hist_run. */
        if (vx_load(&b->aborted, VX_ACQUIRE)) return 0;
        wait_step(&fails);
    }
    return 1;
}

struct vx_stress_hist;
typedef struct hist_thread {
    struct vx_stress_hist *d;
    uint32_t index;
    uint64_t prng;
    vx_stress_result res;
} hist_thread;

struct vx_stress_hist {
    vx_book *book;
    uint32_t threads, levels, per_window, max_qty;
    hist_thread *th;
    barrier bar;
    /* per run */
    uint32_t windows;
    vx_lc_op *ops_out;
    int64_t *snap_out;
};

static void *hist_worker(void *arg) {
    hist_thread *ht = arg;
    vx_stress_hist *d = ht->d;
    vx_stress_result *r = &ht->res;
    for (uint32_t w = 0; w < d->windows; w++) {
        if (!barrier_wait(&d->bar, d->threads)) break; /* previous window complete: book quiescent */
        if (ht->index == 0) {
            int64_t *snap = &d->snap_out[(size_t)w * VX_STRESS_SNAP_WORDS(d->levels)];
            for (int side = 0; side < 2; side++) {
                for (uint32_t l = 0; l < d->levels; l++)
                    snap[(size_t)side * d->levels + l] = vx_book_depth(d->book, side, VX_STRESS_HIST_BASE + l);
                /* best prices at quiescence: exact by the book's contract */
                int64_t p;
                snap[2 * (size_t)d->levels + (size_t)side] = vx_book_best(d->book, side, &p) ? p : -1;
            }
        }
        if (!barrier_wait(&d->bar, d->threads)) break; /* snapshot taken: start together */
        vx_lc_op *ops = &d->ops_out[((size_t)w * d->threads + ht->index) * d->per_window];
        for (uint32_t k = 0; k < d->per_window; k++) {
            uint64_t c = rnd(&ht->prng);
            vx_lc_op *op = &ops[k];
            op->side = (uint8_t)(c & 1);
            op->price = VX_STRESS_HIST_BASE + (int64_t)((c >> 1) % d->levels);
            op->thread = (uint16_t)ht->index;
            op->result = 0;
            uint32_t pick = (uint32_t)((c >> 16) % 10);
            if (pick < 4) {
                op->kind = VX_LC_ADD;
                op->arg = 1 + (int64_t)((c >> 32) % d->max_qty);
                op->call = stamp();
                op->status = vx_book_add(d->book, op->side, op->price, op->arg);
                op->ret = stamp();
            } else if (pick < 8) {
                op->kind = VX_LC_REMOVE;
                op->arg = 1 + (int64_t)((c >> 32) % d->max_qty);
                op->call = stamp();
                op->status = vx_book_remove(d->book, op->side, op->price, op->arg);
                op->ret = stamp();
            } else {
                op->kind = VX_LC_DEPTH;
                op->arg = 0;
                op->call = stamp();
                op->result = vx_book_depth(d->book, op->side, op->price);
                op->ret = stamp();
                op->status = op->result < 0 ? (int32_t)op->result : VX_OK;
            }
            r->ops++;
            if (op->status == VX_ETIMEOUT) r->timeouts++;
        }
    }
    return NULL;
}

vx_stress_hist *vx_stress_hist_create(uint32_t threads, uint32_t levels, uint32_t ops_per_window,
                                      uint32_t max_qty, uint64_t seed, int *err) {
    if (threads < 1 || threads > MAX_THREADS || levels < 1 || levels > 4096 || ops_per_window < 1 ||
        max_qty < 1) {
        *err = VX_EINVAL;
        return NULL;
    }
    vx_stress_hist *d = calloc(1, sizeof *d);
    if (d == NULL) {
        *err = VX_ENOMEM;
        return NULL;
    }
    d->th = calloc(threads, sizeof(hist_thread));
    d->book = vx_book_create(VX_STRESS_HIST_BASE, levels, 0, VX_BOOK_DEFAULT_RETRIES, err);
    if (d->th == NULL || d->book == NULL) {
        if (d->book != NULL) *err = VX_ENOMEM;
        vx_book_destroy(d->book);
        free(d->th);
        free(d);
        return NULL;
    }
    d->threads = threads;
    d->levels = levels;
    d->per_window = ops_per_window;
    d->max_qty = max_qty;
    for (uint32_t t = 0; t < threads; t++) {
        d->th[t].d = d;
        d->th[t].index = t;
        d->th[t].prng = seed_state(seed, 300 + t);
    }
    /* not yet shared: pthread_create publishes them. */
    vx_init(&d->bar.count, 0);
    vx_init(&d->bar.gen, 0);
    vx_init(&d->bar.aborted, 0);
    *err = VX_OK;
    return d;
}

int vx_stress_hist_run(vx_stress_hist *d, uint32_t windows, vx_lc_op *ops_out, int64_t *snap_out,
                       vx_stress_result *out) {
    memset(out, 0, sizeof *out);
    d->windows = windows;
    d->ops_out = ops_out;
    d->snap_out = snap_out;
    for (uint32_t t = 0; t < d->threads; t++) memset(&d->th[t].res, 0, sizeof d->th[t].res);
    pthread_t tids[MAX_THREADS];
    uint32_t started = vx_stress_start_threads(tids, d->threads, hist_worker, d->th, sizeof(hist_thread));
    if (started < d->threads) {
        /* release: the started workers leave their barrier and stop; pairs
         * with the acquire load of aborted in barrier_wait. */
        vx_store(&d->bar.aborted, 1, VX_RELEASE);
        vx_stress_join_threads(tids, started);
        return VX_ENOMEM;
    }
    vx_stress_join_threads(tids, d->threads);
    for (uint32_t t = 0; t < d->threads; t++) vx_stress_merge(out, &d->th[t].res);
    return VX_OK;
}

void vx_stress_hist_destroy(vx_stress_hist *d) {
    if (d == NULL) return;
    vx_book_destroy(d->book);
    free(d->th);
    free(d);
}
