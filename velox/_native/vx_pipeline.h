/*
 * vx_pipeline.h: the four-stage pipeline on native threads.
 *
 *   ingress --ring0--> order book --ring1--> bundle builder --ring2--> output
 *
 * Every arrow is a vx_ring (SPSC). Stages move records in batches: a stage
 * peeks up to `batch` records of its input ring in place (vx_ring_try_peek),
 * reserves as many slots of its output ring (vx_ring_try_reserve), works, and
 * publishes the whole batch with one index store each way (vx_ring_publish /
 * vx_ring_consume, all inlined from vx_ring.h). One index store per batch instead of one per record is
 * what keeps the rings' cache lines from ping-ponging between cores.
 *
 * ring2 carries bundles framed as records: a header record (flags ==
 * VX_PIPE_HEADER; id = bundle seq, ts = flush tick, price = first arrival
 * tick, qty = count, side = flush reason), then ceil(count / 4) arrival
 * records (four u64 ticks each: when each transaction reached the builder),
 * then the count transactions. The arrival ticks let the output stage measure
 * end-to-end latency without the time a transaction deliberately waits in
 * the builder (see docs/pipeline.md).
 *
 * Threads: the stages are grouped onto threads by the topology (one thread
 * per stage, two pairs, one-plus-three, or all on one thread); a thread runs
 * its stages round robin and calls the wait strategy (vx_wait.h) after a pass
 * with no work. Ingress stops at the deadline or on vx_pipeline_stop; each
 * stage then drains its input and raises its `done` flag (release), which the
 * next stage reads (acquire) once its input ring is empty: when the output
 * stage is done, every transaction generated has been delivered or counted as
 * dropped.
 *
 * Statistics: each stage owns one block of counters and its histograms and is
 * their only writer (relaxed load + store); the monitor reads them with
 * relaxed loads through vx_pipeline_counters / vx_pipeline_hist, never
 * touching the hot path's own data.
 */
#ifndef VX_PIPELINE_H
#define VX_PIPELINE_H

#include <stdint.h>

#include "vx_atomic.h"
#include "vx_hist.h"
#include "vx_txn.h"

/** flags value that marks a bundle header record on ring2 (pipeline-internal:
 *  such records are never written to the output file). */
#define VX_PIPE_HEADER 0x80
/** flags of a data transaction the book stage sampled for tracing: the
 *  output stage records its timestamps. A mark between stages, never data:
 *  it is cleared in the output file. */
#define VX_PIPE_TRACED 0x40

enum vx_backpressure { VX_BP_DROP = 0, VX_BP_BLOCK = 1 };
enum vx_topology { VX_TOPO_AUTO = 0, VX_TOPO_SINGLE = 1, VX_TOPO_PAIRS = 2, VX_TOPO_SPLIT = 3, VX_TOPO_STAGES = 4 };
enum vx_stage { VX_STAGE_INGRESS = 0, VX_STAGE_BOOK = 1, VX_STAGE_BUNDLE = 2, VX_STAGE_OUTPUT = 3, VX_NSTAGES = 4 };

/* Counters, per stage (vx_pipeline_counters returns them as [stage][i]). */
#define VX_CTRS 16
enum {
    /* ingress */
    VX_IN_GENERATED = 0, /**< transactions generated and admitted to ring0 */
    VX_IN_DROPPED,       /**< arrivals dropped because ring0 was full (drop mode) */
    VX_IN_BLOCKED,       /**< passes that found ring0 too full for all due arrivals */
    VX_IN_BACKLOG,       /**< block mode: arrivals due but not generated when ingress stopped */
    VX_IN_BATCHES,       /**< commits to ring0 */
    VX_IN_ARRIVALS,      /**< arrivals scheduled (saturate: generated); == generated + dropped + backlog */
    /* book */
    VX_BK_APPLIED = 0,   /**< transactions applied (added) to the book */
    VX_BK_TIMEOUTS,      /**< book operations that gave up (VX_ETIMEOUT) */
    VX_BK_ERRORS,        /**< book operations that failed otherwise (range, underflow) */
    VX_BK_CANCELS,       /**< resting orders cancelled after VX_ORDER_LIFETIME */
    VX_BK_CROSS_CHECKS,  /**< walk mode: best bid/ask comparisons made */
    VX_BK_CROSSED,       /**< walk mode: comparisons that found bid >= ask */
    VX_BK_CONSERVED,     /**< at the end: 1 if resting quantity == adds - cancels */
    VX_BK_EMPTY_AT_END,  /**< at the end: 1 if the book is empty after the last cancels */
    VX_BK_BLOCKED,       /**< passes that found ring1 full */
    /* bundle */
    VX_BU_IN = 0,        /**< transactions taken into the builder */
    VX_BU_BUNDLES,       /**< bundles handed to ring2 */
    VX_BU_SIZE,          /**< ... flushed because full */
    VX_BU_TIMEOUT,       /**< ... flushed because the oldest waited the timeout */
    VX_BU_FLUSH,         /**< ... flushed at shutdown */
    VX_BU_BLOCKED,       /**< passes that found ring2 full */
    VX_BU_MISSED,        /**< bundles handed out although an earlier pass of this stage had
                          *   already seen their deadline pass (a forgotten timeout); unlike a
                          *   wall-clock bound, this does not depend on how the OS schedules us */
    /* output */
    VX_OU_TXNS = 0,      /**< transactions delivered */
    VX_OU_BUNDLES,       /**< bundles delivered */
    VX_OU_GAP,           /**< records whose id skipped ahead of the producer's next id (loss, reorder) */
    VX_OU_BACKWARD,      /**< records whose id went back (duplicate, reorder) */
    VX_OU_BAD_PRODUCER,  /**< records from a producer id that does not exist */
    VX_OU_SIZE_VIOL,     /**< bundles with 0 or more than bundle_size transactions, or a size flush not full */
    VX_OU_SEQ_VIOL,      /**< bundles out of sequence */
    VX_OU_EARLY,         /**< timeout flushes before the timeout */
    VX_OU_LATE,          /**< bundles whose oldest transaction waited more than timeout + slack */
    VX_OU_FRAME,         /**< malformed framing on ring2 */
    VX_OU_TAIL_MISMATCH, /**< at the end: producers whose delivered count differs from generated */
    VX_OU_SKEW,          /**< latency samples with a negative difference (clock skew), recorded as 0 */
    VX_OU_WRITE_ERR,     /**< output file write errors (writing stops) */
    VX_OU_FLUSH_BUNDLES, /**< bundles with reason flush (at most 1: the final one) */
};

/* Histograms (ticks). */
enum {
    VX_H_LAG = 0,        /**< ingress: generation tick - scheduled arrival tick */
    VX_H_AGE_BOOK,       /**< book: tick at the book - ingress ts */
    VX_H_AGE_BUNDLE,     /**< bundle: tick at the builder - ingress ts */
    VX_H_E2E,            /**< output: tick at output - ingress ts - time held in the builder */
    VX_H_TOTAL,          /**< output: tick at output - ingress ts (builder hold included) */
    VX_H_FLUSH_LATE,     /**< output: timeout flushes, how long after the deadline */
    VX_NHIST
};

typedef struct vx_pipeline_cfg {
    double rate;                /**< arrivals per second (ignored when saturate) */
    uint64_t duration_ns;       /**< run length; 0 = until vx_pipeline_stop */
    int saturate;               /**< generate as fast as ring0 accepts (implies block) */
    int price_mode;             /**< enum vx_price_mode */
    int backpressure;           /**< enum vx_backpressure */
    int wait;                   /**< enum vx_wait_kind */
    int topology;               /**< enum vx_topology */
    int pin;                    /**< pin threads to distinct CPUs when there are enough */
    uint64_t ring_capacity;     /**< records per ring, power of two, >= 64 */
    uint32_t bundle_size;       /**< 1..VX_BUNDLE_MAX */
    uint64_t bundle_timeout_ns; /**< >= 1 */
    uint64_t flush_slack_ns;    /**< how late a bundle may be flushed before it counts as a violation */
    uint64_t seed;
    uint32_t producers;         /**< logical producers, 1..VX_INGRESS_MAX_PRODUCERS */
    uint32_t batch;             /**< most records per ring publication, 1..VX_PIPE_MAX_BATCH */
    int out_fd;                 /**< file descriptor for the wire-format output, or -1 */
} vx_pipeline_cfg;

#define VX_PIPE_MAX_BATCH 256
#define VX_PIPE_MIN_RING 64

typedef struct vx_pipeline vx_pipeline;

/** Validate cfg; VX_OK or VX_EINVAL. */
int vx_pipeline_cfg_ok(const vx_pipeline_cfg *cfg);
vx_pipeline *vx_pipeline_create(const vx_pipeline_cfg *cfg, int *err);
/** Start the threads. Returns VX_OK, or an error (errno-style, positive) from pthread_create. */
int vx_pipeline_start(vx_pipeline *p);
/** Ask ingress to stop (any thread, e.g. a SIGINT handler's caller). */
void vx_pipeline_stop(vx_pipeline *p);
/** 1 once every pipeline thread has finished. */
int vx_pipeline_finished(vx_pipeline *p);
/** Wait for the threads (blocks; call with the GIL released). */
void vx_pipeline_join(vx_pipeline *p);
void vx_pipeline_destroy(vx_pipeline *p);

/** Monitor: counters[stage * VX_CTRS + i]. */
void vx_pipeline_counters(vx_pipeline *p, uint64_t *out);
/** Monitor: snapshot of histogram `which`. */
void vx_pipeline_hist(vx_pipeline *p, int which, vx_hist_snap *out);
/** Monitor: occupancy of ring 0, 1 or 2. */
uint64_t vx_pipeline_ring_len(vx_pipeline *p, int ring);
/** Threads the topology resolved to, and whether they were pinned. */
int vx_pipeline_threads(vx_pipeline *p);
int vx_pipeline_pinned(vx_pipeline *p);
int vx_pipeline_topology(vx_pipeline *p);
/** Ticks of the bundle timeout and of the slack, as used by the checks. */
uint64_t vx_pipeline_timeout_ticks(vx_pipeline *p);
/** First order violation seen by the output stage: producer, expected id,
 *  id seen; returns 0 if none. Read after vx_pipeline_join. */
int vx_pipeline_first_violation(vx_pipeline *p, uint64_t *producer, uint64_t *expected, uint64_t *got);
/** Thread statistics (after join): sched_yield and nanosleep calls of the
 *  wait strategy, and CPU time used by all pipeline threads. */
/** After vx_pipeline_join: bytes the output file accepted, their Adler-32
 *  (zlib's), and the errno of the first failed write (0: none). */
void vx_pipeline_output_stats(vx_pipeline *p, uint64_t *bytes, uint32_t *adler32, int *write_errno);
void vx_pipeline_wait_stats(vx_pipeline *p, uint64_t *yields, uint64_t *sleeps, uint64_t *cpu_ns);
/** Monitor: resting quantity on one side of the book stage's order book
 *  (VX_BID or VX_ASK), summed over every level with relaxed loads: exact
 *  at quiescence, a near-instant view while the book stage runs. */
int64_t vx_pipeline_book_depth(vx_pipeline *p, int side);

/* Sampled traces. With tracing on, the book stage selects the transactions
 * whose (producer, id) hash falls under a threshold (a fraction of 2^64: the
 * sampling rate) and samples those its budget allows (a token bucket of
 * max_per_s samples a second, one second deep): it records the book
 * timestamp into a side ring (SPSC: stage -> monitor) and marks the
 * transaction VX_PIPE_TRACED; the output stage records the other timestamps
 * of marked transactions into a second side ring. A full side ring never
 * blocks a stage: the sample is dropped and counted (at the book stage, the
 * whole sample). The monitor drains both and joins the two records of a
 * transaction by (producer, id). */
/** Before vx_pipeline_start: sample transactions at `rate` (0 < rate <= 1),
 *  at most `max_per_s` (>= 1, or infinity) a second, into side rings of
 *  `capacity` records each. VX_OK, VX_EINVAL, VX_ENOMEM. */
int vx_pipeline_trace_enable(vx_pipeline *p, double rate, uint64_t capacity, double max_per_s);
/** Monitor: up to `max` book records as (producer, id, book tick) triples. */
size_t vx_pipeline_trace_drain_book(vx_pipeline *p, uint64_t *out, size_t max);
/** Monitor: up to `max` output records as (producer, id, ingress tick,
 *  builder arrival tick, flush tick, output tick) sextuples. */
size_t vx_pipeline_trace_drain_output(vx_pipeline *p, uint64_t *out, size_t max);
/** Monitor: out[0..4] = samples recorded and dropped (side ring full) by
 *  the book stage, recorded and dropped by the output stage, and
 *  transactions the hash selected beyond the budget (not sampled). */
void vx_pipeline_trace_stats(vx_pipeline *p, uint64_t *out);

#endif /* VX_PIPELINE_H */
