/*
 * pipeline_main.c: the native pipeline without Python, for sanitizer builds.
 *
 *   pipeline_main SECONDS SEED TOPOLOGY WAIT SATURATE PRICE_MODE RING BATCH
 *
 * TOPOLOGY 1 single, 2 pairs, 3 split, 4 stages; WAIT 0 busy, 1 yield, 2 park;
 * SATURATE 0/1; PRICE_MODE 0 uniform, 1 walk. Runs the pipeline (rate
 * 200,000 txn/s unless saturated, drop backpressure), then prints the counters
 * and exits 1 if an invariant failed. Built by tests/test_pipeline.py with gcc
 * -fsanitize=thread: TSan checks every access between the stage threads
 * (rings, done flags, statistics) against the happens-before the atomics
 * create, which x86's strong ordering hides from plain runs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "vx_pipeline.h"

int main(int argc, char **argv) {
    if (argc != 9) {
        fprintf(stderr, "usage: %s SECONDS SEED TOPOLOGY WAIT SATURATE PRICE_MODE RING BATCH\n", argv[0]);
        return 2;
    }
    vx_pipeline_cfg c = {
        .rate = 200000.0,
        .duration_ns = (uint64_t)(atof(argv[1]) * 1e9),
        .saturate = atoi(argv[5]),
        .price_mode = atoi(argv[6]),
        .backpressure = 0,
        .wait = atoi(argv[4]),
        .topology = atoi(argv[3]),
        .pin = 0,
        .ring_capacity = strtoull(argv[7], NULL, 10),
        .bundle_size = 16,
        .bundle_timeout_ns = 100000,
        .flush_slack_ns = UINT64_C(10000000000),
        .seed = strtoull(argv[2], NULL, 10),
        .producers = 4,
        .batch = (uint32_t)atoi(argv[8]),
        .out_fd = -1,
    };
    int err = 0;
    vx_pipeline *p = vx_pipeline_create(&c, &err);
    if (p == NULL) {
        fprintf(stderr, "bad configuration (error %d)\n", err);
        return 2;
    }
    if (vx_pipeline_start(p) != 0) {
        fprintf(stderr, "could not start threads\n");
        return 2;
    }
    vx_pipeline_join(p);
    uint64_t ctr[VX_NSTAGES * VX_CTRS];
    vx_pipeline_counters(p, ctr);
    const uint64_t *in = &ctr[VX_STAGE_INGRESS * VX_CTRS], *bk = &ctr[VX_STAGE_BOOK * VX_CTRS],
                   *bu = &ctr[VX_STAGE_BUNDLE * VX_CTRS], *ou = &ctr[VX_STAGE_OUTPUT * VX_CTRS];
    uint64_t violations = ou[VX_OU_GAP] + ou[VX_OU_BACKWARD] + ou[VX_OU_BAD_PRODUCER] + ou[VX_OU_SIZE_VIOL] +
                          ou[VX_OU_SEQ_VIOL] + ou[VX_OU_EARLY] + ou[VX_OU_LATE] + ou[VX_OU_FRAME] +
                          ou[VX_OU_TAIL_MISMATCH] + bu[VX_BU_MISSED] + bk[VX_BK_CROSSED] + (bk[VX_BK_CONSERVED] != 1) +
                          (bk[VX_BK_EMPTY_AT_END] != 1) + (in[VX_IN_GENERATED] != ou[VX_OU_TXNS]) +
                          (in[VX_IN_ARRIVALS] != in[VX_IN_GENERATED] + in[VX_IN_DROPPED] + in[VX_IN_BACKLOG]);
    printf("threads %d generated %llu dropped %llu delivered %llu bundles %llu violations %llu\n",
           vx_pipeline_threads(p), (unsigned long long)in[VX_IN_GENERATED], (unsigned long long)in[VX_IN_DROPPED],
           (unsigned long long)ou[VX_OU_TXNS], (unsigned long long)ou[VX_OU_BUNDLES],
           (unsigned long long)violations);
    vx_pipeline_destroy(p);
    return violations == 0 ? 0 : 1;
}
