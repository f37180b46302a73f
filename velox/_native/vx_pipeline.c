/* vx_pipeline.c: the four-stage pipeline; see vx_pipeline.h for the design. */
#define _GNU_SOURCE
#include "vx_pipeline.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vx_book.h"
#include "vx_bundle.h"
#include "vx_ingress.h"
#include "vx_ring.h"
#include "vx_tsc.h"
#include "vx_wait.h"

/* Records on ring2 per bundle at most: header, arrival records, transactions. */
#define ARRIVALS_PER_REC 4
#define MAX_BUNDLE_RECS (1 + (VX_BUNDLE_MAX + ARRIVALS_PER_REC - 1) / ARRIVALS_PER_REC + VX_BUNDLE_MAX)
#define STAGING_RECS (VX_PIPE_MAX_BATCH * 3 + 2 * MAX_BUNDLE_RECS)
#define OUT_BUF_RECS 2048
#define CROSS_CHECK_EVERY 4096

_Static_assert(VX_PIPE_MIN_RING >= MAX_BUNDLE_RECS, "ring2 must hold a whole bundle");

/** Arrival ticks of up to four transactions, stored in one ring record. */
typedef struct arrivals_rec {
    uint64_t t[ARRIVALS_PER_REC];
} arrivals_rec;
_Static_assert(sizeof(arrivals_rec) == sizeof(vx_txn), "an arrival record fills one ring slot");

/** One stage's statistics: written only by the thread running that stage. */
typedef struct stage_stats {
    _Alignas(VX_CACHELINE) vx_atomic_u64 ctr[VX_CTRS];
    /** 1 once the stage has drained and published everything (release);
     *  read by the next stage (acquire) and the monitor. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 done;
} stage_stats;

typedef struct resting {
    int64_t price;
    uint32_t qty; /**< 0 when the add failed: nothing to cancel */
    uint8_t side;
} resting;

typedef struct ingress_state {
    _Alignas(VX_CACHELINE) vx_ingress gen;
    uint64_t owed;                      /**< arrivals due but not yet generated */
    double sched[VX_PIPE_MAX_BATCH];    /**< their scheduled ticks */
    int started;                        /**< the first pass has set the deadline */
    int finished;
} ingress_state;

typedef struct book_state {
    /* A single-writer book: only the book stage's thread writes it
     * (vx_book_owner_add / _remove / _best, no locked instruction); other
     * threads only read it (vx_pipeline_book_depth). */
    _Alignas(VX_CACHELINE) vx_book *book;
    resting window[VX_ORDER_LIFETIME];  /**< the last VX_ORDER_LIFETIME orders */
    uint64_t applied;
    int64_t live_qty;                   /**< successful adds - successful cancels */
    uint32_t since_cross;
    int finished;
} book_state;

typedef struct bundle_state {
    _Alignas(VX_CACHELINE) vx_bundle_builder builder;
    vx_bundle out;
    uint64_t arrival[VX_BUNDLE_MAX];    /**< when each pending transaction reached the builder */
    vx_txn staging[STAGING_RECS];       /**< framed bundles waiting for room in ring2 */
    size_t staged_off, staged_n;
    /* Room reserved in ring2 at the start of a pass: bundles are framed
     * straight into it (no staging copy) while they fit and nothing is
     * staged, and published together at the end of the pass. */
    vx_txn *res_a, *res_b;
    size_t res_na, res_k, res_used;
    uint64_t last_now;                  /**< clock of the previous pass (0 before the first) */
    uint64_t prev_now;                  /**< clock of the pass before the current one */
    int final_flushed;
    int finished;
} bundle_state;

typedef struct output_state {
    _Alignas(VX_CACHELINE) uint64_t next_id[VX_INGRESS_MAX_PRODUCERS];
    uint64_t next_seq;
    vx_txn buf[OUT_BUF_RECS];           /**< transactions waiting to be written */
    size_t buf_n;
    int fd;
    int write_errno;                    /**< errno of the first failed write (0: none) */
    uint64_t bytes_out;                 /**< bytes the output file accepted */
    uint32_t adler_a, adler_b;          /**< Adler-32 (RFC 1950) of those bytes, two halves */
    int have_violation;
    uint64_t viol_producer, viol_expected, viol_got;
    int finished;
} output_state;

typedef struct pipe_thread {
    pthread_t tid;
    struct vx_pipeline *p;
    int stages[VX_NSTAGES];
    int nstages;
    int cpu; /**< -1: not pinned */
    vx_waiter waiter;
    uint64_t cpu_ns; /**< CPU time this thread used (set as it exits) */
    int created;
} pipe_thread;

/** Sampled traces (vx_pipeline_trace_enable). */
typedef struct trace_state {
    uint64_t threshold;          /**< sample when the (producer, id) hash is below; 0 = off */
    /** Sample budget (a token bucket), used only by the book stage: tokens
     *  refill at tokens_per_tick up to burst (one second's worth). */
    double tokens, tokens_per_tick, burst;
    uint64_t last_tick;          /**< when the bucket was last refilled (0: never) */
    vx_ring *book_ring;          /**< book stage -> monitor: one record per sample */
    vx_ring *out_ring;           /**< output stage -> monitor: two records per sample */
    /** Written only by the book stage (relaxed load + store), read by the monitor. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 book_recorded;
    vx_atomic_u64 book_dropped;
    vx_atomic_u64 over_budget;   /**< selected by the hash, but no token left */
    /** Written only by the output stage, read by the monitor. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 out_recorded;
    vx_atomic_u64 out_dropped;
} trace_state;

/** One trace record in a side-ring slot: four u64. */
typedef struct trace_rec {
    uint64_t v[4];
} trace_rec;
_Static_assert(sizeof(trace_rec) == sizeof(vx_txn), "a trace record fills one ring slot");

struct vx_pipeline {
    vx_pipeline_cfg cfg;
    vx_ring *ring[3];
    uint64_t timeout_ticks, slack_ticks;
    /** Run length in ticks (0: until stopped), the tick vx_pipeline_start
     *  scheduled the first arrival from, and the deadline, which ingress sets
     *  on its first pass: a thread that starts late (a loaded machine) still
     *  runs for the whole duration. Ingress-private once the threads run. */
    uint64_t duration_ticks, start_tick, deadline;
    int topology, nthreads, pinned;
    /** Stop request: set by vx_pipeline_stop, polled by ingress. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 stop;
    /** Threads still running: each decrements it as it exits. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 running;
    stage_stats stats[VX_NSTAGES];
    vx_hist hist[VX_NHIST];
    ingress_state ing;
    book_state bk;
    bundle_state bu;
    output_state ou;
    pipe_thread threads[VX_NSTAGES];
    trace_state tr;
};

/* ---------------------------------------------------------------------- */
/* Statistics helpers                                                      */
/* ---------------------------------------------------------------------- */

static inline void ctr_add(vx_pipeline *p, int stage, int i, uint64_t v) {
    vx_atomic_u64 *c = &p->stats[stage].ctr[i];
    /* relaxed load + store, not an RMW: the stage's thread is the only writer
     * of its counters; the monitor reads them relaxed (vx_pipeline_counters). */
    vx_store(c, vx_load(c, VX_RELAXED) + v, VX_RELAXED);
}

static inline void ctr_set(vx_pipeline *p, int stage, int i, uint64_t v) {
    /* relaxed: single writer, as in ctr_add. */
    vx_store(&p->stats[stage].ctr[i], v, VX_RELAXED);
}

static inline void stage_done(vx_pipeline *p, int stage) {
    /* release: every record this stage committed to its output ring, and every
     * plain write it made (ingress's per-producer counts), happens before the
     * next stage's acquire load of done in upstream_done. */
    vx_store(&p->stats[stage].done, 1, VX_RELEASE);
}

static inline int upstream_done(vx_pipeline *p, int stage) {
    /* acquire: pairs with the release store in stage_done of the stage
     * before; after it, an empty input ring is empty for good. */
    return vx_load(&p->stats[stage - 1].done, VX_ACQUIRE) != 0;
}

static inline uint64_t diff_or_zero(vx_pipeline *p, uint64_t later, uint64_t earlier, int *skew) {
    if (later >= earlier) return later - earlier;
    (*skew)++;
    return 0;
}

#define REC(a, na, b, i) ((i) < (na) ? &(a)[i] : &(b)[(i) - (na)])

/* ---------------------------------------------------------------------- */
/* Sampled traces                                                          */
/* ---------------------------------------------------------------------- */

/** Is this transaction sampled? A multiplicative hash of (producer, id),
 *  the same in every stage, compared with the rate as a fraction of 2^64. */
static inline int traced(const vx_pipeline *p, const vx_txn *t) {
    return (t->id ^ ((uint64_t)t->producer << 48)) * UINT64_C(0x9E3779B97F4A7C15) < p->tr.threshold;
}

static inline void trace_count(vx_atomic_u64 *c) {
    /* relaxed load + store: the recording stage is the only writer; the
     * monitor reads it relaxed in vx_pipeline_trace_stats. */
    vx_store(c, vx_load(c, VX_RELAXED) + 1, VX_RELAXED);
}

/* Push n records all or nothing: a full side ring drops the sample.
 * Returns 1 when recorded, 0 when dropped. */
static int trace_push(vx_ring *r, const trace_rec *recs, size_t n, vx_atomic_u64 *recorded,
                      vx_atomic_u64 *dropped) {
    vx_txn *a, *b;
    size_t na;
    if (vx_ring_reserve(r, n, &a, &na, &b) < n) {
        trace_count(dropped);
        return 0;
    }
    for (size_t i = 0; i < n; i++) memcpy(REC(a, na, b, i), &recs[i], sizeof recs[i]);
    vx_ring_commit(r, n);
    trace_count(recorded);
    return 1;
}

/* The book stage decides: a transaction the hash selects is sampled when the
 * budget has a token and its book record fits in the side ring; then it is
 * marked VX_PIPE_TRACED for the output stage. Deciding once, at the first
 * stage, keeps the two records of a sample together and spends no work on a
 * sample the budget would discard. Returns 1 when sampled. */
static int trace_book(vx_pipeline *p, const vx_txn *t, uint64_t now) {
    trace_state *tr = &p->tr;
    if (tr->last_tick != 0 && now > tr->last_tick) {
        tr->tokens += (double)(now - tr->last_tick) * tr->tokens_per_tick;
        if (tr->tokens > tr->burst) tr->tokens = tr->burst;
    }
    tr->last_tick = now;
    if (tr->tokens < 1.0) {
        trace_count(&tr->over_budget);
        return 0;
    }
    trace_rec r = {{t->producer, t->id, now, 0}};
    if (!trace_push(tr->book_ring, &r, 1, &tr->book_recorded, &tr->book_dropped)) return 0;
    tr->tokens -= 1.0;
    return 1;
}

static void trace_output(vx_pipeline *p, const vx_txn *t, uint64_t arrival, uint64_t flush, uint64_t now) {
    trace_rec r[2] = {{{t->producer, t->id, t->ts, arrival}}, {{flush, now, 0, 0}}};
    (void)trace_push(p->tr.out_ring, r, 2, &p->tr.out_recorded, &p->tr.out_dropped);
}

/* ---------------------------------------------------------------------- */
/* Ingress                                                                 */
/* ---------------------------------------------------------------------- */

static size_t ingress_step(vx_pipeline *p) {
    ingress_state *st = &p->ing;
    uint64_t now = vx_tsc_now();
    if (!st->started) {
        st->started = 1;
        if (p->duration_ticks) p->deadline = now + p->duration_ticks;
        if (now > p->start_tick) st->gen.next_arrival += (double)(now - p->start_tick);
    }
    /* relaxed: a request with nothing to publish; seeing it a pass late only
     * delays the stop. Pairs with the store in vx_pipeline_stop. */
    int stop = vx_load(&p->stop, VX_RELAXED) != 0 || (p->deadline != 0 && now >= p->deadline);
    if (stop) {
        ctr_add(p, VX_STAGE_INGRESS, VX_IN_BACKLOG, st->owed);
        st->finished = 1;
        stage_done(p, VX_STAGE_INGRESS);
        return 1;
    }
    size_t want;
    if (p->cfg.saturate) {
        want = p->cfg.batch;
    } else {
        uint64_t before = st->owed;
        while (st->owed < p->cfg.batch && st->gen.next_arrival <= (double)now)
            st->sched[st->owed++] = vx_ingress_advance(&st->gen);
        if (st->owed > before) ctr_add(p, VX_STAGE_INGRESS, VX_IN_ARRIVALS, st->owed - before);
        want = (size_t)st->owed;
        if (want == 0) return 0;
    }
    vx_txn *a, *b;
    size_t na;
    size_t k = vx_ring_try_reserve(p->ring[0], want, &a, &na, &b);
    for (size_t i = 0; i < k; i++) vx_ingress_make(&st->gen, REC(a, na, b, i), now);
    vx_ring_publish(p->ring[0], k);
    if (p->cfg.saturate) ctr_add(p, VX_STAGE_INGRESS, VX_IN_ARRIVALS, k);
    else {
        for (size_t i = 0; i < k; i++) {
            double lag = (double)now - st->sched[i];
            vx_hist_record(&p->hist[VX_H_LAG], lag > 0 ? (uint64_t)lag : 0);
        }
        if (p->cfg.backpressure == VX_BP_DROP) {
            ctr_add(p, VX_STAGE_INGRESS, VX_IN_DROPPED, want - k);
            st->owed = 0;
        } else {
            memmove(st->sched, st->sched + k, (want - k) * sizeof st->sched[0]);
            st->owed -= k;
        }
    }
    if (k < want) ctr_add(p, VX_STAGE_INGRESS, VX_IN_BLOCKED, 1);
    if (k > 0) {
        ctr_add(p, VX_STAGE_INGRESS, VX_IN_GENERATED, k);
        ctr_add(p, VX_STAGE_INGRESS, VX_IN_BATCHES, 1);
    }
    return k;
}

/* ---------------------------------------------------------------------- */
/* Order book                                                              */
/* ---------------------------------------------------------------------- */

static void book_count(vx_pipeline *p, int rc) {
    if (rc == VX_ETIMEOUT) ctr_add(p, VX_STAGE_BOOK, VX_BK_TIMEOUTS, 1);
    else ctr_add(p, VX_STAGE_BOOK, VX_BK_ERRORS, 1);
}

static void book_cancel(vx_pipeline *p, resting *w) {
    book_state *st = &p->bk;
    if (w->qty == 0) return;
    int rc = vx_book_owner_remove(st->book, w->side, w->price, w->qty);
    if (rc == VX_OK) {
        st->live_qty -= w->qty;
        ctr_add(p, VX_STAGE_BOOK, VX_BK_CANCELS, 1);
    } else {
        book_count(p, rc);
    }
    w->qty = 0;
}

static void book_apply(vx_pipeline *p, const vx_txn *t) {
    book_state *st = &p->bk;
    resting *w = &st->window[st->applied % VX_ORDER_LIFETIME];
    book_cancel(p, w); /* the order placed VX_ORDER_LIFETIME transactions ago */
    int rc = vx_book_owner_add(st->book, t->side, t->price, t->qty);
    if (rc == VX_OK) {
        st->live_qty += t->qty;
        w->price = t->price;
        w->qty = t->qty;
        w->side = t->side;
    } else {
        book_count(p, rc);
    }
    st->applied++;
    if (p->cfg.price_mode == VX_PRICE_WALK && ++st->since_cross >= CROSS_CHECK_EVERY) {
        st->since_cross = 0;
        int64_t bid, ask;
        ctr_add(p, VX_STAGE_BOOK, VX_BK_CROSS_CHECKS, 1);
        if (vx_book_owner_best(st->book, VX_BID, &bid) == 1 && vx_book_owner_best(st->book, VX_ASK, &ask) == 1 &&
            bid >= ask)
            ctr_add(p, VX_STAGE_BOOK, VX_BK_CROSSED, 1);
    }
}

/* At quiescence (this thread is the book's only writer and has stopped):
 * resting quantity must equal adds - cancels, and after cancelling the last
 * window the book must be empty. */
static void book_finish(vx_pipeline *p) {
    book_state *st = &p->bk;
    vx_book *b = st->book;
    int64_t total = 0;
    for (uint32_t level = 0; level < b->levels; level++) {
        int64_t price = vx_book_level_price(b, level);
        total += vx_book_depth(b, VX_BID, price) + vx_book_depth(b, VX_ASK, price);
    }
    ctr_set(p, VX_STAGE_BOOK, VX_BK_CONSERVED, total == st->live_qty);
    for (uint32_t i = 0; i < VX_ORDER_LIFETIME; i++) book_cancel(p, &st->window[i]);
    int64_t bid, ask;
    int empty = st->live_qty == 0 && vx_book_owner_best(b, VX_BID, &bid) == 0 && vx_book_owner_best(b, VX_ASK, &ask) == 0;
    ctr_set(p, VX_STAGE_BOOK, VX_BK_EMPTY_AT_END, empty);
    st->finished = 1;
    stage_done(p, VX_STAGE_BOOK);
}

static size_t book_step(vx_pipeline *p) {
    const vx_txn *a, *b;
    size_t na;
    size_t k = vx_ring_try_peek(p->ring[0], p->cfg.batch, &a, &na, &b);
    if (k == 0) {
        if (!upstream_done(p, VX_STAGE_BOOK)) return 0;
        k = vx_ring_try_peek(p->ring[0], p->cfg.batch, &a, &na, &b);
        if (k == 0) {
            book_finish(p);
            return 1;
        }
    }
    vx_txn *wa, *wb;
    size_t wna;
    size_t room = vx_ring_try_reserve(p->ring[1], k, &wa, &wna, &wb);
    if (room == 0) {
        ctr_add(p, VX_STAGE_BOOK, VX_BK_BLOCKED, 1);
        return 0;
    }
    if (room < k) {
        k = room;
        if (na > k) na = k;
    }
    uint64_t now = vx_tsc_now();
    int skew = 0;
    vx_hist_run age = {0, 0};
    for (size_t i = 0; i < k; i++) {
        const vx_txn *t = REC(a, na, b, i);
        vx_hist_run_add(&p->hist[VX_H_AGE_BOOK], &age, diff_or_zero(p, now, t->ts, &skew));
        vx_txn *w = REC(wa, wna, wb, i);
        *w = *t;
        if (p->tr.threshold && traced(p, t) && trace_book(p, t, now)) w->flags |= VX_PIPE_TRACED;
        book_apply(p, t);
    }
    vx_hist_run_flush(&p->hist[VX_H_AGE_BOOK], &age);
    vx_ring_publish(p->ring[1], k);
    vx_ring_consume(p->ring[0], k);
    ctr_add(p, VX_STAGE_BOOK, VX_BK_APPLIED, k);
    return k;
}

/* ---------------------------------------------------------------------- */
/* Bundle builder                                                          */
/* ---------------------------------------------------------------------- */

/* Frame the bundle in st->out (arrival ticks in st->arrival): straight into
 * the room reserved in ring2 when it fits there and nothing is staged (so
 * frames stay in order), else into staging. */
static void bundle_stage_out(vx_pipeline *p) {
    bundle_state *st = &p->bu;
    const vx_bundle *bd = &st->out;
    size_t n = 1 + (bd->count + ARRIVALS_PER_REC - 1) / ARRIVALS_PER_REC + bd->count;
    int direct = st->staged_n == 0 && st->res_used + n <= st->res_k;
    size_t at = direct ? st->res_used : st->staged_off + st->staged_n;
    /* Where the frame goes, when it is one contiguous run (NULL: it wraps
     * around the end of ring2, so it is written record by record). */
    vx_txn *run = !direct ? &st->staging[at]
                  : at + n <= st->res_na ? st->res_a + at
                  : at >= st->res_na ? st->res_b + (at - st->res_na) : NULL;
#define FRAME_REC(i) (run ? &run[i] : REC(st->res_a, st->res_na, st->res_b, at + (i)))
    vx_txn hdr = {.id = bd->seq,
                  .ts = bd->flush_ts,
                  .price = (int64_t)bd->first_ts,
                  .qty = bd->count,
                  .side = (uint8_t)bd->reason,
                  .flags = VX_PIPE_HEADER,
                  .producer = 0};
    size_t k = 0; /* FRAME_REC evaluates its argument twice: k++ stays outside it */
    *FRAME_REC(k) = hdr;
    k++;
    for (uint32_t i = 0; i < bd->count; i += ARRIVALS_PER_REC) {
        arrivals_rec ar = {{0, 0, 0, 0}};
        for (uint32_t j = 0; j < ARRIVALS_PER_REC && i + j < bd->count; j++) ar.t[j] = st->arrival[i + j];
        memcpy(FRAME_REC(k), &ar, sizeof ar);
        k++;
    }
    if (run) {
        memcpy(&run[k], bd->txns, bd->count * sizeof(vx_txn));
        k += bd->count;
    } else {
        for (uint32_t i = 0; i < bd->count; i++, k++) *FRAME_REC(k) = bd->txns[i];
    }
#undef FRAME_REC
    if (direct) st->res_used += n;
    else st->staged_n += n;
    /* Every pass polls before it pushes, so with a correct builder a bundle
     * leaves at the first pass whose clock is past its deadline: the pass
     * before the one handing it out must still have been before it. */
    if (st->prev_now >= bd->first_ts + p->timeout_ticks) ctr_add(p, VX_STAGE_BUNDLE, VX_BU_MISSED, 1);
    ctr_add(p, VX_STAGE_BUNDLE, VX_BU_BUNDLES, 1);
    ctr_add(p, VX_STAGE_BUNDLE,
            bd->reason == VX_FLUSH_SIZE ? VX_BU_SIZE : bd->reason == VX_FLUSH_TIMEOUT ? VX_BU_TIMEOUT : VX_BU_FLUSH,
            1);
}

/* Publish the frames written into ring2's reserved room, then push staged
 * records after them; returns 1 when staging is empty. */
static int bundle_send(vx_pipeline *p, size_t *work) {
    bundle_state *st = &p->bu;
    vx_ring_publish(p->ring[2], st->res_used);
    *work += st->res_used;
    st->res_k = st->res_used = 0;
    if (st->staged_n == 0) {
        st->staged_off = 0;
        return 1;
    }
    size_t k = vx_ring_push_many(p->ring[2], st->staging + st->staged_off, st->staged_n);
    *work += k;
    st->staged_off += k;
    st->staged_n -= k;
    if (st->staged_n == 0) {
        st->staged_off = 0;
        return 1;
    }
    ctr_add(p, VX_STAGE_BUNDLE, VX_BU_BLOCKED, 1);
    return 0;
}

static size_t bundle_step(vx_pipeline *p) {
    bundle_state *st = &p->bu;
    size_t work = 0;
    if (!bundle_send(p, &work)) return work;
    if (st->final_flushed) {
        st->finished = 1;
        stage_done(p, VX_STAGE_BUNDLE);
        return 1;
    }
    /* Staging is empty here: reserve room for the frames this pass will
     * likely make (a bundle of c transactions is at most 3c records; the
     * poll's bundle and transactions left pending from earlier passes can
     * add a little more, which then goes to staging, as before). */
    st->res_k = vx_ring_try_reserve(p->ring[2], 3 * (size_t)p->cfg.batch + MAX_BUNDLE_RECS, &st->res_a, &st->res_na,
                                    &st->res_b);
    st->res_used = 0;
    uint64_t now = vx_tsc_now();
    st->prev_now = st->last_now;
    st->last_now = now;
    if (vx_bundle_builder_poll(&st->builder, now, &st->out)) {
        bundle_stage_out(p);
        work++;
    }
    const vx_txn *a, *b;
    size_t na;
    size_t k = vx_ring_try_peek(p->ring[1], p->cfg.batch, &a, &na, &b);
    if (k == 0 && work == 0 && upstream_done(p, VX_STAGE_BUNDLE)) {
        k = vx_ring_try_peek(p->ring[1], p->cfg.batch, &a, &na, &b);
        if (k == 0) {
            if (vx_bundle_builder_flush(&st->builder, now, &st->out)) bundle_stage_out(p);
            st->final_flushed = 1;
            bundle_send(p, &work);
            return 1;
        }
    }
    int skew = 0;
    vx_hist_run age = {0, 0};
    for (size_t i = 0; i < k; i++) {
        const vx_txn *t = REC(a, na, b, i);
        vx_hist_run_add(&p->hist[VX_H_AGE_BUNDLE], &age, diff_or_zero(p, now, t->ts, &skew));
        st->arrival[vx_bundle_builder_pending(&st->builder)] = now;
        if (vx_bundle_builder_push(&st->builder, t, now, &st->out)) bundle_stage_out(p);
    }
    vx_hist_run_flush(&p->hist[VX_H_AGE_BUNDLE], &age);
    if (k > 0) {
        vx_ring_consume(p->ring[1], k);
        ctr_add(p, VX_STAGE_BUNDLE, VX_BU_IN, k);
    }
    work += k;
    bundle_send(p, &work);
    return work;
}

/* ---------------------------------------------------------------------- */
/* Output                                                                  */
/* ---------------------------------------------------------------------- */

/* Adler-32 (RFC 1950, zlib's adler32) over bytes the file accepted: a cheap
 * checksum `velox verify` recomputes with zlib. Modulo every 5552 bytes, the
 * most that cannot overflow 32 bits. */
static void output_adler(output_state *st, const unsigned char *b, size_t n) {
    uint32_t a = st->adler_a, c = st->adler_b;
    while (n > 0) {
        size_t k = n < 5552 ? n : 5552;
        n -= k;
        while (k--) {
            a += *b++;
            c += a;
        }
        a %= 65521u;
        c %= 65521u;
    }
    st->adler_a = a;
    st->adler_b = c;
}

static void output_write(vx_pipeline *p, int final) {
    output_state *st = &p->ou;
    if (st->fd < 0 || st->buf_n == 0) return;
    if (!final && st->buf_n < OUT_BUF_RECS) return;
    const char *src = (const char *)st->buf;
    size_t left = st->buf_n * sizeof(vx_txn);
    while (left > 0) {
        ssize_t w = write(st->fd, src, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            st->write_errno = w < 0 ? errno : ENOSPC; /* write() returning 0 for a file: no room */
            ctr_add(p, VX_STAGE_OUTPUT, VX_OU_WRITE_ERR, 1);
            st->fd = -1;
            break;
        }
        output_adler(st, (const unsigned char *)src, (size_t)w);
        st->bytes_out += (uint64_t)w;
        src += w;
        left -= (size_t)w;
    }
    st->buf_n = 0;
}

static void output_violation(output_state *st, uint64_t producer, uint64_t expected, uint64_t got) {
    if (st->have_violation) return;
    st->have_violation = 1;
    st->viol_producer = producer;
    st->viol_expected = expected;
    st->viol_got = got;
}

/* Runs of equal latencies waiting to be recorded (vx_hist_run). */
typedef struct output_runs {
    vx_hist_run total, e2e;
} output_runs;

/* Check and deliver one framed bundle starting at record index i. */
static void output_bundle(vx_pipeline *p, const vx_txn *a, size_t na, const vx_txn *b, size_t i, uint64_t now,
                          output_runs *runs, int *skew) {
    output_state *st = &p->ou;
    const vx_txn *hdr = REC(a, na, b, i);
    uint32_t count = hdr->qty;
    uint32_t nar = (count + ARRIVALS_PER_REC - 1) / ARRIVALS_PER_REC;
    uint64_t flush_ts = hdr->ts, first_ts = (uint64_t)hdr->price;
    uint32_t reason = hdr->side;
    if (hdr->id != st->next_seq) ctr_add(p, VX_STAGE_OUTPUT, VX_OU_SEQ_VIOL, 1);
    st->next_seq = hdr->id + 1;
    if (count < 1 || count > p->cfg.bundle_size || (reason == VX_FLUSH_SIZE && count != p->cfg.bundle_size))
        ctr_add(p, VX_STAGE_OUTPUT, VX_OU_SIZE_VIOL, 1);
    if (reason != VX_FLUSH_SIZE && reason != VX_FLUSH_TIMEOUT && reason != VX_FLUSH_FLUSH)
        ctr_add(p, VX_STAGE_OUTPUT, VX_OU_FRAME, 1);
    if (reason == VX_FLUSH_FLUSH) ctr_add(p, VX_STAGE_OUTPUT, VX_OU_FLUSH_BUNDLES, 1);
    uint64_t held = diff_or_zero(p, flush_ts, first_ts, skew);
    if (reason == VX_FLUSH_TIMEOUT) {
        if (held < p->timeout_ticks) ctr_add(p, VX_STAGE_OUTPUT, VX_OU_EARLY, 1);
        else vx_hist_record(&p->hist[VX_H_FLUSH_LATE], held - p->timeout_ticks);
    }
    if (held > p->timeout_ticks + p->slack_ticks) ctr_add(p, VX_STAGE_OUTPUT, VX_OU_LATE, 1);
    for (uint32_t j = 0; j < count; j++) {
        arrivals_rec ar;
        memcpy(&ar, REC(a, na, b, i + 1 + j / ARRIVALS_PER_REC), sizeof ar);
        const vx_txn *t = REC(a, na, b, i + 1 + nar + j);
        if (t->flags & ~VX_PIPE_TRACED) ctr_add(p, VX_STAGE_OUTPUT, VX_OU_FRAME, 1);
        uint32_t pr = t->producer;
        if (pr >= p->cfg.producers) {
            ctr_add(p, VX_STAGE_OUTPUT, VX_OU_BAD_PRODUCER, 1);
            output_violation(st, pr, 0, t->id);
        } else {
            uint64_t want = st->next_id[pr];
            if (t->id != want) {
                ctr_add(p, VX_STAGE_OUTPUT, t->id > want ? VX_OU_GAP : VX_OU_BACKWARD, 1);
                output_violation(st, pr, want, t->id);
            }
            st->next_id[pr] = t->id + 1; /* resynchronise: one fault, one count */
        }
        uint64_t total = diff_or_zero(p, now, t->ts, skew);
        uint64_t hold = diff_or_zero(p, flush_ts, ar.t[j % ARRIVALS_PER_REC], skew);
        vx_hist_run_add(&p->hist[VX_H_TOTAL], &runs->total, total);
        vx_hist_run_add(&p->hist[VX_H_E2E], &runs->e2e, diff_or_zero(p, total, hold, skew));
        if (t->flags & VX_PIPE_TRACED) trace_output(p, t, ar.t[j % ARRIVALS_PER_REC], flush_ts, now);
        if (st->fd >= 0) {
            st->buf[st->buf_n] = *t;
            st->buf[st->buf_n++].flags &= (uint8_t)~VX_PIPE_TRACED; /* a pipeline mark, not data */
            output_write(p, 0);
        }
    }
    ctr_add(p, VX_STAGE_OUTPUT, VX_OU_TXNS, count);
    ctr_add(p, VX_STAGE_OUTPUT, VX_OU_BUNDLES, 1);
}

static void output_finish(vx_pipeline *p) {
    output_state *st = &p->ou;
    output_write(p, 1);
    /* Every stage before us is done, and done flags chain release -> acquire
     * from ingress to here, so ingress's per-producer counts are visible. */
    uint64_t mismatched = 0;
    for (uint32_t pr = 0; pr < p->cfg.producers; pr++)
        if (st->next_id[pr] != p->ing.gen.next_id[pr]) {
            mismatched++;
            output_violation(st, pr, p->ing.gen.next_id[pr], st->next_id[pr]);
        }
    ctr_set(p, VX_STAGE_OUTPUT, VX_OU_TAIL_MISMATCH, mismatched);
    st->finished = 1;
    stage_done(p, VX_STAGE_OUTPUT);
}

static size_t output_step(vx_pipeline *p) {
    const vx_txn *a, *b;
    size_t na;
    size_t want = 2 * (size_t)p->cfg.batch + MAX_BUNDLE_RECS;
    size_t k = vx_ring_try_peek(p->ring[2], want, &a, &na, &b);
    if (k == 0) {
        if (!upstream_done(p, VX_STAGE_OUTPUT)) return 0;
        k = vx_ring_try_peek(p->ring[2], want, &a, &na, &b);
        if (k == 0) {
            output_finish(p);
            return 1;
        }
    }
    uint64_t now = vx_tsc_now();
    int skew = 0;
    output_runs runs = {{0, 0}, {0, 0}};
    size_t i = 0;
    while (i < k) {
        const vx_txn *hdr = REC(a, na, b, i);
        if (hdr->flags != VX_PIPE_HEADER || hdr->qty > VX_BUNDLE_MAX) {
            ctr_add(p, VX_STAGE_OUTPUT, VX_OU_FRAME, 1);
            i++; /* skip until the next header */
            continue;
        }
        size_t need = 1 + (hdr->qty + ARRIVALS_PER_REC - 1) / ARRIVALS_PER_REC + hdr->qty;
        if (i + need > k) break; /* the rest of this bundle is not published yet */
        output_bundle(p, a, na, b, i, now, &runs, &skew);
        i += need;
    }
    vx_hist_run_flush(&p->hist[VX_H_TOTAL], &runs.total);
    vx_hist_run_flush(&p->hist[VX_H_E2E], &runs.e2e);
    if (i == 0 && k > 0 && upstream_done(p, VX_STAGE_OUTPUT)) {
        /* The bundle stage is done, so after the acquire in upstream_done a
         * new peek sees every record it will ever publish. If that adds
         * nothing, the first frame is truncated: count it and skip the
         * record, or we would wait forever. If it adds records, the rest of
         * a bundle published in two pieces arrived after our first peek:
         * parse it on the next pass (treating it as truncated here was a
         * race, seen once in the gate under load). */
        if (vx_ring_try_peek(p->ring[2], want, &a, &na, &b) == k) {
            ctr_add(p, VX_STAGE_OUTPUT, VX_OU_FRAME, 1);
            i = 1;
        }
    }
    if (skew) ctr_add(p, VX_STAGE_OUTPUT, VX_OU_SKEW, (uint64_t)skew);
    vx_ring_consume(p->ring[2], i);
    return i;
}

/* ---------------------------------------------------------------------- */
/* Threads                                                                 */
/* ---------------------------------------------------------------------- */

static int stage_finished(vx_pipeline *p, int s) {
    switch (s) {
    case VX_STAGE_INGRESS: return p->ing.finished;
    case VX_STAGE_BOOK: return p->bk.finished;
    case VX_STAGE_BUNDLE: return p->bu.finished;
    default: return p->ou.finished;
    }
}

static size_t stage_step(vx_pipeline *p, int s) {
    switch (s) {
    case VX_STAGE_INGRESS: return ingress_step(p);
    case VX_STAGE_BOOK: return book_step(p);
    case VX_STAGE_BUNDLE: return bundle_step(p);
    default: return output_step(p);
    }
}

static void *thread_main(void *arg) {
    pipe_thread *th = arg;
    vx_pipeline *p = th->p;
    if (th->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(th->cpu, &set);
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    }
    for (;;) {
        size_t work = 0;
        int all_done = 1;
        for (int i = 0; i < th->nstages; i++) {
            int s = th->stages[i];
            if (stage_finished(p, s)) continue;
            work += stage_step(p, s);
            if (!stage_finished(p, s)) all_done = 0;
        }
        if (all_done) break;
        if (work) vx_wait_reset(&th->waiter);
        else vx_wait_idle(&th->waiter);
    }
    struct timespec cpu;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0)
        th->cpu_ns = (uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec;
    /* release: this thread's final writes (statistics, done flags) happen
     * before vx_pipeline_finished's acquire load sees the count drop. */
    vx_fetch_sub(&p->running, 1, VX_RELEASE);
    return NULL;
}

static int usable_cpus(int *cpus, int max) {
    cpu_set_t set;
    int n = 0;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    for (int c = 0; c < CPU_SETSIZE && n < max; c++)
        if (CPU_ISSET(c, &set)) cpus[n++] = c;
    return n > 0 ? n : 1;
}

static void plan_threads(vx_pipeline *p) {
    /* Stages per thread, by topology: -2 starts the next thread, -1 ends. */
    static const int groups[5][8] = {
        [VX_TOPO_AUTO] = {-1},
        [VX_TOPO_SINGLE] = {0, 1, 2, 3, -1},
        [VX_TOPO_PAIRS] = {0, 1, -2, 2, 3, -1},
        [VX_TOPO_SPLIT] = {0, -2, 1, 2, 3, -1},
        [VX_TOPO_STAGES] = {0, -2, 1, -2, 2, -2, 3, -1},
    };
    int cpus[1024];
    int ncpu = usable_cpus(cpus, 1024);
    int topo = p->cfg.topology;
    /* auto: a thread per stage when every stage can have a core; otherwise
     * one thread for all four (docs/pipeline.md gives the measurements that
     * chose this over 'pairs' on a shared 2-CPU machine). */
    if (topo == VX_TOPO_AUTO) topo = ncpu >= VX_NSTAGES ? VX_TOPO_STAGES : VX_TOPO_SINGLE;
    p->topology = topo;
    memset(p->threads, 0, sizeof p->threads);
    int nt = 0;
    for (int i = 0; groups[topo][i] != -1; i++) {
        int g = groups[topo][i];
        if (g == -2) {
            nt++;
            continue;
        }
        pipe_thread *th = &p->threads[nt];
        th->stages[th->nstages++] = g;
    }
    nt++;
    p->nthreads = nt;
    /* Pinning places threads on distinct CPUs; a lone thread gains nothing
     * from it and would lose the scheduler's freedom to move it off a CPU
     * that other work is using. */
    p->pinned = p->cfg.pin && ncpu >= nt && nt > 1;
    for (int i = 0; i < nt; i++) {
        p->threads[i].p = p;
        p->threads[i].cpu = p->pinned ? cpus[i] : -1;
        vx_wait_init(&p->threads[i].waiter, p->cfg.wait);
    }
}

/* ---------------------------------------------------------------------- */
/* Life cycle                                                              */
/* ---------------------------------------------------------------------- */

int vx_pipeline_cfg_ok(const vx_pipeline_cfg *c) {
    if (!c->saturate && !(c->rate > 0 && c->rate <= 1e9)) return VX_EINVAL;
    if (c->price_mode != VX_PRICE_UNIFORM && c->price_mode != VX_PRICE_WALK) return VX_EINVAL;
    if (c->backpressure != VX_BP_DROP && c->backpressure != VX_BP_BLOCK) return VX_EINVAL;
    if (c->wait < VX_WAIT_BUSY || c->wait > VX_WAIT_PARK) return VX_EINVAL;
    if (c->topology < VX_TOPO_AUTO || c->topology > VX_TOPO_STAGES) return VX_EINVAL;
    if (!vx_ring_capacity_ok(c->ring_capacity) || c->ring_capacity < VX_PIPE_MIN_RING) return VX_EINVAL;
    if (c->bundle_size < 1 || c->bundle_size > VX_BUNDLE_MAX) return VX_EINVAL;
    if (c->bundle_timeout_ns < 1 || c->bundle_timeout_ns > UINT64_C(10000000000)) return VX_EINVAL;
    if (c->flush_slack_ns > UINT64_C(10000000000)) return VX_EINVAL;
    if (c->producers < 1 || c->producers > VX_INGRESS_MAX_PRODUCERS) return VX_EINVAL;
    if (c->batch < 1 || c->batch > VX_PIPE_MAX_BATCH) return VX_EINVAL;
    return VX_OK;
}

vx_pipeline *vx_pipeline_create(const vx_pipeline_cfg *cfg, int *err) {
    *err = vx_pipeline_cfg_ok(cfg);
    if (*err != VX_OK) return NULL;
    vx_pipeline *p = aligned_alloc(VX_CACHELINE, (sizeof(vx_pipeline) + VX_CACHELINE - 1) / VX_CACHELINE * VX_CACHELINE);
    if (p == NULL) {
        *err = VX_ENOMEM;
        return NULL;
    }
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    if (p->cfg.saturate) p->cfg.backpressure = VX_BP_BLOCK;
    vx_init(&p->stop, 0);
    vx_init(&p->running, 0);
    for (int s = 0; s < VX_NSTAGES; s++) {
        for (int i = 0; i < VX_CTRS; i++) vx_init(&p->stats[s].ctr[i], 0);
        vx_init(&p->stats[s].done, 0);
    }
    for (int h = 0; h < VX_NHIST; h++) vx_hist_init(&p->hist[h]);
    vx_init(&p->tr.book_recorded, 0);
    vx_init(&p->tr.book_dropped, 0);
    vx_init(&p->tr.over_budget, 0);
    vx_init(&p->tr.out_recorded, 0);
    vx_init(&p->tr.out_dropped, 0);
    for (int r = 0; r < 3; r++) {
        p->ring[r] = vx_ring_create(cfg->ring_capacity, 0, err);
        if (p->ring[r] == NULL) goto fail;
    }
    p->bk.book = vx_book_create_single_writer(VX_INGRESS_BASE_PRICE, VX_INGRESS_LEVELS, VX_INGRESS_TICK_SHIFT, err);
    if (p->bk.book == NULL) goto fail;
    double ns_per_tick = vx_tsc_ns_per_tick();
    p->timeout_ticks = vx_tsc_from_ns(cfg->bundle_timeout_ns);
    if (p->timeout_ticks < 1) p->timeout_ticks = 1;
    p->slack_ticks = vx_tsc_from_ns(cfg->flush_slack_ns);
    *err = vx_bundle_builder_init(&p->bu.builder, cfg->bundle_size, p->timeout_ticks);
    if (*err != VX_OK) goto fail;
    p->ou.fd = cfg->out_fd;
    p->ou.write_errno = 0;
    p->ou.bytes_out = 0;
    p->ou.adler_a = 1;
    p->ou.adler_b = 0;
    plan_threads(p);
    (void)ns_per_tick;
    *err = VX_OK;
    return p;
fail:
    vx_pipeline_destroy(p);
    return NULL;
}

int vx_pipeline_start(vx_pipeline *p) {
    double rate_per_tick = p->cfg.saturate ? 0.0 : p->cfg.rate * vx_tsc_ns_per_tick() / 1e9;
    uint64_t start = vx_tsc_now();
    int rc = vx_ingress_init(&p->ing.gen, p->cfg.seed, p->cfg.price_mode, p->cfg.producers, rate_per_tick, start);
    if (rc != VX_OK) return EINVAL;
    p->start_tick = start;
    p->duration_ticks = p->cfg.duration_ns ? vx_tsc_from_ns(p->cfg.duration_ns) : 0;
    p->deadline = 0;
    /* relaxed: set before any thread exists; pthread_create publishes it. */
    vx_store(&p->running, (uint64_t)p->nthreads, VX_RELAXED);
    for (int i = 0; i < p->nthreads; i++) {
        rc = pthread_create(&p->threads[i].tid, NULL, thread_main, &p->threads[i]);
        if (rc != 0) {
            /* Stop what started; the missing threads' stages never finish, so
             * the caller must not join a pipeline that failed to start. */
            vx_pipeline_stop(p);
            /* relaxed: the count of threads that will never run; only the
             * caller's error path reads it. */
            vx_fetch_sub(&p->running, (uint64_t)(p->nthreads - i), VX_RELAXED);
            return rc;
        }
        p->threads[i].created = 1;
    }
    return 0;
}

void vx_pipeline_stop(vx_pipeline *p) {
    /* relaxed: a request; ingress polls it (relaxed) and publishes its own
     * completion through its done flag. */
    vx_store(&p->stop, 1, VX_RELAXED);
}

int vx_pipeline_finished(vx_pipeline *p) {
    /* acquire: pairs with each thread's release decrement in thread_main. */
    return vx_load(&p->running, VX_ACQUIRE) == 0;
}

void vx_pipeline_join(vx_pipeline *p) {
    for (int i = 0; i < p->nthreads; i++)
        if (p->threads[i].created) {
            pthread_join(p->threads[i].tid, NULL);
            p->threads[i].created = 0;
        }
}

void vx_pipeline_destroy(vx_pipeline *p) {
    if (p == NULL) return;
    vx_pipeline_stop(p);
    vx_pipeline_join(p);
    for (int r = 0; r < 3; r++) vx_ring_destroy(p->ring[r]);
    vx_ring_destroy(p->tr.book_ring);
    vx_ring_destroy(p->tr.out_ring);
    vx_book_destroy(p->bk.book);
    free(p);
}

void vx_pipeline_counters(vx_pipeline *p, uint64_t *out) {
    for (int s = 0; s < VX_NSTAGES; s++)
        for (int i = 0; i < VX_CTRS; i++)
            /* relaxed: statistics; each counter has a single writer (ctr_add). */
            out[s * VX_CTRS + i] = vx_load(&p->stats[s].ctr[i], VX_RELAXED);
}

void vx_pipeline_hist(vx_pipeline *p, int which, vx_hist_snap *out) {
    if (which < 0 || which >= VX_NHIST) {
        memset(out, 0, sizeof *out);
        return;
    }
    vx_hist_snapshot(&p->hist[which], out);
}

uint64_t vx_pipeline_ring_len(vx_pipeline *p, int ring) {
    if (ring < 0 || ring > 2) return 0;
    return vx_ring_len(p->ring[ring]);
}

int vx_pipeline_threads(vx_pipeline *p) { return p->nthreads; }
int vx_pipeline_pinned(vx_pipeline *p) { return p->pinned; }
int vx_pipeline_topology(vx_pipeline *p) { return p->topology; }
uint64_t vx_pipeline_timeout_ticks(vx_pipeline *p) { return p->timeout_ticks; }

int vx_pipeline_first_violation(vx_pipeline *p, uint64_t *producer, uint64_t *expected, uint64_t *got) {
    if (!p->ou.have_violation) return 0;
    *producer = p->ou.viol_producer;
    *expected = p->ou.viol_expected;
    *got = p->ou.viol_got;
    return 1;
}

void vx_pipeline_wait_stats(vx_pipeline *p, uint64_t *yields, uint64_t *sleeps, uint64_t *cpu_ns) {
    *yields = *sleeps = *cpu_ns = 0;
    for (int i = 0; i < p->nthreads; i++) {
        *yields += p->threads[i].waiter.yields;
        *sleeps += p->threads[i].waiter.sleeps;
        *cpu_ns += p->threads[i].cpu_ns;
    }
}

void vx_pipeline_output_stats(vx_pipeline *p, uint64_t *bytes, uint32_t *adler32, int *write_errno) {
    /* After vx_pipeline_join: the output thread has exited, so its plain
     * writes happen before this read (pthread_join). */
    *bytes = p->ou.bytes_out;
    *adler32 = (p->ou.adler_b << 16) | p->ou.adler_a;
    *write_errno = p->ou.write_errno;
}

int64_t vx_pipeline_book_depth(vx_pipeline *p, int side) {
    vx_book *b = p->bk.book;
    if (side != VX_BID && side != VX_ASK) return VX_EINVAL;
    int64_t total = 0;
    /* vx_book_depth reads each level's quantity with a relaxed load: a
     * statistic with no ordering needs, like the counters above. */
    for (uint32_t level = 0; level < b->levels; level++) total += vx_book_depth(b, side, vx_book_level_price(b, level));
    return total;
}

int vx_pipeline_trace_enable(vx_pipeline *p, double rate, uint64_t capacity, double max_per_s) {
    if (!(rate > 0.0 && rate <= 1.0) || !vx_ring_capacity_ok(capacity) || capacity < 2) return VX_EINVAL;
    if (!(max_per_s >= 1.0)) return VX_EINVAL; /* also NaN */
    if (p->tr.book_ring != NULL) return VX_EINVAL; /* once */
    int err = VX_OK;
    p->tr.book_ring = vx_ring_create(capacity, 0, &err);
    if (p->tr.book_ring == NULL) return err;
    p->tr.out_ring = vx_ring_create(capacity, 0, &err);
    if (p->tr.out_ring == NULL) {
        vx_ring_destroy(p->tr.book_ring);
        p->tr.book_ring = NULL;
        return err;
    }
    /* rate * 2^64, saturating at the largest u64 for rate 1 */
    double t = rate * 18446744073709551616.0;
    p->tr.threshold = t >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)t;
    if (p->tr.threshold == 0) p->tr.threshold = 1;
    /* ticks -> seconds through the calibration; inf stays inf (no budget) */
    p->tr.tokens_per_tick = max_per_s * vx_tsc_ns_per_tick() / 1e9;
    p->tr.burst = max_per_s;
    p->tr.tokens = max_per_s;
    p->tr.last_tick = 0;
    return VX_OK;
}

static size_t trace_drain(vx_ring *r, uint64_t *out, size_t max_recs, size_t per_sample, size_t width) {
    if (r == NULL) return 0;
    const vx_txn *a, *b;
    size_t na;
    size_t k = vx_ring_peek(r, max_recs * per_sample, &a, &na, &b);
    k -= k % per_sample; /* whole samples only (a sample's records are published together) */
    for (size_t i = 0; i < k; i += per_sample) {
        uint64_t *dst = out + (i / per_sample) * width;
        trace_rec rec;
        for (size_t j = 0; j < per_sample; j++) {
            memcpy(&rec, REC(a, na, b, i + j), sizeof rec);
            memcpy(dst + 4 * j, rec.v, (width - 4 * j < 4 ? width - 4 * j : 4) * sizeof(uint64_t));
        }
    }
    vx_ring_release(r, k);
    return k / per_sample;
}

size_t vx_pipeline_trace_drain_book(vx_pipeline *p, uint64_t *out, size_t max) {
    return trace_drain(p->tr.book_ring, out, max, 1, 3);
}

size_t vx_pipeline_trace_drain_output(vx_pipeline *p, uint64_t *out, size_t max) {
    return trace_drain(p->tr.out_ring, out, max, 2, 6);
}

void vx_pipeline_trace_stats(vx_pipeline *p, uint64_t *out) {
    /* relaxed: statistics, each with a single writer (trace_count). */
    out[0] = vx_load(&p->tr.book_recorded, VX_RELAXED);
    /* relaxed: as above. */
    out[1] = vx_load(&p->tr.book_dropped, VX_RELAXED);
    /* relaxed: as above. */
    out[2] = vx_load(&p->tr.out_recorded, VX_RELAXED);
    /* relaxed: as above. */
    out[3] = vx_load(&p->tr.out_dropped, VX_RELAXED);
    /* relaxed: as above. */
    out[4] = vx_load(&p->tr.over_budget, VX_RELAXED);
}
