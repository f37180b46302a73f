/*
 * vx_bench.h: the native two-thread benchmark driver of the SPSC ring.
 *
 * Method after rigtorp/SPSCQueue's src/SPSCQueueBenchmark.cpp: one producer
 * and one consumer thread, each pinned to its own core, move a fixed number
 * of records through a ring; throughput is records divided by the time from
 * the producer's first push to the consumer's last pop. A separate run has
 * two threads ping-pong one cache line to measure the core-to-core round
 * trip, the figure that decides what a cross-core handoff can cost on the
 * machine at that moment (the host moves our two cores between a "near" and
 * a "far" placement, so every throughput figure is reported beside a round
 * trip measured in the same run).
 *
 * Every record is validated by the consumer: the producer writes sequence
 * number i into record i (id and qty), the consumer checks them in order and
 * reports the first mismatch, and records lost at the end are reported too,
 * so a benchmark run is also a delivery check. A mismatch stops both threads.
 *
 * Three rings are measured:
 *   - VX_BENCH_VELOX: velox's vx_ring (cached opposite index), per item
 *     (batch 1: vx_ring_try_push/vx_ring_try_pop, inlined from vx_ring.h) or
 *     batched (batch > 1: vx_ring_push_many/vx_ring_pop_many, one index
 *     store per call);
 *   - VX_BENCH_MINIMAL: the hardware's pace, a minimal cached-index ring
 *     written for this benchmark (vx_bench.c), per item or batched the same way;
 *   - VX_BENCH_LAMPORT: the classic Lamport ring without cached indices
 *     (every push loads the consumer's index, every pop the producer's),
 *     defined privately in vx_bench.c; per item only.
 *
 * All calls block the calling thread for the whole run (Python releases the
 * GIL around them) and start and join their own threads.
 */
#ifndef VX_BENCH_H
#define VX_BENCH_H

#include <stdint.h>

#include "vx_txn.h"

/** Which ring a run measures. */
enum vx_bench_impl { VX_BENCH_VELOX = 0, VX_BENCH_LAMPORT = 1, VX_BENCH_MINIMAL = 2 };

/** Largest batch (records per push_many/pop_many call) the driver accepts. */
#define VX_BENCH_MAX_BATCH 4096
/** Most records one run may move (2^40: hours at any realistic rate). */
#define VX_BENCH_MAX_RECORDS (UINT64_C(1) << 40)
/** Most round trips one vx_bench_round_trip call may time. */
#define VX_BENCH_MAX_ROUND_TRIPS (UINT64_C(1) << 32)
/** "No mismatch" value of vx_bench_result.mismatch_at. */
#define VX_BENCH_NO_MISMATCH UINT64_MAX

/** One throughput run. */
typedef struct vx_bench_config {
    uint64_t capacity;    /**< ring capacity: a power of two, 1 .. VX_RING_MAX_CAPACITY */
    uint64_t records;     /**< records to move: 1 .. VX_BENCH_MAX_RECORDS */
    uint32_t batch;       /**< 1: per item; 2 .. VX_BENCH_MAX_BATCH (and <= capacity): batched */
    uint32_t impl;        /**< enum vx_bench_impl; VX_BENCH_LAMPORT needs batch 1 */
    int32_t cpu_producer; /**< CPU to pin the producer to, or -1 for no pinning */
    int32_t cpu_consumer; /**< CPU to pin the consumer to, or -1 for no pinning */
} vx_bench_config;

/** What one throughput run measured and checked. */
typedef struct vx_bench_result {
    uint64_t elapsed_ns;   /**< producer's first push to consumer's last pop (CLOCK_MONOTONIC) */
    uint64_t received;     /**< records the consumer accepted, in order */
    uint64_t publications; /**< stores of the producer's index (tail) that published records */
    uint64_t mismatch_at;  /**< position of the first wrong record, or VX_BENCH_NO_MISMATCH */
    uint64_t expected_id;  /**< at mismatch_at: the sequence number that was due */
    uint64_t got_id;       /**< at mismatch_at: the sequence number found, UINT64_MAX if none came */
    uint64_t full_polls;   /**< producer attempts that found the ring full (the "full" regime) */
    uint64_t empty_polls;  /**< consumer attempts that found the ring empty (the "empty" regime) */
    int32_t pinned;        /**< 1 if both threads were pinned as asked, 0 if pinning failed or was off */
    int32_t ok;            /**< 1 if every record arrived exactly once and in order */
} vx_bench_result;

/** VX_OK if the config is acceptable, VX_EINVAL otherwise (with *why set to
 *  a static sentence naming the bad field and what is allowed). */
int vx_bench_check_config(const vx_bench_config *cfg, const char **why);

/** Run one throughput measurement. Returns VX_OK (see out->ok for delivery),
 *  VX_EINVAL for a bad config, VX_ENOMEM when the ring or a thread could not
 *  be created. */
int vx_bench_ring(const vx_bench_config *cfg, vx_bench_result *out);

/** Time `iterations` round trips of one cache line between two threads pinned
 *  to cpu_a and cpu_b (-1: unpinned). *elapsed_ns gets the total; *pinned is
 *  1 when both pins held. Returns VX_OK, VX_EINVAL (iterations outside
 *  1 .. VX_BENCH_MAX_ROUND_TRIPS) or VX_ENOMEM. */
int vx_bench_round_trip(int32_t cpu_a, int32_t cpu_b, uint64_t iterations, uint64_t *elapsed_ns,
                        int32_t *pinned);

/** What one run of the minimal pipeline peer measured and checked. */
typedef struct vx_bench_pipe_result {
    uint64_t elapsed_ns;      /**< first generated to last delivered (CLOCK_MONOTONIC) */
    uint64_t transactions;    /**< delivered */
    uint64_t fifo_violations; /**< ids out of order per producer (0 when correct) */
    int32_t conserved;        /**< 1 if the book's resting quantity equals adds - cancels */
} vx_bench_pipe_result;

/** Run the minimal single-thread pipeline peer (vx_bench_pipe.c) over
 *  `transactions` (1 .. VX_BENCH_MAX_RECORDS), its book updated by
 *  compare-exchange or (single_writer != 0) by plain loads and stores.
 *  VX_OK, VX_EINVAL or VX_ENOMEM. */
int vx_bench_pipeline_peer(uint64_t transactions, uint64_t seed, int single_writer, vx_bench_pipe_result *out);

#endif /* VX_BENCH_H */
