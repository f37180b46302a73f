"""velox: a test-first correctness lab for lock-free data structures.

General layout:

* ``velox/_native/``: the C core (one source of truth) and its bindings. The
  production binding ``_native._core`` (Cython) is imported only by the
  ``velox/_*.py`` modules below; the model build (cffi) only by the explorer.
* ``velox/_txn.py``, ``_ring.py``, ``_book.py``, ``_bundle.py``, ``tsc.py``:
  the user-facing structures, re-exported here.
* ``velox.models``: the reference models (the specification), from ``models/``.
* ``velox.explore``: the interleaving explorer (RC11 and SC).
* ``velox.telemetry``: OpenTelemetry metrics of a pipeline run (the
  ``velox[telemetry]`` extra), exported by ``velox run --otlp/--prometheus``.
* ``velox._cli``: the ``velox`` command (``velox run``, ``velox litmus``, ...).
"""

try:  # the native extension first, so that a missing or broken build says what to do
    from ._native import _core as _core
except ImportError as _exc:
    from ._native import explain as _explain

    raise _explain(_exc) from None

from . import tsc as tsc
from ._book import OrderBook as OrderBook
from ._book import Timeout as Timeout
from ._bundle import Bundle as Bundle
from ._bundle import BundleBuilder as BundleBuilder
from ._mpmc import MpmcRing as MpmcRing
from ._pipeline import Pipeline as Pipeline
from ._pipeline import PipelineConfig as PipelineConfig
from ._price import price_to_ticks as price_to_ticks
from ._price import ticks_to_decimal as ticks_to_decimal
from ._price import ticks_to_str as ticks_to_str
from ._ring import SpscRing as SpscRing
from ._txn import ASK as ASK
from ._txn import BID as BID
from ._txn import TXN_SIZE as TXN_SIZE
from ._txn import Transaction as Transaction

__version__ = "0.1.0"
