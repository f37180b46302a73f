"""Native stress drivers and the order-book history recorder.

Thin re-exports of the C drivers in ``velox/_native/vx_stress.c`` for the
stress suite (``tests/stress``) and the linearizability recorder
(``velox.lincheck``). Each ``run``/``record`` call starts POSIX threads with
the GIL released, runs one slice, joins them and returns the slice's counts
as a dict: ``ops``, ``checks``, ``violations``, ``timeouts``, ``waits`` and
``first_violation`` (the first failed check, "" when none).
"""

from ._native._core import LC_OP_SIZE as LC_OP_SIZE
from ._native._core import STRESS_HIST_BASE as STRESS_HIST_BASE
from ._native._core import BookHistoryRecorder as BookHistoryRecorder
from ._native._core import StressBook as StressBook
from ._native._core import StressMpmc as StressMpmc
from ._native._core import StressRing as StressRing

__all__ = ["LC_OP_SIZE", "STRESS_HIST_BASE", "BookHistoryRecorder", "StressBook", "StressMpmc", "StressRing"]
