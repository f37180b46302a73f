/* vx_stress.c: native stress drivers; see vx_stress.h for the protocol.
 *
 * The drivers share memory between their threads only through the structures
 * under test and through a few vx_atomic.h words of their own (stop flags,
 * barriers), each commented with its partner. Per-thread bookkeeping (owned
 * quantities, expected sequence numbers, counts) is private to its thread
 * while the threads run and is read by the calling thread only after
 * pthread_join, which orders it (POSIX: join synchronises with the thread's
 * termination). */
#ifndef VX_MODEL
#define _GNU_SOURCE
#include "vx_stress.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vx_atomic.h"
#include "vx_book.h"
#include "vx_mpmc.h"
#include "vx_ring.h"
#include "vx_tsc.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* splitmix64: a full-period 64-bit mixer; payloads are mix(seed ^ id), so a
 * torn or stale record fails the payload check. */
static inline uint64_t mix(uint64_t x) {
    x += UINT64_C(0x9E3779B97F4A7C15);
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

/* xorshift64*: per-thread operation choices. */
static inline uint64_t rnd(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

static inline uint64_t seed_state(uint64_t seed, uint64_t stream) {
    uint64_t s = mix(seed ^ mix(stream + 1));
    return s ? s : 1;
}

/* Waiting on a full or empty structure: spin briefly, then give the core
 * away (two cores are shared by every thread of the machine). */
static inline void wait_step(uint32_t *fails) {
    if (++*fails < 64) {
        vx_spin_hint();
    } else {
        *fails = 0;
        sched_yield();
    }
}

static void violation(vx_stress_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void violation(vx_stress_result *r, const char *fmt, ...) {
    r->violations++;
    if (r->first_violation[0] != '\0') return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->first_violation, sizeof r->first_violation, fmt, ap);
    va_end(ap);
}

static void merge(vx_stress_result *into, const vx_stress_result *from) {
    into->ops += from->ops;
    into->checks += from->checks;
    into->violations += from->violations;
    into->timeouts += from->timeouts;
    into->waits += from->waits;
    if (into->first_violation[0] == '\0' && from->first_violation[0] != '\0')
        memcpy(into->first_violation, from->first_violation, sizeof into->first_violation);
}

/* Is it time to stop? `done` operations so far; the clock (~20 ns) is read
 * every 256 loop iterations (`*iter` counts them, so a thread waiting on a
 * full or empty structure still sees its deadline). */
static inline int slice_over(uint64_t done, uint64_t max_ops, uint64_t deadline_ns, uint32_t *iter) {
    if (done >= max_ops) return 1;
    return (++*iter & 255) == 0 && vx_mono_ns() >= deadline_ns;
}

/* Start n threads on fn(args[i]); returns how many started (n on success).
 * The caller decides how to wind down a partial start. */
static uint32_t start_threads(pthread_t *tids, uint32_t n, void *(*fn)(void *), void *args, size_t arg_size) {
    for (uint32_t i = 0; i < n; i++)
        if (pthread_create(&tids[i], NULL, fn, (char *)args + i * arg_size) != 0) return i;
    return n;
}

static void join_threads(pthread_t *tids, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) pthread_join(tids[i], NULL);
}

/** Seconds a slice's threads may overrun its deadline before the driver
 *  declares a stall (a livelock or deadlock in the structure under test). */
#define STALL_GRACE_NS (UINT64_C(10) * 1000000000u)

/* Join the threads of a slice, giving up at deadline + STALL_GRACE_NS: a
 * structure that livelocks must fail the run, not hang it. Returns 1 when all
 * joined; 0 on a stall (recorded as a violation; the threads are left running
 * and the driver must not be reused or freed, see *_destroy). */
static int join_or_stall(pthread_t *tids, uint32_t n, uint64_t deadline_ns, vx_stress_result *r,
                         const char *what) {
    uint64_t now = vx_mono_ns();
    uint64_t wait_ns = (deadline_ns > now ? deadline_ns - now : 0) + STALL_GRACE_NS;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* pthread_timedjoin_np's clock */
    uint64_t abs_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + wait_ns;
    ts.tv_sec = (time_t)(abs_ns / 1000000000u);
    ts.tv_nsec = (long)(abs_ns % 1000000000u);
    for (uint32_t i = 0; i < n; i++) {
        if (pthread_timedjoin_np(tids[i], NULL, &ts) != 0) {
            r->checks++;
            violation(r, "%s: thread %u still running %llu s after the slice deadline: the structure stalled "
                      "(livelock or deadlock)", what, i, (unsigned long long)(STALL_GRACE_NS / 1000000000u));
            return 0;
        }
    }
    return 1;
}

/* ------------------------------------------------------------------------ */
/* SPSC ring                                                                */
/* ------------------------------------------------------------------------ */

#define BATCH_MAX 64

struct vx_stress_ring {
    vx_ring *ring;
    uint32_t max_batch;
    uint64_t seed;
    uint64_t next_id; /* producer's next id (carried across slices) */
    uint64_t expect;  /* consumer's next expected id (carried across slices) */
    /* choice streams, one per thread, each on its own cache line so the two
     * threads' bookkeeping does not false-share (the ring under test should
     * be the only shared memory they touch while running) */
    _Alignas(VX_CACHELINE) uint64_t prng_prod;
    _Alignas(VX_CACHELINE) uint64_t prng_cons;
    /* per slice */
    uint64_t max_ops, deadline_ns;
    /** One past the last id pushed this slice, UINT64_MAX while the producer
     *  runs: written once by the producer (release), read by the consumer. */
    vx_atomic_u64 produced_end;
    vx_stress_result res[2];
    int stalled; /* a slice's threads never finished: unusable, never freed */
};

static inline void ring_fill(vx_txn *t, uint64_t id, uint64_t seed) {
    uint64_t m = mix(seed ^ id);
    t->id = id;
    t->ts = ~id;
    t->price = (int64_t)(m >> 1);
    t->qty = (uint32_t)m;
    t->side = (uint8_t)(m >> 40) & 1;
    t->flags = 0;
    t->producer = (uint16_t)(m >> 48);
}

static inline int ring_record_ok(const vx_txn *t, uint64_t seed) {
    vx_txn want;
    ring_fill(&want, t->id, seed);
    return memcmp(t, &want, sizeof want) == 0;
}

static void *ring_producer(void *arg) {
    vx_stress_ring *d = arg;
    vx_stress_result *r = &d->res[0];
    vx_txn buf[BATCH_MAX];
    uint64_t id = d->next_id, pushed = 0;
    uint32_t fails = 0;
    uint32_t iter = 0;
    while (!slice_over(pushed, d->max_ops, d->deadline_ns, &iter)) {
        uint64_t c = rnd(&d->prng_prod);
        size_t want = (d->max_batch > 1 && (c & 1)) ? 1 + (size_t)((c >> 8) % d->max_batch) : 1;
        if (want > d->max_ops - pushed) want = (size_t)(d->max_ops - pushed);
        size_t got;
        if (want == 1) {
            ring_fill(&buf[0], id, d->seed);
            got = (size_t)vx_ring_push(d->ring, &buf[0]);
        } else {
            for (size_t i = 0; i < want; i++) ring_fill(&buf[i], id + i, d->seed);
            got = vx_ring_push_many(d->ring, buf, want);
        }
        if (got == 0) {
            r->waits++;
            wait_step(&fails);
            continue;
        }
        fails = 0;
        id += got;
        pushed += got;
    }
    r->ops = pushed;
    d->next_id = id;
    /* release: every push above happens before the consumer reads the end
     * marker; pairs with the acquire load in ring_consumer, so an empty pop
     * after seeing the marker means nothing more will come. */
    vx_store(&d->produced_end, id, VX_RELEASE);
    return NULL;
}

static void *ring_consumer(void *arg) {
    vx_stress_ring *d = arg;
    vx_stress_result *r = &d->res[1];
    vx_txn buf[BATCH_MAX];
    uint64_t popped = 0;
    uint32_t fails = 0;
    /* a local copy, written back at the end: the driver struct is read by the
     * producer on every operation, so writing it per record would false-share */
    uint64_t expect = d->expect;
    for (;;) {
        /* acquire: pairs with the release store in ring_producer; loaded
         * before the pop so that "end known and ring empty" means done. */
        uint64_t end = vx_load(&d->produced_end, VX_ACQUIRE);
        uint64_t c = rnd(&d->prng_cons);
        size_t want = (d->max_batch > 1 && (c & 1)) ? 1 + (size_t)((c >> 8) % d->max_batch) : 1;
        size_t got = want == 1 ? (size_t)vx_ring_pop(d->ring, &buf[0]) : vx_ring_pop_many(d->ring, buf, want);
        if (got == 0) {
            if (end != UINT64_MAX) {
                r->checks++;
                if (expect != end)
                    violation(r, "ring: lost records: producer pushed up to id %llu, consumer got up to %llu "
                              "and the ring is empty", (unsigned long long)end, (unsigned long long)expect);
                expect = end;
                break;
            }
            r->waits++;
            wait_step(&fails);
            continue;
        }
        fails = 0;
        popped += got;
        for (size_t i = 0; i < got; i++) {
            const vx_txn *t = &buf[i];
            r->checks++;
            if (t->id != expect) {
                violation(r, "ring: expected id %llu, got %llu (%s)", (unsigned long long)expect,
                          (unsigned long long)t->id, t->id > expect ? "loss or reorder" : "duplicate or reorder");
                if (t->id > expect) expect = t->id; /* resynchronise: count each fault once */
            }
            if (!ring_record_ok(t, d->seed))
                violation(r, "ring: record %llu has a corrupt payload (torn or stale slot)",
                          (unsigned long long)t->id);
            if (t->id >= expect) expect = t->id + 1;
        }
    }
    r->ops = popped;
    d->expect = expect;
    return NULL;
}

vx_stress_ring *vx_stress_ring_create(uint64_t capacity, uint64_t start_index, uint32_t max_batch,
                                      uint64_t seed, int *err) {
    if (max_batch < 1 || max_batch > BATCH_MAX) {
        *err = VX_EINVAL;
        return NULL;
    }
    /* aligned: the struct has cache-line-aligned members */
    vx_stress_ring *d = aligned_alloc(VX_CACHELINE, (sizeof *d + VX_CACHELINE - 1) / VX_CACHELINE * VX_CACHELINE);
    if (d == NULL) {
        *err = VX_ENOMEM;
        return NULL;
    }
    memset(d, 0, sizeof *d);
    d->ring = vx_ring_create(capacity, start_index, err);
    if (d->ring == NULL) {
        free(d);
        return NULL;
    }
    d->max_batch = max_batch;
    d->seed = seed;
    d->prng_prod = seed_state(seed, 0);
    d->prng_cons = seed_state(seed, 1);
    *err = VX_OK;
    return d;
}

int vx_stress_ring_run(vx_stress_ring *d, uint64_t max_ops, uint64_t duration_ns, vx_stress_result *out) {
    memset(out, 0, sizeof *out);
    if (d->stalled) return VX_EINVAL;
    memset(d->res, 0, sizeof d->res);
    d->max_ops = max_ops;
    d->deadline_ns = vx_mono_ns() + duration_ns;
    /* not yet shared: pthread_create below publishes it. */
    vx_init(&d->produced_end, UINT64_MAX);
    pthread_t tids[2];
    /* consumer first: if the producer cannot start, the consumer is told
     * that nothing comes and stops; nothing can wait forever */
    if (pthread_create(&tids[1], NULL, ring_consumer, d) != 0) return VX_ENOMEM;
    if (pthread_create(&tids[0], NULL, ring_producer, d) != 0) {
        /* release: as in ring_producer (here nothing was pushed). */
        vx_store(&d->produced_end, d->next_id, VX_RELEASE);
        pthread_join(tids[1], NULL);
        return VX_ENOMEM;
    }
    if (!join_or_stall(tids, 2, d->deadline_ns, out, "ring")) {
        d->stalled = 1;
        return VX_ETIMEOUT;
    }
    merge(out, &d->res[0]);
    merge(out, &d->res[1]);
    out->checks++;
    if (vx_ring_len(d->ring) != 0) violation(out, "ring: not empty at quiescence after the consumer drained it");
    return VX_OK;
}

void vx_stress_ring_destroy(vx_stress_ring *d) {
    if (d == NULL || d->stalled) return; /* stalled threads may still use it: leak it */
    vx_ring_destroy(d->ring);
    free(d);
}

/* ------------------------------------------------------------------------ */
/* Order book                                                               */
/* ------------------------------------------------------------------------ */

#define BOOK_BASE 1000000
#define MAX_THREADS 64

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
             * levels empty often and the best-price hint must come down */
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
            violation(r, "book: %s(%s, %lld, %lld) by thread %u returned %s although the thread owns %lld there",
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
                violation(r, "book: %s level %u holds %lld at quiescence, the threads' adds minus removes "
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
            violation(r, "book: best %s is %lld at quiescence, recomputed from the levels %lld (-1: empty)",
                      side == VX_BID ? "bid" : "ask", (long long)p, (long long)best[side]);
    }
    if (best[VX_BID] >= 0 && best[VX_ASK] >= 0) {
        int64_t b, a;
        r->checks++;
        if (vx_book_best(d->book, VX_BID, &b) && vx_book_best(d->book, VX_ASK, &a) && a - b < 0)
            violation(r, "book: spread %lld < 0 on non-crossing input", (long long)(a - b));
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
    uint32_t started = start_threads(tids, d->threads, book_worker, d->th, sizeof(book_thread));
    /* the started workers stop at the deadline on their own */
    if (!join_or_stall(tids, started, d->deadline_ns, out, "book")) {
        d->stalled = 1;
        return VX_ETIMEOUT;
    }
    for (uint32_t t = 0; t < started; t++) merge(out, &d->th[t].res);
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

/* ------------------------------------------------------------------------ */
/* MPMC ring                                                                */
/* ------------------------------------------------------------------------ */

struct vx_stress_mpmc;
typedef struct mpmc_thread {
    struct vx_stress_mpmc *d;
    uint32_t index; /* producer or consumer number */
    uint64_t prng;
    vx_stress_result res;
} mpmc_thread;

struct vx_stress_mpmc {
    vx_mpmc *q;
    uint32_t producers, consumers;
    uint64_t seed;
    uint64_t *next_seq;  /* [p]: producer p's next sequence number (private to p) */
    uint64_t *prod_hash; /* [p]: wrapping sum of tag(p, s) over pushed s (private to p) */
    uint64_t *last;      /* [c * producers + p]: 1 + last seq consumer c got from p (private to c) */
    uint64_t *got;       /* [c * producers + p]: records consumer c got from p */
    uint64_t *got_hash;  /* [c * producers + p]: wrapping sum of their tags */
    mpmc_thread *th;     /* producers then consumers */
    uint64_t max_ops, deadline_ns;
    int stalled; /* a slice's threads never finished: unusable, never freed */
    /** Producers finished this slice: each producer adds 1 (release) after its
     *  last push; consumers stop when it equals producers and a pop is empty. */
    vx_atomic_u64 producers_done;
};

static inline uint64_t tag(uint64_t seed, uint32_t p, uint64_t s) { return mix(seed ^ mix(((uint64_t)p << 48) ^ s)); }

static inline void mpmc_fill(vx_txn *t, uint64_t seed, uint32_t p, uint64_t s) {
    uint64_t m = tag(seed, p, s);
    t->id = s;
    t->ts = m;
    t->price = (int64_t)(m >> 3);
    t->qty = (uint32_t)(m >> 7);
    t->side = 0;
    t->flags = 0;
    t->producer = (uint16_t)p;
}

static void *mpmc_producer(void *arg) {
    mpmc_thread *mt = arg;
    vx_stress_mpmc *d = mt->d;
    vx_stress_result *r = &mt->res;
    uint32_t p = mt->index;
    uint64_t s = d->next_seq[p], h = d->prod_hash[p], done = 0;
    uint32_t fails = 0;
    vx_txn buf[8];
    uint32_t iter = 0;
    while (!slice_over(done, d->max_ops, d->deadline_ns, &iter)) {
        uint64_t c = rnd(&mt->prng);
        size_t want = (c & 3) == 0 ? 1 + (size_t)((c >> 8) % 8) : 1;
        if (want > d->max_ops - done) want = (size_t)(d->max_ops - done);
        for (size_t i = 0; i < want; i++) mpmc_fill(&buf[i], d->seed, p, s + i);
        size_t got = want == 1 ? (size_t)vx_mpmc_push(d->q, &buf[0]) : vx_mpmc_push_many(d->q, buf, want);
        if (got == 0) {
            r->waits++;
            wait_step(&fails);
            continue;
        }
        fails = 0;
        for (size_t i = 0; i < got; i++) h += tag(d->seed, p, s + i);
        s += got;
        done += got;
    }
    d->next_seq[p] = s;
    d->prod_hash[p] = h;
    r->ops = done;
    /* release: all our pushes happen before a consumer that sees the count
     * (acquire in mpmc_consumer) concludes the queue is drained. */
    vx_fetch_add(&d->producers_done, 1, VX_RELEASE);
    return NULL;
}

static void *mpmc_consumer(void *arg) {
    mpmc_thread *mt = arg;
    vx_stress_mpmc *d = mt->d;
    vx_stress_result *r = &mt->res;
    uint32_t c = mt->index;
    uint64_t *last = &d->last[(size_t)c * d->producers];
    uint64_t *got = &d->got[(size_t)c * d->producers];
    uint64_t *gh = &d->got_hash[(size_t)c * d->producers];
    uint32_t fails = 0;
    uint64_t popped = 0;
    vx_txn t;
    for (;;) {
        /* acquire: pairs with the release fetch_add in mpmc_producer; loaded
         * before the pop, so "all done and empty" means drained. */
        uint64_t fin = vx_load(&d->producers_done, VX_ACQUIRE);
        if (!vx_mpmc_pop(d->q, &t)) {
            if (fin == d->producers) break;
            r->waits++;
            wait_step(&fails);
            continue;
        }
        fails = 0;
        popped++;
        r->checks++;
        uint32_t p = t.producer;
        if (p >= d->producers) {
            violation(r, "mpmc: consumer %u got a record from producer %u, but there are only %u", c, p,
                      d->producers);
            continue;
        }
        vx_txn want;
        mpmc_fill(&want, d->seed, p, t.id);
        if (memcmp(&t, &want, sizeof t) != 0)
            violation(r, "mpmc: consumer %u got a corrupt record (producer %u, seq %llu): torn or stale cell", c,
                      p, (unsigned long long)t.id);
        if (t.id + 1 <= last[p])
            violation(r, "mpmc: consumer %u got seq %llu of producer %u after seq %llu (per-producer FIFO "
                      "broken, or a duplicate)", c, (unsigned long long)t.id, p, (unsigned long long)(last[p] - 1));
        else
            last[p] = t.id + 1;
        got[p]++;
        gh[p] += tag(d->seed, p, t.id);
    }
    r->ops = popped;
    return NULL;
}

vx_stress_mpmc *vx_stress_mpmc_create(uint64_t capacity, uint32_t producers, uint32_t consumers,
                                      uint64_t start_index, uint64_t seed, int *err) {
    if (producers < 1 || consumers < 1 || producers + consumers > MAX_THREADS) {
        *err = VX_EINVAL;
        return NULL;
    }
    vx_stress_mpmc *d = calloc(1, sizeof *d);
    if (d == NULL) {
        *err = VX_ENOMEM;
        return NULL;
    }
    size_t pc = (size_t)producers * consumers;
    d->next_seq = calloc(producers, sizeof(uint64_t));
    d->prod_hash = calloc(producers, sizeof(uint64_t));
    d->last = calloc(pc, sizeof(uint64_t));
    d->got = calloc(pc, sizeof(uint64_t));
    d->got_hash = calloc(pc, sizeof(uint64_t));
    d->th = calloc((size_t)producers + consumers, sizeof(mpmc_thread));
    d->q = vx_mpmc_create(capacity, start_index, err);
    if (!d->next_seq || !d->prod_hash || !d->last || !d->got || !d->got_hash || !d->th || !d->q) {
        if (d->q != NULL) *err = VX_ENOMEM;
        vx_stress_mpmc_destroy(d);
        return NULL;
    }
    d->producers = producers;
    d->consumers = consumers;
    d->seed = seed;
    for (uint32_t i = 0; i < producers + consumers; i++) {
        d->th[i].d = d;
        d->th[i].index = i < producers ? i : i - producers;
        d->th[i].prng = seed_state(seed, 200 + i);
    }
    *err = VX_OK;
    return d;
}

int vx_stress_mpmc_run(vx_stress_mpmc *d, uint64_t max_ops, uint64_t duration_ns, vx_stress_result *out) {
    memset(out, 0, sizeof *out);
    if (d->stalled) return VX_EINVAL;
    d->max_ops = max_ops;
    d->deadline_ns = vx_mono_ns() + duration_ns;
    /* not yet shared: pthread_create below publishes it. */
    vx_init(&d->producers_done, 0);
    uint32_t n = d->producers + d->consumers;
    for (uint32_t i = 0; i < n; i++) memset(&d->th[i].res, 0, sizeof d->th[i].res);
    pthread_t tids[MAX_THREADS];
    uint32_t cons = start_threads(tids, d->consumers, mpmc_consumer, d->th + d->producers, sizeof(mpmc_thread));
    uint32_t prod = cons == d->consumers
                        ? start_threads(tids + cons, d->producers, mpmc_producer, d->th, sizeof(mpmc_thread))
                        : 0;
    if (prod < d->producers) {
        /* Out of threads: the producers that never started count as done so
         * the consumers can finish. release: as the producers' own
         * fetch_add; pairs with the acquire load in mpmc_consumer. */
        vx_fetch_add(&d->producers_done, d->producers - prod, VX_RELEASE);
        if (cons < d->consumers) {
            /* no consumer for what started producers push: drain here */
            vx_txn t;
            join_threads(tids + cons, prod);
            while (vx_mpmc_pop(d->q, &t)) {
            }
        }
        join_threads(tids, cons + (cons == d->consumers ? prod : 0));
        return VX_ENOMEM;
    }
    if (!join_or_stall(tids, n, d->deadline_ns, out, "mpmc")) {
        d->stalled = 1;
        return VX_ETIMEOUT;
    }
    for (uint32_t i = 0; i < n; i++) merge(out, &d->th[i].res);
    for (uint32_t p = 0; p < d->producers; p++) {
        uint64_t cnt = 0, h = 0;
        for (uint32_t c = 0; c < d->consumers; c++) {
            cnt += d->got[(size_t)c * d->producers + p];
            h += d->got_hash[(size_t)c * d->producers + p];
        }
        out->checks += 2;
        if (cnt != d->next_seq[p])
            violation(out, "mpmc: producer %u pushed %llu records in all, consumers got %llu (%s)", p,
                      (unsigned long long)d->next_seq[p], (unsigned long long)cnt,
                      cnt < d->next_seq[p] ? "loss" : "duplication");
        else if (h != d->prod_hash[p])
            violation(out, "mpmc: producer %u: counts match but the multiset of records differs (a loss and a "
                      "duplicate cancelled out)", p);
    }
    out->checks++;
    if (vx_mpmc_len(d->q) != 0) violation(out, "mpmc: not empty at quiescence after the consumers drained it");
    return VX_OK;
}

void vx_stress_mpmc_destroy(vx_stress_mpmc *d) {
    if (d == NULL || d->stalled) return; /* stalled threads may still use it: leak it */
    vx_mpmc_destroy(d->q);
    free(d->next_seq);
    free(d->prod_hash);
    free(d->last);
    free(d->got);
    free(d->got_hash);
    free(d->th);
    free(d);
}

/* ------------------------------------------------------------------------ */
/* Order-book history recorder                                              */
/* ------------------------------------------------------------------------ */

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
    uint32_t started = start_threads(tids, d->threads, hist_worker, d->th, sizeof(hist_thread));
    if (started < d->threads) {
        /* release: the started workers leave their barrier and stop; pairs
         * with the acquire load of aborted in barrier_wait. */
        vx_store(&d->bar.aborted, 1, VX_RELEASE);
        join_threads(tids, started);
        return VX_ENOMEM;
    }
    join_threads(tids, d->threads);
    for (uint32_t t = 0; t < d->threads; t++) merge(out, &d->th[t].res);
    return VX_OK;
}

void vx_stress_hist_destroy(vx_stress_hist *d) {
    if (d == NULL) return;
    vx_book_destroy(d->book);
    free(d->th);
    free(d);
}

#else  /* VX_MODEL: the drivers use POSIX threads and are not part of the model build. */
typedef int vx_stress_not_in_model_build;
#endif /* VX_MODEL */
