"""The 32-byte transaction record (native), its sides and size."""

from ._native._core import ASK as ASK
from ._native._core import BID as BID
from ._native._core import TXN_SIZE as TXN_SIZE
from ._native._core import Transaction as Transaction
