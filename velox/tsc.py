"""The TSC clock: ``now()`` in ticks, ``calibrate()`` against CLOCK_MONOTONIC,
``to_ns(ticks)``. On x86_64 this is rdtscp, on aarch64 cntvct_el0, elsewhere
CLOCK_MONOTONIC itself (one tick per ns)."""

from ._native._core import mono_ns as mono_ns
from ._native._core import tsc_calibrate as calibrate
from ._native._core import tsc_now as now
from ._native._core import tsc_ns_per_tick as ns_per_tick
from ._native._core import tsc_to_ns as to_ns

__all__ = ["now", "calibrate", "to_ns", "ns_per_tick", "mono_ns"]
