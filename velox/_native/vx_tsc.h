/*
 * vx_tsc.h: a cheap monotonic tick counter and its calibration to nanoseconds.
 *
 * x86_64: rdtscp (waits for earlier instructions to finish, so a timestamp is
 * not taken early; the invariant TSC of every CPU since ~2008 ticks at a
 * constant rate across cores). aarch64: the generic timer's virtual count
 * cntvct_el0, behind an isb. Elsewhere: clock_gettime(CLOCK_MONOTONIC) in ns.
 * In the model build (VX_MODEL) the clock is the explorer's virtual clock.
 *
 * One calibration against CLOCK_MONOTONIC gives ns per tick; it is stored as
 * a double in the process (not shared between threads while they run: call
 * vx_tsc_calibrate before starting them).
 */
#ifndef VX_TSC_H
#define VX_TSC_H

#include <stdint.h>

#include "vx_atomic.h"

#if defined(VX_MODEL)
static inline uint64_t vx_tsc_now(void) { return vx_model_clock(); }
#elif defined(__x86_64__)
#include <x86intrin.h>
static inline uint64_t vx_tsc_now(void) {
    unsigned int aux;
    return __rdtscp(&aux);
}
#elif defined(__aarch64__)
static inline uint64_t vx_tsc_now(void) {
    uint64_t v;
    __asm__ __volatile__("isb; mrs %0, cntvct_el0" : "=r"(v)::"memory");
    return v;
}
#else
#include <time.h>
static inline uint64_t vx_tsc_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

/** Monotonic clock in ns (CLOCK_MONOTONIC). */
uint64_t vx_mono_ns(void);
/** Measure ticks against CLOCK_MONOTONIC over about `sleep_ns`; returns ns per
 *  tick (also stored for vx_tsc_to_ns). */
double vx_tsc_calibrate(uint64_t sleep_ns);
/** ns per tick from the last calibration (calibrates with 20 ms if never done). */
double vx_tsc_ns_per_tick(void);
/** Convert a tick count to nanoseconds. */
double vx_tsc_to_ns(uint64_t ticks);
/** Convert nanoseconds to ticks (rounded up, so a timeout is never shortened). */
uint64_t vx_tsc_from_ns(uint64_t ns);

#endif /* VX_TSC_H */
