"""Memory orders: the names users write, the numbers C uses, and which combinations are legal.

The numbering follows C11's ``memory_order`` enum (relaxed 0, consume 1, acquire 2,
release 3, acq_rel 4, seq_cst 5) so that C code built with ``-DVX_MODEL`` can pass
its orders straight through. ``consume`` is accepted from C and treated as acquire,
as every compiler does. Non-atomic accesses (``Cell``) use ``NA``.
"""

from __future__ import annotations

RELAXED = 0
CONSUME = 1
ACQUIRE = 2
RELEASE = 3
ACQ_REL = 4
SEQ_CST = 5
NA = -1

NAMES: dict[int, str] = {
    RELAXED: "relaxed",
    CONSUME: "consume",
    ACQUIRE: "acquire",
    RELEASE: "release",
    ACQ_REL: "acq_rel",
    SEQ_CST: "seq_cst",
    NA: "na",
}
BY_NAME: dict[str, int] = {name: num for num, name in NAMES.items() if num != NA}

_LOAD_ORDERS = (RELAXED, ACQUIRE, SEQ_CST)
_STORE_ORDERS = (RELAXED, RELEASE, SEQ_CST)
_FAILURE_ORDERS = (RELAXED, ACQUIRE, SEQ_CST)


class UsageError(ValueError):
    """A velox.explore primitive was called wrongly (an invalid order, an undeclared location...).

    Raised inside a test thread, it stops the exploration and ``check`` re-raises it as is.
    """


def parse(order: object, what: str) -> int:
    """Return the number of a memory order given as a name or a C number.

    ``what`` names the operation for the error message. ``consume`` becomes acquire.
    """
    if isinstance(order, str):
        num = BY_NAME.get(order)
        if num is None:
            raise UsageError(
                f"{what}: unknown memory order {order!r}; use one of "
                '"relaxed", "acquire", "release", "acq_rel", "seq_cst"'
            )
    elif isinstance(order, int) and not isinstance(order, bool) and order in NAMES and order != NA:
        num = order
    else:
        raise UsageError(f"{what}: memory order must be a name such as \"acquire\" or a C number 0-5, got {order!r}")
    return ACQUIRE if num == CONSUME else num


def is_acquire(order: int) -> bool:
    """True when the order has acquire semantics on the read side."""
    return order in (ACQUIRE, ACQ_REL, SEQ_CST)


def is_release(order: int) -> bool:
    """True when the order has release semantics on the write side."""
    return order in (RELEASE, ACQ_REL, SEQ_CST)


# The names accepted as they are, looked up first (these checks run once per operation).
_LOAD_NAMES = {name: BY_NAME[name] for name in ("relaxed", "acquire", "seq_cst")}
_STORE_NAMES = {name: BY_NAME[name] for name in ("relaxed", "release", "seq_cst")}
_RMW_NAMES = {name: num for name, num in BY_NAME.items() if num != CONSUME}
# The C numbers accepted, with what the checked path (parse, then the validity test) gives for them
# (consume becomes acquire): C code passes its orders as numbers on every operation.
_LOAD_NUMS = {RELAXED: RELAXED, CONSUME: ACQUIRE, ACQUIRE: ACQUIRE, SEQ_CST: SEQ_CST}
_STORE_NUMS = {RELAXED: RELAXED, RELEASE: RELEASE, SEQ_CST: SEQ_CST}
_RMW_NUMS = {num: ACQUIRE if num == CONSUME else num for num in NAMES if num != NA}


def check_load(order: object) -> int:
    """Validate an order for a load: relaxed, acquire or seq_cst."""
    if type(order) is str and order in _LOAD_NAMES:
        return _LOAD_NAMES[order]
    if type(order) is int and order in _LOAD_NUMS:
        return _LOAD_NUMS[order]
    num = parse(order, "load")
    if num not in _LOAD_ORDERS:
        raise UsageError(f"load: memory order {NAMES[num]!r} is not valid for a load (use relaxed, acquire or seq_cst)")
    return num


def check_store(order: object) -> int:
    """Validate an order for a store: relaxed, release or seq_cst."""
    if type(order) is str and order in _STORE_NAMES:
        return _STORE_NAMES[order]
    if type(order) is int and order in _STORE_NUMS:
        return _STORE_NUMS[order]
    num = parse(order, "store")
    if num not in _STORE_ORDERS:
        raise UsageError(
            f"store: memory order {NAMES[num]!r} is not valid for a store (use relaxed, release or seq_cst)"
        )
    return num


def check_rmw(order: object, what: str = "read-modify-write") -> int:
    """Validate an order for a read-modify-write: every order is legal."""
    if type(order) is str and order in _RMW_NAMES:
        return _RMW_NAMES[order]
    if type(order) is int and order in _RMW_NUMS:
        return _RMW_NUMS[order]
    return parse(order, what)


def check_cas(success: object, failure: object) -> tuple[int, int]:
    """Validate a compare-exchange's success and failure orders.

    The failure order is the order of a load, so it may not be release or acq_rel.
    It may be stronger than the success order (C++17 dropped that restriction and
    herd7 accepts it): a failed compare-exchange is then a load with that order.
    """
    if type(success) is str and success in _RMW_NAMES and type(failure) is str and failure in _LOAD_NAMES:
        return _RMW_NAMES[success], _LOAD_NAMES[failure]
    if type(success) is int and success in _RMW_NUMS and type(failure) is int and failure in _LOAD_NUMS:
        return _RMW_NUMS[success], _LOAD_NUMS[failure]
    s = parse(success, "compare_exchange success order")
    f = parse(failure, "compare_exchange failure order")
    if f not in _FAILURE_ORDERS:
        raise UsageError(
            f"compare_exchange: failure order {NAMES[f]!r} is invalid: a failed compare-exchange is a load, "
            "so use relaxed, acquire or seq_cst"
        )
    return s, f


def check_fence(order: object) -> int:
    """Validate a fence order: every order is legal (a relaxed fence does nothing)."""
    return parse(order, "fence")
