"""The lock-free price-level order book (native)."""

from ._native._core import OrderBook as OrderBook
from ._native._core import Timeout as Timeout
