/*
 * vx_stress_util.h: what velox's native stress drivers share: the record
 * mixer and per-thread random streams, waiting on a full or empty structure,
 * slice deadlines, starting and joining the threads of a slice (a stall is a
 * violation, not a hang), and the result counts.
 *
 * The drivers share memory between their threads only through the
 * structures under test and through a few vx_atomic.h words of their own
 * (stop flags, barriers), each commented with its partner. Per-thread
 * bookkeeping (owned quantities, expected sequence numbers, counts) is
 * private to its thread while the threads run and is read by the calling
 * thread only after pthread_join, which orders it (POSIX: join synchronises
 * with the thread's termination).
 */
#ifndef VX_STRESS_UTIL_H
#define VX_STRESS_UTIL_H

#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>

#include "vx_atomic.h"
#include "vx_stress.h"
#include "vx_tsc.h"

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

/* Is it time to stop? `done` operations so far; the clock (~20 ns) is read
 * every 256 loop iterations (`*iter` counts them, so a thread waiting on a
 * full or empty structure still sees its deadline). */
static inline int slice_over(uint64_t done, uint64_t max_ops, uint64_t deadline_ns, uint32_t *iter) {
    if (done >= max_ops) return 1;
    return (++*iter & 255) == 0 && vx_mono_ns() >= deadline_ns;
}

/** Most threads a driver starts. */
#define MAX_THREADS 64

/** Seconds a slice's threads may overrun its deadline before the driver
 *  declares a stall (a livelock or deadlock in the structure under test). */
#define STALL_GRACE_NS (UINT64_C(10) * 1000000000u)

/** Count a failed check; keep the first one's description. */
void vx_stress_violation(vx_stress_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Add one thread's counts into a slice's. */
void vx_stress_merge(vx_stress_result *into, const vx_stress_result *from);

/** Start n threads on fn(args[i]); returns how many started (n on success).
 *  The caller decides how to wind down a partial start. */
uint32_t vx_stress_start_threads(pthread_t *tids, uint32_t n, void *(*fn)(void *), void *args, size_t arg_size);

void vx_stress_join_threads(pthread_t *tids, uint32_t n);

/** Join the threads of a slice, giving up at deadline + STALL_GRACE_NS: a
 *  structure that livelocks must fail the run, not hang it. Returns 1 when all
 *  joined; 0 on a stall (recorded as a violation; the threads are left
 *  running and the driver must not be reused or freed, see *_destroy). */
int vx_stress_join_or_stall(pthread_t *tids, uint32_t n, uint64_t deadline_ns, vx_stress_result *r,
                            const char *what);

#endif /* VX_STRESS_UTIL_H */
