/*
 * vx_bench.c: the two-thread benchmark driver of the SPSC ring, and its peer.
 * See vx_bench.h for the method and what is measured.
 *
 * Choices that shape the figures (docs/benchmarks.md says more):
 *   - Waiting loops retry at once, without the spin hint: on recent Intel
 *     cores `pause` costs about 140 cycles, which would measure the wait
 *     strategy rather than the ring (rigtorp's benchmark retries at once too).
 *     After SPIN_BEFORE_YIELD failed attempts in a row a thread yields, so a
 *     run on an oversubscribed machine (both threads on one core, or a
 *     neighbour's job on ours) degrades instead of burning whole time slices.
 *   - Both rings start their free-running 64-bit indices records/2 below
 *     2^64, so every run crosses the wrap of the counters halfway through and
 *     the delivery check covers it.
 *   - Every ring's per-item push and pop are inlined at the call site:
 *     velox's from vx_ring.h (vx_ring_try_push / vx_ring_try_pop), the peers'
 *     from this file, so no case pays a call per record that another does not.
 */
#define _GNU_SOURCE
#include "vx_bench.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vx_atomic.h"
#include "vx_ring.h"

/** Failed attempts in a row before a waiting thread yields its core. */
#define SPIN_BEFORE_YIELD 4096u

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Count one failed attempt; yield the core after SPIN_BEFORE_YIELD of them. */
static inline void backoff(uint32_t *spins) {
    if (UNLIKELY(++*spins >= SPIN_BEFORE_YIELD)) {
        *spins = 0;
        sched_yield();
    }
}

/* Pin the calling thread to `cpu` (-1: leave it). Returns 1 when pinned. */
static int pin_self(int32_t cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

/* ------------------------------------------------------------------------ */
/* The peer: Lamport's ring without cached indices.                         */
/* ------------------------------------------------------------------------ */

/* Lamport, "Specifying concurrent program modules" (TOPLAS 1983), with the
 * same free-running 64-bit indices, power-of-two mask and cache-line layout
 * as vx_ring, but no cached copy of the opposite index: every push reads the
 * consumer's head and every pop reads the producer's tail, so each operation
 * pulls the other core's index line. It is the baseline the cached index of
 * rigtorp/SPSCQueue (and vx_ring) improves on. Invariant as vx_ring:
 * 0 <= tail - head <= capacity in unsigned 64-bit arithmetic. */
typedef struct lamport_ring {
    /** Next index the producer writes; written only by the producer. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 tail;
    /** Next index the consumer reads; written only by the consumer. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 head;
    /* Read-only after creation. */
    _Alignas(VX_CACHELINE) uint64_t capacity;
    uint64_t mask;
    vx_txn *slots;
} lamport_ring;

_Static_assert(offsetof(lamport_ring, head) - offsetof(lamport_ring, tail) >= VX_CACHELINE,
               "peer: producer and consumer indices must not share a cache line");
_Static_assert(offsetof(lamport_ring, capacity) - offsetof(lamport_ring, head) >= VX_CACHELINE,
               "peer: consumer index must not share a line with the read-only fields");

static lamport_ring *lamport_create(uint64_t capacity, uint64_t start) {
    lamport_ring *r = aligned_alloc(VX_CACHELINE, sizeof(lamport_ring));
    vx_txn *slots = vx_txn_alloc(capacity);
    if (r == NULL || slots == NULL) {
        free(r);
        free(slots);
        return NULL;
    }
    memset(r, 0, sizeof *r);
    vx_init(&r->tail, start);
    vx_init(&r->head, start);
    r->capacity = capacity;
    r->mask = capacity - 1;
    r->slots = slots;
    return r;
}

static void lamport_destroy(lamport_ring *r) {
    if (r == NULL) return;
    free(r->slots);
    free(r);
}

static inline int lamport_push(lamport_ring *r, const vx_txn *t) {
    /* relaxed: only the producer (this thread) writes tail. */
    uint64_t tail = vx_load(&r->tail, VX_RELAXED);
    /* acquire: the consumer's read of a slot happens before we overwrite it;
     * pairs with the release store of head in lamport_pop. */
    uint64_t head = vx_load(&r->head, VX_ACQUIRE);
    if (tail - head == r->capacity) return 0;
    vx_txn *slot = &r->slots[tail & r->mask];
    VX_CELL_WRITE(slot, sizeof *slot);
    *slot = *t;
    /* release: publishes the slot written above; pairs with the acquire load
     * of tail in lamport_pop. */
    vx_store(&r->tail, tail + 1, VX_RELEASE);
    return 1;
}

static inline int lamport_pop(lamport_ring *r, vx_txn *out) {
    /* relaxed: only the consumer (this thread) writes head. */
    uint64_t head = vx_load(&r->head, VX_RELAXED);
    /* acquire: the producer's write of the slot is visible before we read
     * it; pairs with the release store of tail in lamport_push. */
    uint64_t tail = vx_load(&r->tail, VX_ACQUIRE);
    if (tail == head) return 0;
    const vx_txn *slot = &r->slots[head & r->mask];
    VX_CELL_READ(slot, sizeof *slot);
    *out = *slot;
    /* release: our read of the slot is done before the producer may reuse
     * it; pairs with the acquire load of head in lamport_push. */
    vx_store(&r->head, head + 1, VX_RELEASE);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* The second peer: a minimal cached-index ring, the hardware's pace.       */
/* ------------------------------------------------------------------------ */

/* The smallest correct SPSC ring with cached opposite indices (the design of
 * rigtorp/SPSCQueue), written for this benchmark only: everything the
 * producer touches on a push (its index, its cached copy of the consumer's
 * index, the slot array and mask) sits on the producer's cache line, and the
 * same for the consumer, so a push or pop touches exactly one shared line
 * besides the slot, and only when the cache runs out. No statistics, no
 * model-build annotations beyond the atomics, no checks: what a ring costs
 * on this machine, against which velox's ring is measured in the same run.
 * Invariant as vx_ring: 0 <= tail - head <= mask + 1 (unsigned 64-bit). */
typedef struct mini_ring {
    /* Producer line. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 tail; /**< written only by the producer */
    uint64_t head_cache;                       /**< producer's copy of head */
    vx_txn *pslots;
    uint64_t pmask;
    /* Consumer line. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 head; /**< written only by the consumer */
    uint64_t tail_cache;                       /**< consumer's copy of tail */
    const vx_txn *cslots;
    uint64_t cmask;
} mini_ring;

_Static_assert(offsetof(mini_ring, head) - offsetof(mini_ring, tail) >= VX_CACHELINE,
               "minimal peer: producer and consumer lines must not overlap");

static mini_ring *mini_create(uint64_t capacity, uint64_t start) {
    mini_ring *r = aligned_alloc(VX_CACHELINE, sizeof(mini_ring));
    vx_txn *slots = vx_txn_alloc(capacity);
    if (r == NULL || slots == NULL) {
        free(r);
        free(slots);
        return NULL;
    }
    memset(r, 0, sizeof *r);
    vx_init(&r->tail, start);
    vx_init(&r->head, start);
    r->head_cache = r->tail_cache = start;
    r->pslots = slots;
    r->cslots = slots;
    r->pmask = r->cmask = capacity - 1;
    return r;
}

static void mini_destroy(mini_ring *r) {
    if (r == NULL) return;
    free(r->pslots);
    free(r);
}

/* Free slots from tail, refreshing the cached head when fewer than want. */
static inline uint64_t mini_space(mini_ring *r, uint64_t tail, uint64_t want) {
    uint64_t space = r->pmask + 1 - (tail - r->head_cache);
    if (space < want) {
        /* acquire: the consumer's reads of released slots happen before we
         * overwrite them; pairs with the release stores of head below. */
        r->head_cache = vx_load(&r->head, VX_ACQUIRE);
        space = r->pmask + 1 - (tail - r->head_cache);
    }
    return space;
}

/* Ready records from head, refreshing the cached tail when fewer than want. */
static inline uint64_t mini_ready(mini_ring *r, uint64_t head, uint64_t want) {
    uint64_t ready = r->tail_cache - head;
    if (ready < want) {
        /* acquire: the producer's slot writes are visible before we read
         * them; pairs with the release stores of tail below. */
        r->tail_cache = vx_load(&r->tail, VX_ACQUIRE);
        ready = r->tail_cache - head;
    }
    return ready;
}

static inline int mini_push(mini_ring *r, const vx_txn *t) {
    /* relaxed: only the producer (this thread) writes tail. */
    uint64_t tail = vx_load(&r->tail, VX_RELAXED);
    if (mini_space(r, tail, 1) == 0) return 0;
    VX_CELL_WRITE(&r->pslots[tail & r->pmask], sizeof(vx_txn));
    r->pslots[tail & r->pmask] = *t;
    /* release: publishes the slot; pairs with the acquire in mini_ready. */
    vx_store(&r->tail, tail + 1, VX_RELEASE);
    return 1;
}

static inline int mini_pop(mini_ring *r, vx_txn *out) {
    /* relaxed: only the consumer (this thread) writes head. */
    uint64_t head = vx_load(&r->head, VX_RELAXED);
    if (mini_ready(r, head, 1) == 0) return 0;
    VX_CELL_READ(&r->cslots[head & r->cmask], sizeof(vx_txn));
    *out = r->cslots[head & r->cmask];
    /* release: our read of the slot is done before the producer reuses it;
     * pairs with the acquire in mini_space. */
    vx_store(&r->head, head + 1, VX_RELEASE);
    return 1;
}

static inline size_t mini_push_many(mini_ring *r, const vx_txn *src, size_t n) {
    /* relaxed: only the producer (this thread) writes tail. */
    uint64_t tail = vx_load(&r->tail, VX_RELAXED);
    uint64_t space = mini_space(r, tail, n);
    size_t k = n < space ? n : (size_t)space;
    for (size_t i = 0; i < k; i++) {
        VX_CELL_WRITE(&r->pslots[(tail + i) & r->pmask], sizeof(vx_txn));
        r->pslots[(tail + i) & r->pmask] = src[i];
    }
    /* release: publishes the k slots with one store; pairs with the acquire
     * in mini_ready. */
    if (k) vx_store(&r->tail, tail + k, VX_RELEASE);
    return k;
}

static inline size_t mini_pop_many(mini_ring *r, vx_txn *out, size_t n) {
    /* relaxed: only the consumer (this thread) writes head. */
    uint64_t head = vx_load(&r->head, VX_RELAXED);
    uint64_t ready = mini_ready(r, head, n);
    size_t k = n < ready ? n : (size_t)ready;
    for (size_t i = 0; i < k; i++) {
        VX_CELL_READ(&r->cslots[(head + i) & r->cmask], sizeof(vx_txn));
        out[i] = r->cslots[(head + i) & r->cmask];
    }
    /* release: our reads of the k slots are done before the producer reuses
     * them; pairs with the acquire in mini_space. */
    if (k) vx_store(&r->head, head + k, VX_RELEASE);
    return k;
}

/* ------------------------------------------------------------------------ */
/* Throughput run                                                           */
/* ------------------------------------------------------------------------ */

typedef struct bench_run {
    /** Start barrier: each thread adds 1, then waits for 2. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 ready;
    /** Set by the consumer on a mismatch, or by the driver when a thread
     *  could not start: the other thread stops. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 stop;
    /** Set by the producer after its last push. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 done;

    /* Read-only while the threads run. */
    _Alignas(VX_CACHELINE) const vx_bench_config *cfg;
    vx_ring *ring;
    lamport_ring *peer;
    mini_ring *mini;

    /* Written by the producer, read by the driver after join. */
    _Alignas(VX_CACHELINE) uint64_t t_start;
    uint64_t publications;
    uint64_t full_polls;
    int32_t producer_pinned;

    /* Written by the consumer, read by the driver after join. */
    _Alignas(VX_CACHELINE) uint64_t t_end;
    uint64_t received;
    uint64_t empty_polls;
    uint64_t mismatch_at, expected_id, got_id;
    int32_t consumer_pinned;
} bench_run;

/* Record number seq, as the producer sends it: the consumer checks id and
 * qty (two different 8-byte words, so a torn copy is caught too). */
static inline void fill_record(vx_txn *t, uint64_t seq) {
    t->id = seq;
    t->qty = (uint32_t)seq;
}

static inline int record_ok(const vx_txn *t, uint64_t seq) {
    return t->id == seq && t->qty == (uint32_t)seq;
}

/* Start barrier. Returns 0 when the run was stopped before it started. */
static int wait_for_partner(bench_run *b) {
    /* acq_rel: orders this thread's setup (pinning) before the partner's
     * start; pairs with the partner's fetch_add and the acquire loads below. */
    vx_fetch_add(&b->ready, 1, VX_ACQ_REL);
    uint32_t spins = 0;
    /* acquire: pairs with the partner's acq_rel fetch_add above. */
    while (vx_load(&b->ready, VX_ACQUIRE) < 2) {
        /* relaxed: stop carries no data, only "give up". */
        if (vx_load(&b->stop, VX_RELAXED)) return 0;
        backoff(&spins);
    }
    return 1;
}

/* relaxed: a stop request carries no data; the producer only needs to see it
 * eventually (it is polled in every wait). Partner: the consumer's store. */
static inline int stop_requested(bench_run *b) { return vx_load(&b->stop, VX_RELAXED) != 0; }

static void *producer_main(void *arg) {
    bench_run *b = arg;
    const vx_bench_config *c = b->cfg;
    b->producer_pinned = pin_self(c->cpu_producer);
    if (!wait_for_partner(b)) return NULL;
    uint64_t n = c->records, pubs = 0, full = 0;
    b->t_start = mono_ns();
    if (c->batch == 1) {
        vx_txn t;
        memset(&t, 0, sizeof t);
        t.producer = 1;
        for (uint64_t seq = 0; seq < n; seq++) {
            fill_record(&t, seq);
            uint32_t spins = 0;
            for (;;) {
                int pushed = c->impl == VX_BENCH_VELOX     ? vx_ring_try_push(b->ring, &t)
                             : c->impl == VX_BENCH_MINIMAL ? mini_push(b->mini, &t)
                                                           : lamport_push(b->peer, &t);
                if (LIKELY(pushed)) break;
                full++;
                if (stop_requested(b)) goto out;
                backoff(&spins);
            }
            pubs++;
        }
    } else {
        vx_txn *buf = vx_txn_alloc(c->batch); /* size rounded to whole lines, as aligned_alloc requires */
        if (buf == NULL) {
            /* relaxed: "give up" carries no data (see stop_requested). */
            vx_store(&b->stop, 1, VX_RELAXED);
            goto out;
        }
        memset(buf, 0, (size_t)c->batch * sizeof(vx_txn));
        for (uint64_t seq = 0; seq < n;) {
            size_t want = n - seq < c->batch ? (size_t)(n - seq) : c->batch;
            for (size_t i = 0; i < want; i++) fill_record(&buf[i], seq + i);
            size_t off = 0;
            uint32_t spins = 0;
            while (off < want) {
                size_t k = c->impl == VX_BENCH_VELOX ? vx_ring_push_many(b->ring, buf + off, want - off)
                                                     : mini_push_many(b->mini, buf + off, want - off);
                if (LIKELY(k > 0)) {
                    off += k;
                    pubs++;
                    continue;
                }
                full++;
                if (stop_requested(b)) {
                    free(buf);
                    goto out;
                }
                backoff(&spins);
            }
            seq += want;
        }
        free(buf);
    }
out:
    b->publications = pubs;
    b->full_polls = full;
    /* release: every push above happens before a consumer that reads done=1;
     * pairs with the acquire load of done in consumer_main. */
    vx_store(&b->done, 1, VX_RELEASE);
    return NULL;
}

/* The consumer found record `pos` wrong (got_id UINT64_MAX: it never came). */
static void report_mismatch(bench_run *b, uint64_t pos, uint64_t got) {
    b->mismatch_at = pos;
    b->expected_id = pos;
    b->got_id = got;
    /* relaxed: "give up" carries no data (see stop_requested). */
    vx_store(&b->stop, 1, VX_RELAXED);
}

static void *consumer_main(void *arg) {
    bench_run *b = arg;
    const vx_bench_config *c = b->cfg;
    b->consumer_pinned = pin_self(c->cpu_consumer);
    if (!wait_for_partner(b)) return NULL;
    uint64_t n = c->records, received = 0, empty = 0;
    int finished = 0; /* the producer said done before our last failed attempt */
    uint32_t spins = 0;
    if (c->batch == 1) {
        vx_txn t;
        while (received < n) {
            int popped = c->impl == VX_BENCH_VELOX     ? vx_ring_try_pop(b->ring, &t)
                         : c->impl == VX_BENCH_MINIMAL ? mini_pop(b->mini, &t)
                                                       : lamport_pop(b->peer, &t);
            if (UNLIKELY(!popped)) {
                empty++;
                if (finished) {
                    report_mismatch(b, received, UINT64_MAX);
                    break;
                }
                /* acquire: after done=1 every record the producer pushed is
                 * visible, so one more failed pop means records were lost;
                 * pairs with the release store of done in producer_main. */
                finished = vx_load(&b->done, VX_ACQUIRE) != 0;
                backoff(&spins);
                continue;
            }
            if (UNLIKELY(!record_ok(&t, received))) {
                report_mismatch(b, received, t.id);
                break;
            }
            received++;
        }
    } else {
        vx_txn *buf = vx_txn_alloc(c->batch); /* size rounded to whole lines, as aligned_alloc requires */
        if (buf == NULL) {
            report_mismatch(b, 0, UINT64_MAX);
            goto out;
        }
        while (received < n) {
            size_t want = n - received < c->batch ? (size_t)(n - received) : c->batch;
            size_t k = c->impl == VX_BENCH_VELOX ? vx_ring_pop_many(b->ring, buf, want)
                                                 : mini_pop_many(b->mini, buf, want);
            if (UNLIKELY(k == 0)) {
                empty++;
                if (finished) {
                    report_mismatch(b, received, UINT64_MAX);
                    break;
                }
                /* acquire: as in the per-item loop above; pairs with the
                 * release store of done in producer_main. */
                finished = vx_load(&b->done, VX_ACQUIRE) != 0;
                backoff(&spins);
                continue;
            }
            for (size_t i = 0; i < k; i++) {
                if (UNLIKELY(!record_ok(&buf[i], received + i))) {
                    report_mismatch(b, received + i, buf[i].id);
                    received += i;
                    free(buf);
                    goto out;
                }
            }
            received += k;
        }
        free(buf);
    }
out:
    b->t_end = mono_ns();
    b->received = received;
    b->empty_polls = empty;
    return NULL;
}

int vx_bench_check_config(const vx_bench_config *c, const char **why) {
    const char *msg = NULL;
    if (!vx_ring_capacity_ok(c->capacity))
        msg = "capacity must be a power of two from 1 to 2**26";
    else if (c->records < 1 || c->records > VX_BENCH_MAX_RECORDS)
        msg = "records must be from 1 to 2**40";
    else if (c->batch < 1 || c->batch > VX_BENCH_MAX_BATCH)
        msg = "batch must be from 1 (per item) to 4096";
    else if (c->batch > c->capacity)
        msg = "batch must not exceed the capacity (a batch would never fit)";
    else if (c->impl != VX_BENCH_VELOX && c->impl != VX_BENCH_LAMPORT && c->impl != VX_BENCH_MINIMAL)
        msg = "impl must be VX_BENCH_VELOX (0), VX_BENCH_LAMPORT (1) or VX_BENCH_MINIMAL (2)";
    else if (c->impl == VX_BENCH_LAMPORT && c->batch != 1)
        msg = "the Lamport peer is measured per item only (batch 1)";
    if (why != NULL) *why = msg;
    return msg == NULL ? VX_OK : VX_EINVAL;
}

int vx_bench_ring(const vx_bench_config *cfg, vx_bench_result *out) {
    if (vx_bench_check_config(cfg, NULL) != VX_OK) return VX_EINVAL;
    bench_run *b = aligned_alloc(VX_CACHELINE, sizeof(bench_run));
    if (b == NULL) return VX_ENOMEM;
    memset(b, 0, sizeof *b);
    vx_init(&b->ready, 0);
    vx_init(&b->stop, 0);
    vx_init(&b->done, 0);
    b->cfg = cfg;
    b->mismatch_at = VX_BENCH_NO_MISMATCH;
    /* Start records/2 below 2^64: the indices wrap halfway through the run. */
    uint64_t start = UINT64_MAX - cfg->records / 2;
    int err = VX_OK;
    if (cfg->impl == VX_BENCH_VELOX) {
        b->ring = vx_ring_create(cfg->capacity, start, &err);
    } else if (cfg->impl == VX_BENCH_MINIMAL) {
        b->mini = mini_create(cfg->capacity, start);
        if (b->mini == NULL) err = VX_ENOMEM;
    } else {
        b->peer = lamport_create(cfg->capacity, start);
        if (b->peer == NULL) err = VX_ENOMEM;
    }
    if (err != VX_OK) {
        free(b);
        return err;
    }
    pthread_t consumer, producer;
    int rc = VX_OK;
    if (pthread_create(&consumer, NULL, consumer_main, b) != 0) {
        rc = VX_ENOMEM;
    } else {
        if (pthread_create(&producer, NULL, producer_main, b) != 0) {
            /* relaxed: "give up" carries no data; the consumer polls it in
             * the start barrier and is joined below. */
            vx_store(&b->stop, 1, VX_RELAXED);
            rc = VX_ENOMEM;
        } else {
            pthread_join(producer, NULL);
        }
        pthread_join(consumer, NULL);
    }
    if (rc == VX_OK) {
        memset(out, 0, sizeof *out);
        out->elapsed_ns = b->t_end > b->t_start ? b->t_end - b->t_start : 0;
        out->received = b->received;
        out->publications = b->publications;
        out->mismatch_at = b->mismatch_at;
        out->expected_id = b->expected_id;
        out->got_id = b->got_id;
        out->full_polls = b->full_polls;
        out->empty_polls = b->empty_polls;
        out->pinned = b->producer_pinned && b->consumer_pinned;
        out->ok = b->mismatch_at == VX_BENCH_NO_MISMATCH && b->received == cfg->records;
    }
    vx_ring_destroy(b->ring);
    lamport_destroy(b->peer);
    mini_destroy(b->mini);
    free(b);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Core-to-core round trip                                                  */
/* ------------------------------------------------------------------------ */

typedef struct round_trip {
    /** The ping-ponged line: odd values are pings, even values pongs. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 line;
    /** Start barrier, as in bench_run. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 ready;
    /** Set by the driver when the second thread could not start. */
    _Alignas(VX_CACHELINE) vx_atomic_u64 stop;
    _Alignas(VX_CACHELINE) uint64_t iterations;
    int32_t cpu[2];
    int32_t pinned[2];
    uint64_t elapsed_ns; /**< written by the pinging thread */
} round_trip;

typedef struct rt_arg {
    round_trip *rt;
    int side; /* 0 pings, 1 answers */
} rt_arg;

static void *round_trip_main(void *arg) {
    rt_arg *a = arg;
    round_trip *rt = a->rt;
    rt->pinned[a->side] = pin_self(rt->cpu[a->side]);
    /* acq_rel: start barrier; pairs with the partner's fetch_add and the
     * acquire loads below. */
    vx_fetch_add(&rt->ready, 1, VX_ACQ_REL);
    uint32_t spins = 0;
    /* acquire: pairs with the partner's acq_rel fetch_add above. */
    while (vx_load(&rt->ready, VX_ACQUIRE) < 2) {
        /* relaxed: stop carries no data, only "give up". */
        if (vx_load(&rt->stop, VX_RELAXED)) return NULL;
        backoff(&spins);
    }
    uint64_t n = rt->iterations;
    if (a->side == 0) {
        uint64_t t0 = mono_ns();
        for (uint64_t i = 1; i <= n; i++) {
            /* release: a ping as a real handoff would publish data; pairs
             * with the acquire load in the answering loop (the line carries
             * no other data, so relaxed would do; on x86 both are a plain mov). */
            vx_store(&rt->line, 2 * i - 1, VX_RELEASE);
            spins = 0;
            /* acquire: waits for the answer; pairs with the release store of
             * the answering thread. */
            while (vx_load(&rt->line, VX_ACQUIRE) != 2 * i) backoff(&spins);
        }
        rt->elapsed_ns = mono_ns() - t0;
    } else {
        for (uint64_t i = 1; i <= n; i++) {
            spins = 0;
            /* acquire: waits for ping i; pairs with the release store of the
             * pinging thread. */
            while (vx_load(&rt->line, VX_ACQUIRE) != 2 * i - 1) backoff(&spins);
            /* release: the answer; pairs with the pinging thread's acquire load. */
            vx_store(&rt->line, 2 * i, VX_RELEASE);
        }
    }
    return NULL;
}

int vx_bench_round_trip(int32_t cpu_a, int32_t cpu_b, uint64_t iterations, uint64_t *elapsed_ns,
                        int32_t *pinned) {
    if (iterations < 1 || iterations > VX_BENCH_MAX_ROUND_TRIPS) return VX_EINVAL;
    round_trip *rt = aligned_alloc(VX_CACHELINE, sizeof(round_trip));
    if (rt == NULL) return VX_ENOMEM;
    memset(rt, 0, sizeof *rt);
    vx_init(&rt->line, 0);
    vx_init(&rt->ready, 0);
    vx_init(&rt->stop, 0);
    rt->iterations = iterations;
    rt->cpu[0] = cpu_a;
    rt->cpu[1] = cpu_b;
    rt_arg args[2] = {{rt, 0}, {rt, 1}};
    pthread_t th[2];
    int rc = VX_OK;
    if (pthread_create(&th[1], NULL, round_trip_main, &args[1]) != 0) {
        rc = VX_ENOMEM;
    } else {
        if (pthread_create(&th[0], NULL, round_trip_main, &args[0]) != 0) {
            /* relaxed: "give up" carries no data; the answering thread polls
             * it in the start barrier and is joined below. */
            vx_store(&rt->stop, 1, VX_RELAXED);
            rc = VX_ENOMEM;
        } else {
            pthread_join(th[0], NULL);
        }
        pthread_join(th[1], NULL);
    }
    if (rc == VX_OK) {
        *elapsed_ns = rt->elapsed_ns;
        *pinned = rt->pinned[0] && rt->pinned[1];
    }
    free(rt);
    return rc;
}
