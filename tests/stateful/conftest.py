"""Makes the machine modules importable by name (``import test_ring_machine``)
and the mutant builder as ``mutants.build`` (from tests/), whatever pytest's
import mode, for tests/stateful/test_mutants_caught.py."""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
for _path in (_HERE, os.path.dirname(_HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)
