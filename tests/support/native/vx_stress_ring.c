/* vx_stress_ring.c: the SPSC ring stress driver (one producer, one consumer;
 * FIFO, no loss, no duplication, payload intact); see vx_stress.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_atomic.h"
#include "vx_stress.h"
#include "vx_stress_util.h"
#include "vx_ring.h"

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
                    vx_stress_violation(r, "ring: lost records: producer pushed up to id %llu, consumer got up to %llu "
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
                vx_stress_violation(r, "ring: expected id %llu, got %llu (%s)", (unsigned long long)expect,
                          (unsigned long long)t->id, t->id > expect ? "loss or reorder" : "duplicate or reorder");
                if (t->id > expect) expect = t->id; /* resynchronise: count each fault once */
            }
            if (!ring_record_ok(t, d->seed))
                vx_stress_violation(r, "ring: record %llu has a corrupt payload (torn or stale slot)",
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
    if (!vx_stress_join_or_stall(tids, 2, d->deadline_ns, out, "ring")) {
        d->stalled = 1;
        return VX_ETIMEOUT;
    }
    vx_stress_merge(out, &d->res[0]);
    vx_stress_merge(out, &d->res[1]);
    out->checks++;
    if (vx_ring_len(d->ring) != 0) vx_stress_violation(out, "ring: not empty at quiescence after the consumer drained it");
    return VX_OK;
}

void vx_stress_ring_destroy(vx_stress_ring *d) {
    if (d == NULL || d->stalled) return; /* stalled threads may still use it: leak it */
    vx_ring_destroy(d->ring);
    free(d);
}
