"""velox.explore: run a small concurrent test under every schedule and every read RC11 allows.

General layout:
  _orders.py     memory orders: names, C numbers, legal combinations
  _graph.py      execution graphs: events, locations, the RC11 coherence and psc checks
  _threads.py    model threads: OS threads passing a baton, one running at a time
  _execution.py  one execution: scheduling, plan replay, reads-from/mo choices, revisits
  _explorer.py   the search over executions: check(), outcomes(), outcome_counts(), Stats
  _trace.py      failure reports: trace table, replay tokens
  _runtime.py    the low-level runtime (rt_*) both front ends land in (C hooks, Python shims)
  _api.py        the Python front end: Atomic, Cell, spawn, fence, spin_hint, yield_now, choose
  _litmus*.py    the herd7 litmus front end (velox litmus)
"""

from ._api import Atomic as Atomic
from ._api import Cell as Cell
from ._api import choose as choose
from ._api import fence as fence
from ._api import spawn as spawn
from ._api import spin_hint as spin_hint
from ._api import yield_now as yield_now
from ._explorer import Stats as Stats
from ._explorer import check as check
from ._explorer import outcome_counts as outcome_counts
from ._explorer import outcomes as outcomes
from ._threads import JoinHandle as JoinHandle
from ._trace import ExplorationFailure as ExplorationFailure

__all__ = [
    "Atomic", "Cell", "ExplorationFailure", "JoinHandle", "Stats", "check", "choose", "fence", "outcome_counts",
    "outcomes", "spawn", "spin_hint", "yield_now",
]
