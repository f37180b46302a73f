# The native benchmark driver (vx_bench.c): thin wrappers, GIL released for the
# whole run. velox/_bench.py is the Python API; nobody else calls these.
from libc.stdint cimport int32_t
from velox._native.vx_bench cimport (
    vx_bench_config, vx_bench_result, vx_bench_check_config, vx_bench_ring, vx_bench_round_trip,
    vx_bench_pipe_result, vx_bench_pipeline_peer,
    VX_BENCH_VELOX, VX_BENCH_LAMPORT, VX_BENCH_MINIMAL, VX_BENCH_MAX_BATCH, VX_BENCH_MAX_RECORDS,
    VX_BENCH_MAX_ROUND_TRIPS, VX_BENCH_NO_MISMATCH,
)

BENCH_IMPLS = {"velox": VX_BENCH_VELOX, "lamport": VX_BENCH_LAMPORT, "minimal": VX_BENCH_MINIMAL}
BENCH_MAX_BATCH = VX_BENCH_MAX_BATCH
BENCH_MAX_RECORDS = VX_BENCH_MAX_RECORDS
BENCH_MAX_ROUND_TRIPS = VX_BENCH_MAX_ROUND_TRIPS


def bench_ring(capacity, records, batch, impl, cpu_producer, cpu_consumer):
    """Run one two-thread throughput measurement (see vx_bench.h).

    Returns a dict with elapsed_ns, received, publications, mismatch_at (None
    when every record arrived in order), expected_id, got_id (None when the
    record never came), pinned and ok. Raises ValueError for a bad argument."""
    _check_int("capacity", capacity, 1, VX_RING_MAX_CAPACITY)
    _check_int("records", records, 1, VX_BENCH_MAX_RECORDS)
    _check_int("batch", batch, 1, VX_BENCH_MAX_BATCH)
    _check_int("cpu_producer", cpu_producer, -1, 0x7FFFFFFF)
    _check_int("cpu_consumer", cpu_consumer, -1, 0x7FFFFFFF)
    if impl not in BENCH_IMPLS:
        raise ValueError(f"impl must be one of {sorted(BENCH_IMPLS)}, got {impl!r}")
    cdef vx_bench_config cfg
    cfg.capacity = capacity
    cfg.records = records
    cfg.batch = batch
    cfg.impl = BENCH_IMPLS[impl]
    cfg.cpu_producer = cpu_producer
    cfg.cpu_consumer = cpu_consumer
    cdef const char *why = NULL
    if vx_bench_check_config(&cfg, &why) != VX_OK:
        raise ValueError(f"bench_ring(capacity={capacity}, records={records}, batch={batch}, impl={impl!r}): "
                         f"{why.decode()}")
    cdef vx_bench_result res
    cdef int err
    with nogil:
        err = vx_bench_ring(&cfg, &res)
    _raise_for(err, "bench_ring")
    return {
        "elapsed_ns": res.elapsed_ns,
        "received": res.received,
        "publications": res.publications,
        "mismatch_at": None if res.mismatch_at == VX_BENCH_NO_MISMATCH else res.mismatch_at,
        "expected_id": None if res.mismatch_at == VX_BENCH_NO_MISMATCH else res.expected_id,
        "got_id": None if res.mismatch_at == VX_BENCH_NO_MISMATCH or res.got_id == 0xFFFFFFFFFFFFFFFF
        else res.got_id,
        "full_polls": res.full_polls,
        "empty_polls": res.empty_polls,
        "pinned": bool(res.pinned),
        "ok": bool(res.ok),
    }


def bench_round_trip(cpu_a, cpu_b, iterations):
    """Time `iterations` core-to-core round trips of one cache line; returns
    (elapsed_ns, pinned)."""
    _check_int("cpu_a", cpu_a, -1, 0x7FFFFFFF)
    _check_int("cpu_b", cpu_b, -1, 0x7FFFFFFF)
    _check_int("iterations", iterations, 1, VX_BENCH_MAX_ROUND_TRIPS)
    cdef uint64_t elapsed = 0
    cdef int32_t pinned = 0
    cdef int32_t a = cpu_a, b = cpu_b
    cdef uint64_t n = iterations
    cdef int err
    with nogil:
        err = vx_bench_round_trip(a, b, n, &elapsed, &pinned)
    _raise_for(err, "bench_round_trip")
    return elapsed, bool(pinned)


def bench_pipeline_peer(transactions, seed=1, single_writer=False):
    """Run the minimal single-thread pipeline peer (vx_bench_pipe.c) over
    ``transactions``, its book updated by compare-exchange or, with
    ``single_writer``, by plain loads and stores (as the pipeline's book
    stage does); returns elapsed_ns, transactions delivered, fifo_violations
    and conserved (its own checks)."""
    _check_int("transactions", transactions, 1, VX_BENCH_MAX_RECORDS)
    _check_int("seed", seed, 0, 0xFFFFFFFFFFFFFFFF)
    if not isinstance(single_writer, bool):
        raise TypeError(f"single_writer must be True or False, got {single_writer!r}")
    cdef vx_bench_pipe_result res
    cdef uint64_t n = transactions, s = seed
    cdef int sw = single_writer
    cdef int err
    with nogil:
        err = vx_bench_pipeline_peer(n, s, sw, &res)
    _raise_for(err, "bench_pipeline_peer")
    return {"elapsed_ns": res.elapsed_ns, "transactions": res.transactions,
            "fifo_violations": res.fifo_violations, "conserved": bool(res.conserved)}
