"""The bounded multi-producer multi-consumer ring of transactions (native).

Dmitry Vyukov's design with per-cell sequence numbers; the same API shape as
``velox.SpscRing`` (``push``/``pop``, ``push_many``/``pop_many``/``pop_into``
over 32-byte records, ``len``, ``capacity``), for any number of producer and
consumer threads. Capacity is a power of two from 2 to 2**26.
"""

from ._native._core import MpmcRing as MpmcRing
