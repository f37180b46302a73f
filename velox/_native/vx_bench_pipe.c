/*
 * vx_bench_pipe.c: the minimal pipeline peer of `velox run --saturate`.
 *
 * The four stages of velox's pipeline written as plainly as C allows, on one
 * thread: a generator (vx_ingress's xoshiro256** with the same draws as its
 * uniform mode: producer, side, quantity, price), a book of per-level atomic
 * quantities (add the new order, cancel the one placed VX_ORDER_LIFETIME
 * transactions earlier, as the pipeline's book stage does), updated by
 * compare-exchange as a shared vx_book is, or with a plain load and store as
 * the pipeline's single-writer book is, bundles of 16 and an output stage that checks FIFO per producer.
 * Stages hand batches of 64 to each other through plain arrays. No rings, no
 * latency histograms, no counters, no clock reads, no framing: what is left
 * is the work every transaction needs, which is the pace `velox run
 * --saturate --topology single` is measured against (benches/bench_pipeline.py).
 */
#include "vx_bench.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vx_atomic.h"
#include "vx_ingress.h"

#define PEER_BATCH 64
#define PEER_BUNDLE 16
#define PEER_PRODUCERS 4

typedef struct peer_order {
    int64_t qty;
    uint32_t level;
    uint8_t side;
} peer_order;

static uint64_t peer_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One update of a level: a compare-exchange loop, as vx_book's update_level
 * does it, or (single_writer) a load and a store, as its owner_update does. */
static inline void peer_update(vx_atomic_i64 *q, int64_t delta, int single_writer) {
    /* relaxed: a starting guess the compare-exchange checks, or (single
     * writer) this thread's own last store. */
    int64_t cur = vx_load(q, VX_RELAXED);
    if (single_writer) {
        /* relaxed: one thread owns the level; nothing is published. */
        vx_store(q, cur + delta, VX_RELAXED);
        return;
    }
    /* seq_cst on success, relaxed on failure: the orders velox's book uses,
     * so the peer pays for the same locked instruction. */
    while (!vx_cas_weak(q, &cur, cur + delta, VX_SEQ_CST, VX_RELAXED)) {
    }
}

int vx_bench_pipeline_peer(uint64_t transactions, uint64_t seed, int single_writer, vx_bench_pipe_result *out) {
    if (transactions < 1 || transactions > VX_BENCH_MAX_RECORDS) return VX_EINVAL;
    memset(out, 0, sizeof *out);
    vx_atomic_i64 (*book)[VX_INGRESS_LEVELS] = malloc(2 * sizeof *book);
    peer_order *window = calloc(VX_ORDER_LIFETIME, sizeof *window);
    if (book == NULL || window == NULL) {
        free(book);
        free(window);
        return VX_ENOMEM;
    }
    for (int s = 0; s < 2; s++)
        for (uint32_t l = 0; l < VX_INGRESS_LEVELS; l++) vx_init(&book[s][l], 0);
    vx_rng rng;
    vx_rng_seed(&rng, seed);
    uint64_t next_id[PEER_PRODUCERS] = {0}, want_id[PEER_PRODUCERS] = {0};
    vx_txn batch[PEER_BATCH], booked[PEER_BATCH], bundle[PEER_BUNDLE];
    uint32_t in_bundle = 0;
    int64_t live = 0;
    uint64_t applied = 0, violations = 0, delivered = 0;
    uint64_t start = peer_mono_ns();
    for (uint64_t done = 0; done < transactions;) {
        uint64_t k = transactions - done < PEER_BATCH ? transactions - done : PEER_BATCH;
        /* ingress */
        for (uint64_t i = 0; i < k; i++) {
            uint64_t bits = vx_rng_next(&rng);
            uint32_t producer = (uint32_t)(((bits & 0xffffffffu) * PEER_PRODUCERS) >> 32);
            vx_txn *t = &batch[i];
            t->id = next_id[producer]++;
            t->ts = done + i;
            t->price = VX_INGRESS_UNIFORM_LO +
                       (int64_t)vx_rng_below(&rng, (uint64_t)(VX_INGRESS_UNIFORM_HI - VX_INGRESS_UNIFORM_LO));
            t->qty = 1 + (uint32_t)((((bits >> 33) & 0xffffffu) * VX_INGRESS_QTY_MAX) >> 24);
            t->side = (uint8_t)((bits >> 32) & 1);
            t->flags = 0;
            t->producer = (uint16_t)producer;
        }
        /* order book: cancel the order placed VX_ORDER_LIFETIME ago, add this one */
        for (uint64_t i = 0; i < k; i++) {
            const vx_txn *t = &batch[i];
            peer_order *w = &window[applied % VX_ORDER_LIFETIME];
            if (w->qty) {
                peer_update(&book[w->side][w->level], -w->qty, single_writer);
                live -= w->qty;
            }
            uint32_t level = (uint32_t)((uint64_t)(t->price - VX_INGRESS_BASE_PRICE) >> VX_INGRESS_TICK_SHIFT);
            peer_update(&book[t->side][level], (int64_t)t->qty, single_writer);
            live += t->qty;
            *w = (peer_order){.qty = t->qty, .level = level, .side = t->side};
            applied++;
            booked[i] = *t;
        }
        /* bundle builder and output: FIFO per producer */
        for (uint64_t i = 0; i < k; i++) {
            bundle[in_bundle++] = booked[i];
            if (in_bundle == PEER_BUNDLE || done + i + 1 == transactions) {
                for (uint32_t j = 0; j < in_bundle; j++) {
                    const vx_txn *t = &bundle[j];
                    if (t->id != want_id[t->producer]) violations++;
                    want_id[t->producer] = t->id + 1;
                }
                delivered += in_bundle;
                in_bundle = 0;
            }
        }
        done += k;
    }
    out->elapsed_ns = peer_mono_ns() - start;
    int64_t total = 0;
    for (int s = 0; s < 2; s++)
        /* relaxed: this thread is the only one that ever touched the book. */
        for (uint32_t l = 0; l < VX_INGRESS_LEVELS; l++) total += vx_load(&book[s][l], VX_RELAXED);
    out->transactions = delivered;
    out->fifo_violations = violations;
    out->conserved = total == live;
    free(book);
    free(window);
    return VX_OK;
}
