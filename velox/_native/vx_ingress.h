/*
 * vx_ingress.h: the transaction source of the pipeline.
 *
 * Random numbers: xoshiro256** seeded through splitmix64 (Blackman and Vigna,
 * "Scrambled linear pseudorandom number generators", TOMS 2021;
 * https://prng.di.unimi.it/). One seed reproduces the whole stream.
 *
 * Arrivals: a Poisson process of rate lambda. Inter-arrival times are
 * exponential, -ln(U)/lambda with U uniform in (0, 1], kept in TSC ticks as a
 * double so fractions of a tick accumulate instead of being lost. The
 * pipeline's ingress stage reads the TSC and generates every arrival whose
 * scheduled time has passed.
 *
 * Prices (fixed point, ticks of 0.0001):
 *   - uniform: the default mode, a price uniform in [$90, $110) and a random
 *     side; bids and asks overlap, so the book crosses.
 *   - walk: a mid price on the book's level grid that moves one level up or
 *     down (reflecting at the edges) every VX_WALK_STEP_EVERY transactions;
 *     bids are placed at least VX_WALK_GAP levels below the mid, asks at least
 *     as far above it. The pipeline's book stage cancels every order
 *     VX_ORDER_LIFETIME transactions after it was placed, and in that many
 *     transactions the mid moves at most VX_ORDER_LIFETIME / VX_WALK_STEP_EVERY
 *     < VX_WALK_GAP levels, so every live bid sits on a lower level than every
 *     live ask: the book never crosses (docs/pipeline.md gives the argument).
 *
 * Sequence numbers: transactions come from `producers` logical producers
 * (chosen at random per transaction); each producer numbers the transactions
 * it gets into the pipeline from 0 up, with no gaps. A transaction dropped by
 * backpressure is never generated, so it takes no number: the output stage
 * can then check FIFO, no loss and no duplication with one comparison per
 * record (id == next expected id of its producer).
 *
 * Single-threaded: the ingress stage owns its generator; no atomics.
 */
#ifndef VX_INGRESS_H
#define VX_INGRESS_H

#include <stdint.h>

#include "vx_txn.h"

#define VX_INGRESS_MAX_PRODUCERS 256
/** Orders rest this many transactions, then the book stage cancels them. */
#define VX_ORDER_LIFETIME 1024
#define VX_WALK_STEP_EVERY 64
#define VX_WALK_GAP 17
/** Extra levels of random depth behind the gap, on each side. */
#define VX_WALK_DEPTH 16
_Static_assert(VX_WALK_GAP > VX_ORDER_LIFETIME / VX_WALK_STEP_EVERY,
               "the mid must not move past the gap while an order rests");

/* Book geometry shared by both price modes: $90.0000 + 1024 levels of 256
 * ticks ($0.0256) reaches $116.2144, so every uniform price in [$90, $110)
 * and every walk price is inside the book. */
#define VX_INGRESS_BASE_PRICE INT64_C(900000)
#define VX_INGRESS_LEVELS 1024u
#define VX_INGRESS_TICK_SHIFT 8u
#define VX_INGRESS_UNIFORM_LO INT64_C(900000)
#define VX_INGRESS_UNIFORM_HI INT64_C(1100000) /* exclusive */
#define VX_INGRESS_WALK_START 390u              /* level of ~$99.98 */
#define VX_INGRESS_QTY_MAX 100u

enum vx_price_mode { VX_PRICE_UNIFORM = 0, VX_PRICE_WALK = 1 };

typedef struct vx_rng {
    uint64_t s[4];
} vx_rng;

void vx_rng_seed(vx_rng *r, uint64_t seed);

static inline uint64_t vx_rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/** xoshiro256** (inline: the ingress stage calls it per transaction). */
static inline uint64_t vx_rng_next(vx_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = vx_rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = vx_rng_rotl(s[3], 45);
    return result;
}

/** Uniform in [0, n) (n >= 1), by multiply-shift (bias below 2^-32 for our n). */
static inline uint64_t vx_rng_below(vx_rng *r, uint64_t n) {
    return (uint64_t)(((unsigned __int128)vx_rng_next(r) * n) >> 64);
}
/** Uniform double in (0, 1]. */
double vx_rng_unit(vx_rng *r);

typedef struct vx_ingress {
    vx_rng rng;
    int price_mode;                            /**< enum vx_price_mode */
    uint32_t producers;                        /**< 1..VX_INGRESS_MAX_PRODUCERS */
    uint64_t next_id[VX_INGRESS_MAX_PRODUCERS];/**< next sequence number per producer */
    uint32_t mid_level;                        /**< walk: current mid level */
    uint64_t walk_count;                       /**< walk: transactions generated */
    double mean_gap;                           /**< mean inter-arrival, in ticks */
    double next_arrival;                       /**< scheduled tick of the next arrival */
} vx_ingress;

/** rate_per_tick > 0 unless arrivals are not used (saturate): pass 0. */
int vx_ingress_init(vx_ingress *g, uint64_t seed, int price_mode, uint32_t producers, double rate_per_tick,
                    uint64_t start_tick);
/** Fill *t with the next transaction (id, price, qty, side, producer; ts = now). */
void vx_ingress_make(vx_ingress *g, vx_txn *t, uint64_t now);
/** Schedule the next arrival; returns the tick of the one just consumed. */
double vx_ingress_advance(vx_ingress *g);

#endif /* VX_INGRESS_H */
