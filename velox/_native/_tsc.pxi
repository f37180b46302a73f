# The TSC clock.
cimport cython
from velox._native.vx_tsc cimport vx_tsc_now, vx_mono_ns, vx_tsc_calibrate, vx_tsc_ns_per_tick, vx_tsc_to_ns


cdef extern from "vx_pytsc.h":
    object vx_py_tsc_now_function(object module_name)

# Current TSC tick count: a METH_FASTCALL builtin written in C (vx_pytsc.h),
# the call path CPython 3.11 runs fastest; no argument parsing, no allocation
# beyond the int it returns.
tsc_now = vx_py_tsc_now_function("velox.tsc")


def tsc_calibrate(sleep_s=0.02):
    """Measure the tick rate against CLOCK_MONOTONIC over sleep_s seconds
    (0.001 to 10); returns nanoseconds per tick and keeps it for to_ns."""
    if isinstance(sleep_s, bool) or not isinstance(sleep_s, (int, float)) or not (0.001 <= sleep_s <= 10):
        raise ValueError(f"sleep_s must be a number from 0.001 to 10 seconds, got {sleep_s!r}")
    cdef uint64_t ns = <uint64_t>(sleep_s * 1e9)
    cdef double r
    with nogil:
        r = vx_tsc_calibrate(ns)
    return r


def tsc_ns_per_tick():
    """Nanoseconds per tick (calibrating once, over 20 ms, if never done)."""
    return vx_tsc_ns_per_tick()


def tsc_to_ns(ticks):
    """Convert a tick count (or difference) to nanoseconds (float)."""
    _check_int("ticks", ticks, 0, 0xFFFFFFFFFFFFFFFF)
    return vx_tsc_to_ns(ticks)


def mono_ns():
    """CLOCK_MONOTONIC in nanoseconds."""
    return vx_mono_ns()
