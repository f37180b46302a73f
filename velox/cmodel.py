"""velox.cmodel: the C front end of the explorer, kept importable under its first name.

The module lives at ``velox.explore.cmodel``; this name is the same module object,
so ``from velox import cmodel`` and ``from velox.explore import cmodel`` are
interchangeable.
"""

import sys

from .explore import cmodel as _cmodel

sys.modules[__name__] = _cmodel
