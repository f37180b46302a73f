/*
 * bench_main.c: one run of the ring benchmark driver (vx_bench.c), for the
 * checks of its delivery verdict against deliberately broken drivers.
 *
 *   bench_main CAPACITY RECORDS BATCH IMPL     (IMPL 0 = velox, 1 = Lamport peer)
 *
 * Prints rc, ok, received, mismatch_at, expected and got as key=value pairs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "vx_bench.h"

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: bench_main CAPACITY RECORDS BATCH IMPL\n");
        return 2;
    }
    vx_bench_config c = {.capacity = strtoull(argv[1], 0, 10), .records = strtoull(argv[2], 0, 10),
                         .batch = (uint32_t)atoi(argv[3]), .impl = (uint32_t)atoi(argv[4]),
                         .cpu_producer = -1, .cpu_consumer = -1};
    vx_bench_result r;
    int rc = vx_bench_ring(&c, &r);
    printf("rc=%d ok=%d received=%llu mismatch_at=%lld expected=%lld got=%lld\n", rc, r.ok,
           (unsigned long long)r.received, (long long)r.mismatch_at, (long long)r.expected_id,
           (long long)r.got_id);
    return rc != 0;
}
