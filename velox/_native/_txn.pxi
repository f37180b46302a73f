# Transaction: a Python object holding one 32-byte vx_txn by value.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t
from libc.string cimport memcpy
from velox._native.vx_txn cimport vx_txn, VX_BID, VX_ASK

BID = VX_BID
ASK = VX_ASK
TXN_SIZE = sizeof(vx_txn)

cdef uint64_t _U64_MAX = 0xFFFFFFFFFFFFFFFF


cdef class Transaction:
    """One transaction: 32 bytes, laid out as ``struct.Struct("<QQqIBBH")``.

    Fields: ``id`` (per-producer sequence, u64), ``ts`` (TSC ticks, u64),
    ``price`` (int ticks of 0.0001: $100.25 is 1002500, i64), ``qty`` (u32),
    ``side`` (``velox.BID`` or ``velox.ASK``), ``producer`` (u16).
    Immutable and hashable; equal when all fields are equal.
    """

    cdef vx_txn rec

    def __init__(self, *, id=0, ts=0, price=0, qty=0, side=BID, producer=0):
        _check_int("id", id, 0, 0xFFFFFFFFFFFFFFFF)
        _check_int("ts", ts, 0, 0xFFFFFFFFFFFFFFFF)
        _check_int("price", price, -0x8000000000000000, 0x7FFFFFFFFFFFFFFF)
        _check_int("qty", qty, 0, 0xFFFFFFFF)
        _check_int("producer", producer, 0, 0xFFFF)
        if isinstance(side, bool) or not isinstance(side, int) or side not in (VX_BID, VX_ASK):
            raise ValueError(f"side must be velox.BID (0) or velox.ASK (1), got {side!r}")
        self.rec.id = id
        self.rec.ts = ts
        self.rec.price = price
        self.rec.qty = qty
        self.rec.side = side
        self.rec.flags = 0
        self.rec.producer = producer

    @property
    def id(self):
        return self.rec.id

    @property
    def ts(self):
        return self.rec.ts

    @property
    def price(self):
        return self.rec.price

    @property
    def qty(self):
        return self.rec.qty

    @property
    def side(self):
        return self.rec.side

    @property
    def producer(self):
        return self.rec.producer

    def to_bytes(self):
        """The 32-byte wire form (little-endian, as in memory)."""
        return (<char *>&self.rec)[:sizeof(vx_txn)]

    @classmethod
    def from_bytes(cls, data):
        """Read a transaction from exactly 32 bytes (any bytes-like object)."""
        cdef const unsigned char[::1] view = _byte_view(data, False, "Transaction.from_bytes")
        if view.shape[0] != sizeof(vx_txn):
            raise ValueError(f"a transaction is exactly {sizeof(vx_txn)} bytes, got {view.shape[0]}")
        cdef Transaction t = Transaction.__new__(Transaction)
        memcpy(&t.rec, &view[0], sizeof(vx_txn))
        if t.rec.side != VX_BID and t.rec.side != VX_ASK:
            raise ValueError(f"byte 28 (side) must be 0 or 1, got {t.rec.side}")
        if t.rec.flags != 0:
            raise ValueError(f"byte 29 (reserved) must be 0, got {t.rec.flags}")
        return t

    def _key(self):
        return (self.rec.id, self.rec.ts, self.rec.price, self.rec.qty, self.rec.side, self.rec.producer)

    def __eq__(self, other):
        if not isinstance(other, Transaction):
            return NotImplemented
        return self._key() == (<Transaction>other)._key()

    def __hash__(self):
        return hash(self._key())

    def __reduce__(self):
        return (Transaction.from_bytes, (self.to_bytes(),))

    def __repr__(self):
        side = "BID" if self.rec.side == VX_BID else "ASK"
        return (f"Transaction(id={self.rec.id}, ts={self.rec.ts}, price={self.rec.price}, "
                f"qty={self.rec.qty}, side=velox.{side}, producer={self.rec.producer})")


cdef inline Transaction _txn_from(const vx_txn *rec):
    cdef Transaction t = Transaction.__new__(Transaction)
    t.rec = rec[0]
    return t


cdef int _check_records(const vx_txn *recs, size_t n, str what) except -1:
    """ValueError naming the first record whose side or reserved byte is not
    what Transaction allows (the same checks as Transaction.from_bytes)."""
    cdef size_t i
    cdef size_t bad = n
    with nogil:
        for i in range(n):
            if (recs[i].side != VX_BID and recs[i].side != VX_ASK) or recs[i].flags != 0:
                bad = i
                break
    if bad == n:
        return 0
    if recs[bad].side != VX_BID and recs[bad].side != VX_ASK:
        raise ValueError(f"{what}: record {bad} (bytes {bad * 32}-{bad * 32 + 31}) has byte 28 (side) "
                         f"{recs[bad].side}; it must be 0 (BID) or 1 (ASK); nothing was pushed")
    raise ValueError(f"{what}: record {bad} (bytes {bad * 32}-{bad * 32 + 31}) has byte 29 (reserved) "
                     f"{recs[bad].flags}; it must be 0; nothing was pushed")
