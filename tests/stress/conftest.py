"""The stress suite's run length, seeds, progress lines and summary come from
velox's pytest plugin (velox/pytest_plugin/stress.py: ``stress_seconds``,
``stress_seed``, ``stress_tally``); this file only makes the native harness
importable."""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
for _p in (os.path.join(_HERE, "native"),):
    if _p not in sys.path:
        sys.path.insert(0, _p)
