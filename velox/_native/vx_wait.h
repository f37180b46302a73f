/*
 * vx_wait.h: what a pipeline thread does when none of its stages had work.
 *
 * The three wait strategies of the LMAX Disruptor's WaitStrategy family
 * (https://lmax-exchange.github.io/disruptor/user-guide/#_alternative_wait_strategies):
 *   - busy:  spin with a pause hint. Lowest latency, but a spinning thread
 *            that shares a core with the thread it waits for burns the time
 *            slice that thread needs (milliseconds under CFS): only for
 *            threads with a core of their own.
 *   - yield: spin VX_WAIT_SPINS times, then sched_yield() on every further
 *            idle pass (the Disruptor's YieldingWaitStrategy). A thread
 *            sharing a core hands it over within microseconds, and one alone
 *            on a core keeps spinning (sched_yield returns at once); but any
 *            runnable task gets the core, which costs the latency tail.
 *            `--wait auto` (velox._pipeline.choose_wait) picks busy when every
 *            pipeline thread has an idle CPU, this otherwise.
 *   - park:  spin, then yield VX_WAIT_YIELDS times, then sleep with a growing
 *            nanosleep (1 us doubling to VX_WAIT_PARK_MAX_NS), like the
 *            Disruptor's SleepingWaitStrategy. Frees the core for other work at
 *            the price of wake-up latency (the kernel's timer slack, ~50 us).
 *            There is no wake-up call: the producer never pays for a sleeping
 *            consumer, so the hot path has no system call.
 *
 * The waiter is thread-private state: no shared memory, no atomics.
 */
#ifndef VX_WAIT_H
#define VX_WAIT_H

#include <sched.h>
#include <stdint.h>
#include <time.h>

#include "vx_atomic.h"

enum vx_wait_kind { VX_WAIT_BUSY = 0, VX_WAIT_YIELD = 1, VX_WAIT_PARK = 2 };

#define VX_WAIT_SPINS 256u
#define VX_WAIT_YIELDS 64u
#define VX_WAIT_PARK_MAX_NS 100000u

typedef struct vx_waiter {
    int kind;      /**< enum vx_wait_kind */
    uint32_t idle; /**< idle passes since the last useful one */
    uint64_t yields; /**< statistics: sched_yield calls */
    uint64_t sleeps; /**< statistics: nanosleep calls */
} vx_waiter;

static inline void vx_wait_init(vx_waiter *w, int kind) {
    w->kind = kind;
    w->idle = 0;
    w->yields = 0;
    w->sleeps = 0;
}

/** Call after a pass that did useful work. */
static inline void vx_wait_reset(vx_waiter *w) { w->idle = 0; }

/** Call after a pass that found nothing to do. */
static inline void vx_wait_idle(vx_waiter *w) {
    uint32_t n = w->idle;
    if (n < UINT32_MAX) w->idle = n + 1;
    if (w->kind == VX_WAIT_BUSY || n < VX_WAIT_SPINS) {
        vx_spin_hint();
        return;
    }
    if (w->kind == VX_WAIT_YIELD || n < VX_WAIT_SPINS + VX_WAIT_YIELDS) {
        w->yields++;
        sched_yield();
        return;
    }
    uint32_t k = n - VX_WAIT_SPINS - VX_WAIT_YIELDS;
    uint64_t ns = k >= 17 ? VX_WAIT_PARK_MAX_NS : (UINT64_C(1000) << k);
    if (ns > VX_WAIT_PARK_MAX_NS) ns = VX_WAIT_PARK_MAX_NS;
    struct timespec ts = {0, (long)ns};
    w->sleeps++;
    nanosleep(&ts, NULL);
}

#endif /* VX_WAIT_H */
