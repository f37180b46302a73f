# Cython mirror of vx_pipeline.h.
from libc.stdint cimport int64_t, uint32_t, uint64_t
from velox._native.vx_hist cimport vx_hist_snap

cdef extern from "vx_wait.h" nogil:
    enum:
        VX_WAIT_BUSY
        VX_WAIT_YIELD
        VX_WAIT_PARK
        VX_WAIT_SPINS
        VX_WAIT_YIELDS
    ctypedef struct vx_waiter:
        uint64_t yields
        uint64_t sleeps
    void vx_wait_init(vx_waiter *w, int kind)
    void vx_wait_idle(vx_waiter *w)
    void vx_wait_reset(vx_waiter *w)

cdef extern from "vx_pipeline.h" nogil:
    enum:
        VX_PIPE_HEADER
        VX_BP_DROP
        VX_BP_BLOCK
        VX_TOPO_AUTO
        VX_TOPO_SINGLE
        VX_TOPO_PAIRS
        VX_TOPO_SPLIT
        VX_TOPO_STAGES
        VX_NSTAGES
        VX_CTRS
        VX_NHIST
        VX_PIPE_MAX_BATCH
        VX_PIPE_MIN_RING

    ctypedef struct vx_pipeline_cfg:
        double rate
        uint64_t duration_ns
        int saturate
        int price_mode
        int backpressure
        int wait
        int topology
        int pin
        uint64_t ring_capacity
        uint32_t bundle_size
        uint64_t bundle_timeout_ns
        uint64_t flush_slack_ns
        uint64_t seed
        uint32_t producers
        uint32_t batch
        int out_fd

    ctypedef struct vx_pipeline:
        pass

    int vx_pipeline_cfg_ok(const vx_pipeline_cfg *cfg)
    vx_pipeline *vx_pipeline_create(const vx_pipeline_cfg *cfg, int *err)
    int vx_pipeline_start(vx_pipeline *p)
    void vx_pipeline_stop(vx_pipeline *p)
    int vx_pipeline_finished(vx_pipeline *p)
    void vx_pipeline_join(vx_pipeline *p)
    void vx_pipeline_destroy(vx_pipeline *p)
    void vx_pipeline_counters(vx_pipeline *p, uint64_t *out)
    void vx_pipeline_hist(vx_pipeline *p, int which, vx_hist_snap *out)
    uint64_t vx_pipeline_ring_len(vx_pipeline *p, int ring)
    int vx_pipeline_threads(vx_pipeline *p)
    int vx_pipeline_pinned(vx_pipeline *p)
    int vx_pipeline_topology(vx_pipeline *p)
    uint64_t vx_pipeline_timeout_ticks(vx_pipeline *p)
    int vx_pipeline_first_violation(vx_pipeline *p, uint64_t *producer, uint64_t *expected, uint64_t *got)
    void vx_pipeline_output_stats(vx_pipeline *p, uint64_t *bytes, uint32_t *adler32, int *write_errno)
    void vx_pipeline_wait_stats(vx_pipeline *p, uint64_t *yields, uint64_t *sleeps, uint64_t *cpu_ns)
    int64_t vx_pipeline_book_depth(vx_pipeline *p, int side)
    int vx_pipeline_trace_enable(vx_pipeline *p, double rate, uint64_t capacity, double max_per_s)
    size_t vx_pipeline_trace_drain_book(vx_pipeline *p, uint64_t *out, size_t max)
    size_t vx_pipeline_trace_drain_output(vx_pipeline *p, uint64_t *out, size_t max)
    void vx_pipeline_trace_stats(vx_pipeline *p, uint64_t *out)
