/*
 * stress_main.c: a standalone driver for velox's native stress drivers.
 *
 * Built without Python by ci/tsan.sh (gcc -fsanitize=thread -O1 -g) and by
 * the mutant tests (plain -O1 against a mutated copy of velox/_native), so a
 * sanitizer sees the real threads and the real structures with no interpreter
 * in between. Prints one line per driver and exits 1 when any invariant
 * failed (TSan exits 66 by itself when it reports a race).
 *
 *   stress_main [--driver ring|book|mpmc|hist|all] [--seconds S] [--ops N]
 *               [--seed N] [--capacity C] [--windows W] [--dump FILE]
 *
 * The hist driver records batches of --windows windows for --seconds (only
 * the recorder runs: checking needs the Python model, see velox.lincheck).
 * --dump FILE (hist driver, one batch) writes the recorded windows for the Python
 * linearizability checker: a header "VXH1", u32 threads, levels, per_window,
 * windows, then per window 2*levels+2 i64 snapshot words (depths, best bid,
 * best ask) and
 * threads*per_window 48-byte vx_lc_op records.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_stress.h"
#include "vx_tsc.h"

static int report(const char *what, int rc, const vx_stress_result *r) {
    printf("%-28s ops=%llu checks=%llu violations=%llu timeouts=%llu%s%s\n", what, (unsigned long long)r->ops,
           (unsigned long long)r->checks, (unsigned long long)r->violations, (unsigned long long)r->timeouts,
           r->first_violation[0] ? " first: " : "", r->first_violation);
    fflush(stdout);
    if (rc != 0) {
        printf("%s: driver error %d (%s)\n", what, rc, vx_strerror(rc));
        return 1;
    }
    return r->violations != 0;
}

static void add(vx_stress_result *a, const vx_stress_result *b) {
    a->ops += b->ops;
    a->checks += b->checks;
    a->violations += b->violations;
    a->timeouts += b->timeouts;
    if (!a->first_violation[0]) memcpy(a->first_violation, b->first_violation, sizeof a->first_violation);
}

/* Slices of 100 ms (or the op budget) until the time is up. */
#define SLICE_NS 100000000ull

static int run_ring(uint64_t cap, uint64_t seed, double seconds, uint64_t ops) {
    int bad = 0;
    /* start 3 laps (plus a bit) below 2^64 so every run crosses the wrap */
    uint64_t start = UINT64_MAX - 3 * cap - 4;
    for (uint32_t batch = 1; batch <= 16; batch *= 16) {
        int err;
        vx_stress_ring *d = vx_stress_ring_create(cap, start, batch, seed, &err);
        if (!d) return report("ring create", err, &(vx_stress_result){0});
        vx_stress_result tot = {0}, r;
        uint64_t end = vx_mono_ns() + (uint64_t)(seconds * 1e9 / 2);
        int rc = 0;
        do {
            rc = vx_stress_ring_run(d, ops, SLICE_NS, &r);
            add(&tot, &r);
        } while (rc == 0 && vx_mono_ns() < end && tot.violations == 0);
        char what[64];
        snprintf(what, sizeof what, "ring cap=%llu batch=%u", (unsigned long long)cap, batch);
        bad |= report(what, rc, &tot);
        vx_stress_ring_destroy(d);
    }
    return bad;
}

static int run_book(uint64_t seed, double seconds, uint64_t ops) {
    int err;
    vx_stress_book *d = vx_stress_book_create(2, 8, 5, seed, &err);
    if (!d) return report("book create", err, &(vx_stress_result){0});
    vx_stress_result tot = {0}, r;
    uint64_t end = vx_mono_ns() + (uint64_t)(seconds * 1e9);
    int rc;
    do {
        rc = vx_stress_book_run(d, ops, SLICE_NS / 4, &r);
        add(&tot, &r);
    } while (rc == 0 && vx_mono_ns() < end && tot.violations == 0);
    int bad = report("book threads=2 levels=8", rc, &tot);
    vx_stress_book_destroy(d);
    return bad;
}

static int run_mpmc(uint64_t cap, uint64_t seed, double seconds, uint64_t ops) {
    int err;
    vx_stress_mpmc *d = vx_stress_mpmc_create(cap, 2, 2, UINT64_MAX - 3 * cap - 4, seed, &err);
    if (!d) return report("mpmc create", err, &(vx_stress_result){0});
    vx_stress_result tot = {0}, r;
    uint64_t end = vx_mono_ns() + (uint64_t)(seconds * 1e9);
    int rc;
    do {
        rc = vx_stress_mpmc_run(d, ops, SLICE_NS, &r);
        add(&tot, &r);
    } while (rc == 0 && vx_mono_ns() < end && tot.violations == 0);
    char what[64];
    snprintf(what, sizeof what, "mpmc cap=%llu 2x2", (unsigned long long)cap);
    int bad = report(what, rc, &tot);
    vx_stress_mpmc_destroy(d);
    return bad;
}

/* Record batches of `windows` windows until `seconds` pass (one batch when
 * dumping: the dump holds exactly the first batch). */
static int run_hist(uint64_t seed, uint32_t windows, double seconds, const char *dump) {
    const uint32_t threads = 2, levels = 2, per = 16;
    int err;
    vx_stress_hist *d = vx_stress_hist_create(threads, levels, per, 3, seed, &err);
    if (!d) return report("hist create", err, &(vx_stress_result){0});
    vx_lc_op *ops = calloc((size_t)windows * threads * per, sizeof *ops);
    int64_t *snap = calloc((size_t)windows * VX_STRESS_SNAP_WORDS(levels), sizeof *snap);
    vx_stress_result tot = {0}, r;
    uint64_t end = vx_mono_ns() + (uint64_t)(seconds * 1e9);
    int rc;
    do {
        rc = ops && snap ? vx_stress_hist_run(d, windows, ops, snap, &r) : VX_ENOMEM;
        add(&tot, &r);
    } while (rc == 0 && !dump && vx_mono_ns() < end);
    if (rc == 0 && dump) {
        FILE *f = fopen(dump, "wb");
        if (!f) {
            perror(dump);
            return 1;
        }
        uint32_t hdr[4] = {threads, levels, per, windows};
        fwrite("VXH1", 1, 4, f);
        fwrite(hdr, sizeof hdr, 1, f);
        for (uint32_t w = 0; w < windows; w++) {
            fwrite(&snap[(size_t)w * VX_STRESS_SNAP_WORDS(levels)], sizeof(int64_t), VX_STRESS_SNAP_WORDS(levels), f);
            fwrite(&ops[(size_t)w * threads * per], sizeof(vx_lc_op), (size_t)threads * per, f);
        }
        fclose(f);
    }
    int bad = report("hist threads=2 levels=2", rc, &tot);
    free(ops);
    free(snap);
    vx_stress_hist_destroy(d);
    return bad;
}

int main(int argc, char **argv) {
    const char *driver = "all", *dump = NULL;
    double seconds = 1.0;
    uint64_t ops = UINT64_MAX, seed = 1;
    uint64_t cap = 0, windows = 200;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: %s [--driver ring|book|mpmc|hist|all] [--seconds S] [--ops N] [--seed N]\n"
                   "          [--capacity C] [--windows W] [--dump FILE]\n"
                   "Runs velox's native stress drivers on real threads; exit 1 on a violated invariant.\n"
                   "--ops N caps operations per thread per 100 ms slice (small N: short, deterministic-size "
                   "runs under TSan).\n", argv[0]);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "%s: option %s needs a value (see --help)\n", argv[0], a);
            return 2;
        }
        char *endp = NULL;
        if (!strcmp(a, "--driver")) driver = v;
        else if (!strcmp(a, "--seconds")) seconds = strtod(v, &endp);
        else if (!strcmp(a, "--ops")) ops = strtoull(v, &endp, 10);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, &endp, 10);
        else if (!strcmp(a, "--capacity")) cap = strtoull(v, &endp, 10);
        else if (!strcmp(a, "--dump")) dump = v;
        else if (!strcmp(a, "--windows")) windows = strtoull(v, &endp, 10);
        else {
            fprintf(stderr, "%s: unknown option %s (see --help)\n", argv[0], a);
            return 2;
        }
        if (endp && *endp) {
            fprintf(stderr, "%s: %s expects a number, got %s\n", argv[0], a, v);
            return 2;
        }
        i++;
    }
    if (windows < 1 || windows > 1000000) {
        fprintf(stderr, "%s: --windows must be in [1, 1000000]\n", argv[0]);
        return 2;
    }
    if (seconds <= 0 || seconds > 1e6) {
        fprintf(stderr, "%s: --seconds must be in (0, 1e6]\n", argv[0]);
        return 2;
    }
    static const char *const drivers[] = {"all", "ring", "book", "mpmc", "hist"};
    int valid = 0;
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++) valid |= !strcmp(driver, drivers[i]);
    if (!valid) {
        fprintf(stderr, "%s: unknown driver %s (ring, book, mpmc, hist or all)\n", argv[0], driver);
        return 2;
    }
    printf("velox native stress: driver=%s seconds=%g seed=%llu\n", driver, seconds, (unsigned long long)seed);
    int all = !strcmp(driver, "all"), bad = 0, known = all;
    if (all || !strcmp(driver, "ring")) {
        known = 1;
        if (cap) bad |= run_ring(cap, seed, seconds, ops);
        else
            for (uint64_t c = 1; c <= 1024; c *= 32) bad |= run_ring(c, seed, seconds / 3, ops);
    }
    if (all || !strcmp(driver, "book")) known = 1, bad |= run_book(seed, seconds, ops);
    if (all || !strcmp(driver, "mpmc")) known = 1, bad |= run_mpmc(cap ? cap : 64, seed, seconds, ops);
    if (all || !strcmp(driver, "hist")) known = 1, bad |= run_hist(seed, (uint32_t)windows, seconds, dump);
    if (!known) {
        fprintf(stderr, "%s: unknown driver %s (ring, book, mpmc, hist or all)\n", argv[0], driver);
        return 2;
    }
    printf("%s\n", bad ? "FAIL: an invariant was violated" : "OK: no violation");
    return bad;
}
