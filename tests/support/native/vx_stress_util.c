/* vx_stress_util.c: the stress drivers' shared helpers; see vx_stress_util.h. */
#define _GNU_SOURCE
#include "vx_stress_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void vx_stress_violation(vx_stress_result *r, const char *fmt, ...) {
    r->violations++;
    if (r->first_violation[0] != '\0') return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->first_violation, sizeof r->first_violation, fmt, ap);
    va_end(ap);
}

void vx_stress_merge(vx_stress_result *into, const vx_stress_result *from) {
    into->ops += from->ops;
    into->checks += from->checks;
    into->violations += from->violations;
    into->timeouts += from->timeouts;
    into->waits += from->waits;
    if (into->first_violation[0] == '\0' && from->first_violation[0] != '\0')
        memcpy(into->first_violation, from->first_violation, sizeof into->first_violation);
}

uint32_t vx_stress_start_threads(pthread_t *tids, uint32_t n, void *(*fn)(void *), void *args, size_t arg_size) {
    for (uint32_t i = 0; i < n; i++)
        if (pthread_create(&tids[i], NULL, fn, (char *)args + i * arg_size) != 0) return i;
    return n;
}

void vx_stress_join_threads(pthread_t *tids, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) pthread_join(tids[i], NULL);
}

int vx_stress_join_or_stall(pthread_t *tids, uint32_t n, uint64_t deadline_ns, vx_stress_result *r,
                            const char *what) {
    uint64_t now = vx_mono_ns();
    uint64_t wait_ns = (deadline_ns > now ? deadline_ns - now : 0) + STALL_GRACE_NS;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* pthread_timedjoin_np's clock */
    uint64_t abs_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + wait_ns;
    ts.tv_sec = (time_t)(abs_ns / 1000000000u);
    ts.tv_nsec = (long)(abs_ns % 1000000000u);
    for (uint32_t i = 0; i < n; i++) {
        if (pthread_timedjoin_np(tids[i], NULL, &ts) != 0) {
            r->checks++;
            vx_stress_violation(r, "%s: thread %u still running %llu s after the slice deadline: the structure stalled "
                      "(livelock or deadlock)", what, i, (unsigned long long)(STALL_GRACE_NS / 1000000000u));
            return 0;
        }
    }
    return 1;
}
