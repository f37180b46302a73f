# Errors: one helper turns a C return code into the Python exception.
from velox._native.vx_txn cimport (
    VX_OK, VX_EINVAL, VX_ERANGE, VX_EUNDERFLOW, VX_EOVERFLOW, VX_ETIMEOUT, VX_ENOMEM, vx_strerror,
)


class Timeout(TimeoutError):
    """A bounded compare-exchange retry loop gave up under contention.

    The operation changed nothing; it is safe to retry it."""


cdef int _raise_for(int err, str what) except -1:
    if err == VX_OK:
        return 0
    if err == VX_ETIMEOUT:
        raise Timeout(f"{what}: retry limit reached under contention; nothing was changed, retry the call")
    if err == VX_ENOMEM:
        raise MemoryError(what)
    raise ValueError(f"{what}: {vx_strerror(err).decode()}")


cdef inline int _check_int(str name, object value, object lo, object hi) except -1:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < lo or value > hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")
    return 0


cdef object _byte_view(object buffer, bint writable, str what):
    """A flat byte view of a bytes-like buffer, or a TypeError saying what is accepted."""
    try:
        view = memoryview(buffer)
    except TypeError:
        raise TypeError(f"{what} needs a bytes-like object (bytes, bytearray, memoryview, array), "
                        f"got {type(buffer).__name__}") from None
    if not view.c_contiguous:
        raise TypeError(f"{what} needs a C-contiguous buffer, got a strided view")
    if writable and view.readonly:
        raise TypeError(f"{what} needs a writable buffer (bytearray or a memoryview of one), "
                        f"got read-only {type(buffer).__name__}")
    return view.cast("B")
