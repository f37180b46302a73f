"""Golden histories in JSON: small hand-written concurrent histories with a
known verdict, for the order book and the FIFO ring models.

Format::

    {"model": "book" | "ring",
     "init": {...},              # book: levels, tick_shift, base_price, bids, asks
                                 # ring: capacity, items (list of ints)
     "expect": "ok" | "illegal",
     "why": "one line: what makes it (non-)linearizable",
     "operations": [{"client": 0, "call": 0, "ret": 10, "f": "add",
                     "side": 0, "price": 1000000, "qty": 2, "ok": null}, ...]}

An operation has either ``"ok"`` (its result) or ``"error"`` (the exception
class name it raised, e.g. "ValueError" or "Timeout"). Ring records are ints,
stored as 32-byte little-endian records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from velox.models import book as book_model
from velox.models import ring as ring_model
from velox.models._step import Raises

from ._book import partition_by_level
from ._history import Operation
from ._model import Model, from_step


@dataclass(frozen=True, kw_only=True)
class Golden:
    name: str
    model: Model
    init: Any
    operations: list[Operation]
    expect: str
    why: str


def _rec(v: int) -> bytes:
    return int(v).to_bytes(32, "little")


def _book_op(d: dict[str, Any]) -> Any:
    f = d["f"]
    if f == "add":
        return book_model.Add(side=d["side"], price=d["price"], qty=d["qty"])
    if f == "remove":
        return book_model.Remove(side=d["side"], price=d["price"], qty=d["qty"])
    if f == "depth":
        return book_model.Depth(side=d["side"], price=d["price"])
    raise ValueError(f"unknown book operation {f!r}")


def _ring_op(d: dict[str, Any]) -> Any:
    f = d["f"]
    if f == "push":
        return ring_model.Push(record=_rec(d["value"]))
    if f == "pop":
        return ring_model.Pop()
    raise ValueError(f"unknown ring operation {f!r}")


def load(path: str) -> Golden:
    """Read one golden history file."""
    with open(path) as fh:
        doc = json.load(fh)
    kind = doc["model"]
    ops = []
    for d in doc["operations"]:
        if "error" in d:
            out: Any = Raises(error=d["error"])
        else:
            out = d.get("ok")
            if kind == "ring" and d["f"] == "pop" and out is not None:
                out = _rec(out)
        inp = _book_op(d) if kind == "book" else _ring_op(d)
        ops.append(Operation(client=d["client"], call=d["call"], ret=d["ret"], input=inp, output=out))
    init = doc["init"]
    if kind == "book":
        state = book_model.State(levels=init["levels"], tick_shift=init["tick_shift"], base_price=init["base_price"],
                                 bids=tuple(map(tuple, init.get("bids", []))),
                                 asks=tuple(map(tuple, init.get("asks", []))))
        model = from_step(book_model, state, partition=partition_by_level)
    elif kind == "ring":
        state = ring_model.State(capacity=init["capacity"], items=tuple(_rec(v) for v in init.get("items", [])))
        model = from_step(ring_model, state)
    else:
        raise ValueError(f"{path}: unknown model {kind!r} (book or ring)")
    if doc["expect"] not in ("ok", "illegal"):
        raise ValueError(f"{path}: expect must be 'ok' or 'illegal', got {doc['expect']!r}")
    return Golden(name=path, model=model, init=state, operations=ops, expect=doc["expect"], why=doc.get("why", ""))
