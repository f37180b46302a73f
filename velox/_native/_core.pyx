# cython: language_level=3
"""velox._native._core: the production binding of velox's C core.

One extension module over the static library of velox/_native/*.c. Each
structure's wrapper lives in its own .pxi (included below) beside the .pxd
that mirrors its header. Wrappers validate arguments, turn C return codes into
Python exceptions through ``_raise_for`` and release the GIL around work that
can spin or copy much. Nobody outside velox/_*.py imports this module.
"""

include "_errors.pxi"
include "_txn.pxi"
include "_ring.pxi"
include "_book.pxi"
include "_bundle.pxi"
include "_tsc.pxi"
include "_bench.pxi"
include "_mpmc.pxi"
include "_pipeline.pxi"
