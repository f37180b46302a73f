"""velox.lincheck: a Wing-Gong linearizability checker.

A history is a list of completed ``Operation``s (client, call time, return
time, input, output). ``check_operations(model, history)`` decides whether
some order of the operations, consistent with their real-time order, is a
legal sequential run of ``model`` (a pure step function: ``Model``). The
result is a ``CheckResult`` with a ``Verdict`` (OK, ILLEGAL, or UNKNOWN when
the search budget ran out, never a silent pass) and, for a failure, the
offending partition with the longest linearization found; ``render_part``
prints it as a per-thread table.

``velox.lincheck.book`` helpers check the order book's recorded native
histories window by window against ``velox.models.book``. See
docs/lincheck.md for exactly what is (and is not) checked.
"""

from ._book import WindowTotals as WindowTotals
from ._book import book_model_from as book_model_from
from ._book import check_windows as check_windows
from ._book import partition_by_level as partition_by_level
from ._book import read_dump as read_dump
from ._book import record_and_check as record_and_check
from ._golden import Golden as Golden
from ._golden import load as load_golden
from ._history import Operation as Operation
from ._history import precedes as precedes
from ._model import Model as Model
from ._model import from_step as from_step
from ._render import render_html as render_html
from ._render import render_part as render_part
from ._wgl import CheckResult as CheckResult
from ._wgl import PartResult as PartResult
from ._wgl import Verdict as Verdict
from ._wgl import check_operations as check_operations
from ._wgl import check_part as check_part

__all__ = [
    "CheckResult", "Golden", "Model", "Operation", "PartResult", "Verdict", "WindowTotals", "book_model_from",
    "check_operations", "check_part", "check_windows", "from_step", "load_golden", "partition_by_level",
    "precedes", "read_dump", "record_and_check", "render_html", "render_part",
]
