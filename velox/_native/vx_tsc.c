/* vx_tsc.c: TSC calibration against CLOCK_MONOTONIC. */
#define _POSIX_C_SOURCE 200809L
#include "vx_tsc.h"

#include <math.h>
#include <time.h>

static double g_ns_per_tick = 0.0;

uint64_t vx_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double vx_tsc_calibrate(uint64_t sleep_ns) {
    /* Bracket each clock_gettime with TSC reads and keep the tightest pair, so
     * a preemption between the two reads does not skew the ratio. */
    uint64_t best_gap0 = UINT64_MAX, best_gap1 = UINT64_MAX;
    uint64_t t0 = 0, n0 = 0, t1 = 0, n1 = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t a = vx_tsc_now();
        uint64_t n = vx_mono_ns();
        uint64_t b = vx_tsc_now();
        if (b - a < best_gap0) { best_gap0 = b - a; t0 = a + (b - a) / 2; n0 = n; }
    }
    struct timespec req = {(time_t)(sleep_ns / 1000000000u), (long)(sleep_ns % 1000000000u)};
    while (nanosleep(&req, &req) != 0) {
    }
    for (int i = 0; i < 5; i++) {
        uint64_t a = vx_tsc_now();
        uint64_t n = vx_mono_ns();
        uint64_t b = vx_tsc_now();
        if (b - a < best_gap1) { best_gap1 = b - a; t1 = a + (b - a) / 2; n1 = n; }
    }
    double ticks = (double)(t1 - t0);
    double ns = (double)(n1 - n0);
    g_ns_per_tick = ticks > 0 ? ns / ticks : 1.0;
    return g_ns_per_tick;
}

double vx_tsc_ns_per_tick(void) {
    if (g_ns_per_tick == 0.0) vx_tsc_calibrate(20000000u);
    return g_ns_per_tick;
}

double vx_tsc_to_ns(uint64_t ticks) { return (double)ticks * vx_tsc_ns_per_tick(); }

uint64_t vx_tsc_from_ns(uint64_t ns) {
    double ticks = ceil((double)ns / vx_tsc_ns_per_tick());
    /* Saturate: a conversion past 2**64 ticks is undefined in C (and wrapped
     * to a small timeout on x86); "never" is the honest answer. */
    if (!(ticks < 18446744073709551616.0)) return UINT64_MAX;
    return (uint64_t)ticks;
}
