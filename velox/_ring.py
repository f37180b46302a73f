"""The SPSC ring of transactions (native)."""

from ._native._core import SpscRing as SpscRing
