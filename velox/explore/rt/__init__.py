"""The explorer's runtime: threads, scheduling, memory operations, consistency and revisits.

Front ends (the Python API in ``velox.explore``, the C front end in
``velox.explore.cmodel``, the litmus front end in ``velox.explore.litmus``) reach
it only through the ``rt_*`` functions of ``runtime.py``; the search over
executions (``velox.explore._explorer``) drives ``execution.Execution``.
"""

import os as _os

from ._compiled import install as _install_compiled

# Before any runtime module is imported: load the compiled ones only when they match their sources.
_install_compiled(__name__, _os.path.dirname(__file__))
