"""The 32-byte transaction: size, alignment-free wire layout and every field's
offset, checked against Python's struct module and the model
(velox.models.txn); zero-copy round trips; equality, hashing, pickling, repr."""

from __future__ import annotations

import pickle
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

import velox
from velox.models import txn as model

records = st.builds(
    model.Record,
    id=st.integers(0, (1 << 64) - 1), ts=st.integers(0, (1 << 64) - 1),
    price=st.integers(-(1 << 63), (1 << 63) - 1), qty=st.integers(0, (1 << 32) - 1),
    side=st.sampled_from([velox.BID, velox.ASK]), producer=st.integers(0, (1 << 16) - 1),
)


def native(rec: model.Record) -> velox.Transaction:
    return velox.Transaction(id=rec.id, ts=rec.ts, price=rec.price, qty=rec.qty, side=rec.side,
                             producer=rec.producer)


def test_size() -> None:
    assert velox.TXN_SIZE == 32 == model.SIZE == struct.calcsize("<QQqIBBH")
    assert len(velox.Transaction().to_bytes()) == 32


def test_model_offsets_match_struct() -> None:
    # Offsets in the model's table are what struct computes for each prefix.
    fmt = "QQqIBBH"
    for i, f in enumerate(model.FIELDS):
        assert f.offset == struct.calcsize("<" + fmt[:i]), f.name
        assert f.size == struct.calcsize("<" + fmt[i]), f.name


@pytest.mark.parametrize("field", [f for f in model.FIELDS if f.name != "flags"], ids=lambda f: f.name)
def test_each_field_sits_at_its_offset(field: model.Field) -> None:
    # One field at its maximum (or minimum for price), the rest zero: exactly
    # those bytes are non-zero, at the field's offset.
    value = field.lo if field.name == "price" else field.hi
    data = velox.Transaction(**{field.name: value}).to_bytes()
    span = data[field.offset:field.offset + field.size]
    assert int.from_bytes(span, "little", signed=field.lo < 0) == value
    assert data[:field.offset] == bytes(field.offset)
    assert data[field.offset + field.size:] == bytes(32 - field.offset - field.size)


def test_dollar_example() -> None:
    t = velox.Transaction(id=7, ts=99, price=1002500, qty=10, side=velox.ASK, producer=3)
    assert struct.unpack("<QQqIBBH", t.to_bytes()) == (7, 99, 1002500, 10, 1, 0, 3)


@given(records)
def test_wire_form_matches_model(rec: model.Record) -> None:
    t = native(rec)
    assert t.to_bytes() == model.encode(rec)
    assert (t.id, t.ts, t.price, t.qty, t.side, t.producer) == (rec.id, rec.ts, rec.price, rec.qty, rec.side,
                                                                rec.producer)


@given(records, st.sampled_from([bytes, bytearray, memoryview]))
def test_from_bytes_round_trip(rec: model.Record, kind: type) -> None:
    data = model.encode(rec)
    t = velox.Transaction.from_bytes(kind(data))
    assert t == native(rec) and hash(t) == hash(native(rec))
    assert model.decode(t.to_bytes()) == rec


@given(st.binary(min_size=32, max_size=32))
def test_from_bytes_agrees_with_model_on_any_bytes(data: bytes) -> None:
    try:
        expected = model.decode(data)
    except ValueError:
        with pytest.raises(ValueError):
            velox.Transaction.from_bytes(data)
        return
    assert velox.Transaction.from_bytes(data).to_bytes() == model.encode(expected)


def test_pickle_and_repr_round_trip() -> None:
    t = velox.Transaction(id=1, ts=2, price=-3, qty=4, side=velox.ASK, producer=5)
    assert pickle.loads(pickle.dumps(t)) == t
    assert eval(repr(t), {"Transaction": velox.Transaction, "velox": velox}) == t


def test_equality_is_by_value() -> None:
    assert velox.Transaction(id=1) == velox.Transaction(id=1)
    assert velox.Transaction(id=1) != velox.Transaction(id=2)
    assert velox.Transaction() != object()
    assert len({velox.Transaction(id=1), velox.Transaction(id=1)}) == 1
