"""velox.explore: run a small concurrent test under every schedule and every read RC11 allows.

Layout (the runtime underneath, the front ends beside each other on top)::

  rt/             the model-checking runtime, shared by every front end
    orders.py       memory orders: names, C numbers, legal combinations
    graph.py        execution graphs: events, locations, the RC11 coherence checks
    psc.py          RC11's SC axiom: psc's edges kept as the graph grows, and the full reference
    threads.py      model threads: OS threads passing a baton, one running at a time; CPU pinning
    schedule.py     which thread runs next, hand-off, spin loops, spawn and join
    memory.py       events, locations, reads-from and mo choices, the memory operations
    revisit.py      backward revisits (a read re-pointed at a newer write)
    execution.py    one execution: the three above put together, run once
    plan.py         the prefix of an execution the next run replays
    failure.py      what went wrong in a failing execution
    runtime.py      the rt_* entry points both front ends land in
  _explorer.py    the search over executions: check(), outcomes(), outcome_counts(), Stats
  _parallel.py    one check() over several forked processes that share plans (workers=n)
  _trace.py       failure reports: trace table, replay tokens
  _api.py         the Python front end: Atomic, Cell, spawn, fence, spin_hint, yield_now, choose
  cmodel.py       the C front end: the C core's model build and your own C, under the explorer
  litmus/         the herd7 C litmus front end (``velox litmus``)
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
from ._explorer import combine as combine
from ._explorer import outcome_counts as outcome_counts
from ._explorer import outcomes as outcomes
from ._trace import ExplorationFailure as ExplorationFailure
from .rt.threads import JoinHandle as JoinHandle

__all__ = [
    "Atomic", "Cell", "ExplorationFailure", "JoinHandle", "Stats", "check", "choose", "combine", "fence", "outcome_counts",
    "outcomes", "spawn", "spin_hint", "yield_now",
]
