/* vx_ingress.c: seeded arrivals and prices; see vx_ingress.h. */
#include "vx_ingress.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void vx_rng_seed(vx_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

double vx_rng_unit(vx_rng *r) {
    /* 53 random bits, shifted to (0, 1] so that -log never sees 0. */
    return (double)((vx_rng_next(r) >> 11) + 1) * 0x1.0p-53;
}

int vx_ingress_init(vx_ingress *g, uint64_t seed, int price_mode, uint32_t producers, double rate_per_tick,
                    uint64_t start_tick) {
    if (price_mode != VX_PRICE_UNIFORM && price_mode != VX_PRICE_WALK) return VX_EINVAL;
    if (producers < 1 || producers > VX_INGRESS_MAX_PRODUCERS) return VX_EINVAL;
    if (!(rate_per_tick >= 0) || isinf(rate_per_tick)) return VX_EINVAL;
    memset(g, 0, sizeof *g);
    vx_rng_seed(&g->rng, seed);
    g->price_mode = price_mode;
    g->producers = producers;
    g->mid_level = VX_INGRESS_WALK_START;
    g->mean_gap = rate_per_tick > 0 ? 1.0 / rate_per_tick : 0.0;
    g->next_arrival = (double)start_tick;
    if (rate_per_tick > 0) vx_ingress_advance(g);
    return VX_OK;
}

double vx_ingress_advance(vx_ingress *g) {
    double cur = g->next_arrival;
    g->next_arrival = cur - log(vx_rng_unit(&g->rng)) * g->mean_gap;
    return cur;
}

static int64_t level_price(uint32_t level, uint64_t within) {
    return VX_INGRESS_BASE_PRICE + ((int64_t)level << VX_INGRESS_TICK_SHIFT) + (int64_t)within;
}

void vx_ingress_make(vx_ingress *g, vx_txn *t, uint64_t now) {
    uint64_t bits = vx_rng_next(&g->rng);
    uint32_t producer = g->producers == 1 ? 0 : (uint32_t)(((bits & 0xffffffffu) * g->producers) >> 32);
    int side = (int)((bits >> 32) & 1);
    uint32_t qty = 1 + (uint32_t)((((bits >> 33) & 0xffffffu) * VX_INGRESS_QTY_MAX) >> 24);
    int64_t price;
    if (g->price_mode == VX_PRICE_UNIFORM) {
        price = VX_INGRESS_UNIFORM_LO + (int64_t)vx_rng_below(&g->rng, VX_INGRESS_UNIFORM_HI - VX_INGRESS_UNIFORM_LO);
    } else {
        if (g->walk_count % VX_WALK_STEP_EVERY == 0 && g->walk_count > 0) {
            const uint32_t lo = VX_WALK_GAP + VX_WALK_DEPTH;
            const uint32_t hi = VX_INGRESS_LEVELS - 1 - VX_WALK_GAP - VX_WALK_DEPTH;
            int up = (int)(vx_rng_next(&g->rng) & 1);
            if (g->mid_level <= lo) up = 1;       /* reflect at the edges */
            else if (g->mid_level >= hi) up = 0;
            g->mid_level += up ? 1 : (uint32_t)-1;
        }
        g->walk_count++;
        uint64_t r = vx_rng_next(&g->rng);
        uint32_t depth = (uint32_t)(r % VX_WALK_DEPTH);
        uint64_t within = (r >> 8) & ((UINT64_C(1) << VX_INGRESS_TICK_SHIFT) - 1);
        uint32_t level = side == VX_BID ? g->mid_level - VX_WALK_GAP - depth : g->mid_level + VX_WALK_GAP + depth;
        price = level_price(level, within);
    }
    t->id = g->next_id[producer]++;
    t->ts = now;
    t->price = price;
    t->qty = qty;
    t->side = (uint8_t)side;
    t->flags = 0;
    t->producer = (uint16_t)producer;
}
