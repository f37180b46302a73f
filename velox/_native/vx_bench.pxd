# Cython mirror of vx_bench.h (declarations only; the header is the contract).
from libc.stdint cimport uint32_t, uint64_t, int32_t

cdef extern from "vx_bench.h" nogil:
    enum:
        VX_BENCH_VELOX
        VX_BENCH_LAMPORT
        VX_BENCH_MINIMAL
        VX_BENCH_MAX_BATCH
    uint64_t VX_BENCH_MAX_RECORDS
    uint64_t VX_BENCH_MAX_ROUND_TRIPS
    uint64_t VX_BENCH_NO_MISMATCH

    ctypedef struct vx_bench_config:
        uint64_t capacity
        uint64_t records
        uint32_t batch
        uint32_t impl
        int32_t cpu_producer
        int32_t cpu_consumer

    ctypedef struct vx_bench_result:
        uint64_t elapsed_ns
        uint64_t received
        uint64_t publications
        uint64_t mismatch_at
        uint64_t expected_id
        uint64_t got_id
        uint64_t full_polls
        uint64_t empty_polls
        int32_t pinned
        int32_t ok

    int vx_bench_check_config(const vx_bench_config *cfg, const char **why)
    int vx_bench_ring(const vx_bench_config *cfg, vx_bench_result *out)
    ctypedef struct vx_bench_pipe_result:
        uint64_t elapsed_ns
        uint64_t transactions
        uint64_t fifo_violations
        int32_t conserved
    int vx_bench_pipeline_peer(uint64_t transactions, uint64_t seed, int single_writer, vx_bench_pipe_result *out)
    int vx_bench_round_trip(int32_t cpu_a, int32_t cpu_b, uint64_t iterations, uint64_t *elapsed_ns,
                            int32_t *pinned)
