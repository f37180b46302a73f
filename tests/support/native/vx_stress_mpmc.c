/* vx_stress_mpmc.c: the MPMC ring stress driver (producers x consumers;
 * per-producer FIFO, no loss, no duplication); see vx_stress.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_atomic.h"
#include "vx_stress.h"
#include "vx_stress_util.h"
#include "vx_mpmc.h"

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
            vx_stress_violation(r, "mpmc: consumer %u got a record from producer %u, but there are only %u", c, p,
                      d->producers);
            continue;
        }
        vx_txn want;
        mpmc_fill(&want, d->seed, p, t.id);
        if (memcmp(&t, &want, sizeof t) != 0)
            vx_stress_violation(r, "mpmc: consumer %u got a corrupt record (producer %u, seq %llu): torn or stale cell", c,
                      p, (unsigned long long)t.id);
        if (t.id + 1 <= last[p])
            vx_stress_violation(r, "mpmc: consumer %u got seq %llu of producer %u after seq %llu (per-producer FIFO "
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
    uint32_t cons = vx_stress_start_threads(tids, d->consumers, mpmc_consumer, d->th + d->producers, sizeof(mpmc_thread));
    uint32_t prod = cons == d->consumers
                        ? vx_stress_start_threads(tids + cons, d->producers, mpmc_producer, d->th, sizeof(mpmc_thread))
                        : 0;
    if (prod < d->producers) {
        /* Out of threads: the producers that never started count as done so
         * the consumers can finish. release: as the producers' own
         * fetch_add; pairs with the acquire load in mpmc_consumer. */
        vx_fetch_add(&d->producers_done, d->producers - prod, VX_RELEASE);
        if (cons < d->consumers) {
            /* no consumer for what started producers push: drain here */
            vx_txn t;
            vx_stress_join_threads(tids + cons, prod);
            while (vx_mpmc_pop(d->q, &t)) {
            }
        }
        vx_stress_join_threads(tids, cons + (cons == d->consumers ? prod : 0));
        return VX_ENOMEM;
    }
    if (!vx_stress_join_or_stall(tids, n, d->deadline_ns, out, "mpmc")) {
        d->stalled = 1;
        return VX_ETIMEOUT;
    }
    for (uint32_t i = 0; i < n; i++) vx_stress_merge(out, &d->th[i].res);
    for (uint32_t p = 0; p < d->producers; p++) {
        uint64_t cnt = 0, h = 0;
        for (uint32_t c = 0; c < d->consumers; c++) {
            cnt += d->got[(size_t)c * d->producers + p];
            h += d->got_hash[(size_t)c * d->producers + p];
        }
        out->checks += 2;
        if (cnt != d->next_seq[p])
            vx_stress_violation(out, "mpmc: producer %u pushed %llu records in all, consumers got %llu (%s)", p,
                      (unsigned long long)d->next_seq[p], (unsigned long long)cnt,
                      cnt < d->next_seq[p] ? "loss" : "duplication");
        else if (h != d->prod_hash[p])
            vx_stress_violation(out, "mpmc: producer %u: counts match but the multiset of records differs (a loss and a "
                      "duplicate cancelled out)", p);
    }
    out->checks++;
    if (vx_mpmc_len(d->q) != 0) vx_stress_violation(out, "mpmc: not empty at quiescence after the consumers drained it");
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
