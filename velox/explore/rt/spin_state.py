"""Thread state at a spin hint: proving that a spin-loop iteration changed nothing.

A spin-loop iteration that reads exactly what the previous one read and writes
nothing is redundant only if the thread's own state is also the same: a bounded
poll (``for i in range(3)``) or a retry counter changes it, and its give-up path
is a real execution. ``snapshot()`` captures that state for the Python frames of
the calling model thread, from the thread's entry function down to the hint:
each frame's code, position, local variables (cells included) and the hidden
values of its evaluation stack (a ``for`` loop's iterator lives there, not in a
variable), each value frozen deeply (containers, objects' attributes, closure
cells, iterator state through ``__reduce__``, the bytes behind cffi pointers).
Two equal snapshots prove equal states.

When the state cannot be captured the answer is ``None`` ("unknown"), never a
guess: a frame entered from C (a hint inside C code, or a Python callback
called by C) hides C locals; a value of a type with no visible state (a lock, a
socket) could change unseen; the interpreter may not be the CPython 3.11 layout
this module reads (checked by a self-test at import). What is deliberately not
captured: module globals other than the names the frames' code uses, and C
memory behind pointers to opaque structs (it is the shared structure under test,
whose accesses the explorer records as events).
"""

from __future__ import annotations

import ctypes
import dis
import sys
import types
from typing import Any

__all__ = ["UNKNOWN", "snapshot", "supported"]

UNKNOWN = None
NOT_GIVEN = object()  # rt_spin's default: the explorer takes the snapshot itself
_MAX_NODES = 4000  # a state bigger than this is not compared (treated as unknown)


class _Unknown(Exception):
    """The state cannot be captured."""


# ------------------------------------------------------------ frame internals
# CPython 3.11: PyFrameObject {PyObject_HEAD; f_back; f_frame; ...}; the interpreter frame
# _PyInterpreterFrame {f_func, f_globals, f_builtins, f_locals, f_code, frame_obj, previous,
# prev_instr (8 pointers); int stacktop; bool is_entry; char owner; PyObject *localsplus[]}.
_F_FRAME = 24
_CODE = 32
_IS_ENTRY = 68
_LOCALSPLUS = 72


def _iframe(f: types.FrameType) -> int:
    return ctypes.c_void_p.from_address(id(f) + _F_FRAME).value or 0


_nlocals_cache: dict[types.CodeType, int] = {}


def _nlocalsplus(code: types.CodeType) -> int:
    n = _nlocals_cache.get(code)
    if n is None:
        varnames = code.co_varnames
        n = len(varnames) + sum(1 for c in code.co_cellvars if c not in varnames) + len(code.co_freevars)
        _nlocals_cache[code] = n
    return n


def _slot(base: int, i: int) -> Any:
    p = ctypes.c_void_p.from_address(base + _LOCALSPLUS + 8 * i).value
    if not p:
        return _UNBOUND
    return ctypes.cast(p, ctypes.py_object).value


_py_object_at = ctypes.py_object.from_address
_pointer_at = ctypes.c_void_p.from_address


def _slots(base: int, wanted: tuple[int, ...]) -> list[Any]:
    """The values of the frame slots ``wanted`` (``_slot`` for each, one ctypes read per slot)."""
    out = []
    start = base + _LOCALSPLUS
    for i in wanted:
        if i < 0:
            out.append(None)  # a dead variable: not state
        elif _pointer_at(start + 8 * i).value:
            out.append(_py_object_at(start + 8 * i).value)
        else:
            out.append(_UNBOUND)
    return out


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_UNBOUND = _Marker("<unbound>")
_EMPTY_CELL = _Marker("<empty cell>")

_depth_cache: dict[types.CodeType, dict[int, int] | None] = {}
_NO_FALLTHROUGH = {"RETURN_VALUE", "RAISE_VARARGS", "RERAISE", "JUMP_FORWARD", "JUMP_BACKWARD",
                   "JUMP_BACKWARD_NO_INTERRUPT", "JUMP_ABSOLUTE", "JUMP"}
_JUMPS = set(dis.hasjrel) | set(dis.hasjabs)


def _depths(code: types.CodeType) -> dict[int, int] | None:
    """Stack depth before each instruction (by offset), or None if the analysis is inconsistent."""
    if code in _depth_cache:
        return _depth_cache[code]
    instrs = [i for i in dis.get_instructions(code) if i.opname != "CACHE"]
    at = {ins.offset: k for k, ins in enumerate(instrs)}
    depth: dict[int, int] = {}
    work: list[tuple[int, int]] = [(0, 0)]
    try:
        for entry in dis._parse_exception_table(code):  # type: ignore[attr-defined]
            work.append((entry.target, entry.depth + (1 if entry.lasti else 0) + 1))
    except Exception:  # noqa: BLE001 - no table: no handlers
        pass
    ok = True
    while work and ok:
        off, d = work.pop()
        while True:
            if off not in at:
                ok = False
                break
            seen = depth.get(off)
            if seen is not None:
                if seen != d:
                    ok = False
                break
            depth[off] = d
            ins = instrs[at[off]]
            if ins.opcode in _JUMPS:
                work.append((ins.argval, d + dis.stack_effect(ins.opcode, ins.arg, jump=True)))
            if ins.opname in _NO_FALLTHROUGH:
                break
            d += dis.stack_effect(ins.opcode, ins.arg, jump=False) if ins.opcode >= dis.HAVE_ARGUMENT else \
                dis.stack_effect(ins.opcode)
            k = at[off] + 1
            if k >= len(instrs):
                break
            off = instrs[k].offset
    result = depth if ok else None
    _depth_cache[code] = result
    return result


_call_cache: dict[tuple[types.CodeType, int], int | None] = {}


def _hidden(code: types.CodeType, lasti: int) -> int | None:
    """How many stack values lie below the pending call at ``lasti`` (None: not suspended in a call)."""
    key = (code, lasti)
    if key in _call_cache:
        return _call_cache[key]
    result = None
    ins = None
    for i in dis.get_instructions(code):
        if i.offset > lasti:
            break
        if i.opname != "CACHE":
            ins = i
    depths = _depths(code)
    if ins is not None and depths is not None and ins.opname in ("CALL", "CALL_FUNCTION_EX") and \
            ins.offset in depths:
        popped = 1 - dis.stack_effect(ins.opcode, ins.arg)
        result = depths[ins.offset] - popped
        if result < 0:
            result = None
    _call_cache[key] = result
    return result


_MODULE = types.ModuleType
_MISSING = _Marker("missing")  # an attribute a code names that its module or class does not hold (yet)
_attr_pairs: dict[types.CodeType, tuple[tuple[str, str], ...]] = {}
_ATTR_OPS = frozenset(("LOAD_ATTR", "LOAD_METHOD", "STORE_ATTR", "DELETE_ATTR"))


def _global_attrs(code: types.CodeType) -> tuple[tuple[str, str], ...]:
    """The (global, attribute) pairs a code object reads or writes as ``name.attr`` (``stats.retries += 1``).

    A module or a class is compared by identity, so the attributes of it that the code uses are state of
    their own. Found in the bytecode: a global load followed, within two instructions (``COPY`` for an
    augmented assignment), by an attribute access."""
    instrs = [i for i in dis.get_instructions(code) if i.opname != "CACHE"]
    pairs = []
    for k, ins in enumerate(instrs):
        if ins.opname != "LOAD_GLOBAL":
            continue
        for nxt in instrs[k + 1:k + 3]:
            if nxt.opname in _ATTR_OPS:
                pairs.append((ins.argval, nxt.argval))
                break
            if nxt.opname not in ("COPY", "PUSH_NULL"):
                break
    return tuple(dict.fromkeys(pairs))


_live_cache: dict[tuple[types.CodeType, int], frozenset[int] | None] = {}
_EVERYTHING = ("locals", "vars", "exec", "eval", "globals", "__import__")


def _live_after(code: types.CodeType, lasti: int) -> frozenset[int] | None:
    """Fast-local slots that may be read after the call at ``lasti`` before being written (None: all).

    A variable written before it is read again on every path (``ok, cur = cas(...)`` overwrites both)
    is not part of the thread's state: two states differing only there behave the same. Cells and free
    variables are always live (another frame can read them); so is everything when the code could
    read its locals indirectly (``locals()``, ``eval``...).
    """
    key = (code, lasti)
    if key in _live_cache:
        return _live_cache[key]
    result: frozenset[int] | None = None
    if not any(name in code.co_names for name in _EVERYTHING):
        instrs = [i for i in dis.get_instructions(code) if i.opname != "CACHE"]
        index = {ins.offset: k for k, ins in enumerate(instrs)}
        handlers: list[tuple[int, int, int]] = []
        try:
            handlers = [(x.start, x.end, x.target) for x in dis._parse_exception_table(code)]  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001
            handlers = []
        succ: list[list[int]] = []
        use: list[int] = []
        kill: list[int] = []
        for k, ins in enumerate(instrs):
            nxt = []
            if ins.opname not in _NO_FALLTHROUGH and k + 1 < len(instrs):
                nxt.append(k + 1)
            if ins.opcode in _JUMPS and ins.argval in index:
                nxt.append(index[ins.argval])
            for start, end, target in handlers:
                if start <= ins.offset < end and target in index:
                    nxt.append(index[target])
            succ.append(nxt)
            u = d = 0
            if ins.opname in ("LOAD_FAST", "LOAD_CLOSURE"):
                u = 1 << ins.arg
            elif ins.opname in ("STORE_FAST", "DELETE_FAST"):
                d = 1 << ins.arg
            use.append(u)
            kill.append(d)
        live_in = [0] * len(instrs)
        changed = True
        while changed:
            changed = False
            for k in range(len(instrs) - 1, -1, -1):
                out = 0
                for j in succ[k]:
                    out |= live_in[j]
                new = use[k] | (out & ~kill[k])
                if new != live_in[k]:
                    live_in[k] = new
                    changed = True
        call = None
        for k, ins in enumerate(instrs):
            if ins.offset > lasti:
                break
            call = k
        if call is not None:
            out = 0
            for j in succ[call]:
                out |= live_in[j]
            varnames = code.co_varnames
            always = {i for i, name in enumerate(varnames) if name in code.co_cellvars}
            n = _nlocalsplus(code)
            always |= set(range(len(varnames), n))
            result = frozenset({i for i in range(n) if out >> i & 1} | always)
    _live_cache[key] = result
    return result


# ------------------------------------------------------------------ freezing
_ATOMS = (int, float, complex, str, bytes, bool, type(None), type(Ellipsis), range, _Marker)
_IDENTITY = (types.ModuleType, type, types.BuiltinFunctionType, types.CodeType, types.MethodDescriptorType,
             types.WrapperDescriptorType, types.BuiltinMethodType)
_identity_types: tuple[type, ...] = ()  # explorer objects, registered below
try:  # cffi values: pointers and arrays compare by address and the bytes they point to
    import _cffi_backend as _cffi

    _CDATA = _cffi._CDataBase
    _CFFI_IDENTITY: tuple[type, ...] = (_cffi.FFI, _cffi.Lib) if hasattr(_cffi, "Lib") else (_cffi.FFI,)
    _FFI = _cffi.FFI()
except Exception:  # noqa: BLE001
    _cffi = None
    _CDATA = ()
    _CFFI_IDENTITY = ()


def register_identity(*classes: type) -> None:
    """Objects of these classes keep no state of their own (the explorer holds it): compare by identity."""
    global _identity_types
    _identity_types = _identity_types + classes


_ATOM_TYPES = frozenset(_ATOMS)


class _Freezer:
    def __init__(self, stable: Any = None) -> None:
        self.memo: dict[int, int] = {}
        self.nodes = 0
        self.stable = stable  # explorer object -> identity that survives re-execution (or None)

    def __call__(self, v: Any) -> Any:
        t = type(v)
        if t in _ATOM_TYPES:
            return v if t is not _Marker else ("marker", v.name)
        exact = _EXACT.get(t)
        # The exact builtin types below are no atom (isinstance would say False): skip that check for them.
        if exact is None and isinstance(v, _ATOMS):
            return v
        self.nodes += 1
        if self.nodes > _MAX_NODES:
            raise _Unknown("state too large")
        k = id(v)
        memo = self.memo
        if k in memo:
            return ("ref", memo[k])
        memo[k] = len(memo)
        if exact is not None:  # a builtin container, cell or function (none of the identity types below)
            return exact(self, v)
        if isinstance(v, _identity_types):
            key = self.stable(v) if self.stable is not None else None
            return ("id", k) if key is None else ("stable", key)
        if isinstance(v, _IDENTITY) or isinstance(v, _CFFI_IDENTITY):
            return ("id", k)
        if t is tuple or t is list:
            return (t.__name__, tuple(self(x) for x in v))
        if t is dict:
            return ("dict", tuple((self(a), self(b)) for a, b in v.items()))
        if t is set or t is frozenset:
            return (t.__name__, tuple(sorted((self(x) for x in v), key=repr)))
        if t is bytearray:
            return ("bytearray", bytes(v))
        if t is types.CellType:
            try:
                return ("cell", self(v.cell_contents))
            except ValueError:
                return ("cell", None)
        if t is types.FunctionType:
            return ("fn", id(v.__code__), tuple(self(c) for c in (v.__closure__ or ())), self(v.__defaults__),
                    self(v.__kwdefaults__))
        if t is types.MethodType:
            return ("method", self(v.__func__), self(v.__self__))
        if _cffi is not None and isinstance(v, _CDATA):
            return self.cdata(v)
        if hasattr(v, "__dict__") or hasattr(type(v), "__slots__"):
            return self.obj(v)
        try:
            red = v.__reduce_ex__(4)
        except Exception as exc:  # noqa: BLE001 - no visible state
            raise _Unknown(f"a {t.__name__} has no visible state") from exc
        if isinstance(red, tuple) and len(red) >= 2:
            return ("reduce", t.__name__, self(red[1]), *(self(x) for x in red[2:3]))
        raise _Unknown(f"a {t.__name__} has no visible state")

    def obj(self, v: Any) -> Any:
        parts: list[Any] = [type(v).__qualname__, id(type(v))]
        d = getattr(v, "__dict__", None)
        if d is not None:
            parts.append(self(dict(d)))
        for name in _slot_names(type(v)):
            try:
                parts.append((name, self(getattr(v, name))))
            except AttributeError:
                parts.append((name, None))
        return ("obj", tuple(parts))

    def cdata(self, v: Any) -> Any:
        ffi = _FFI
        try:
            ctype = ffi.typeof(v)
        except Exception as exc:  # noqa: BLE001
            raise _Unknown("an unknown cffi value") from exc
        if ctype.kind == "primitive":
            return ("cprim", ctype.cname, repr(v))
        addr = int(ffi.cast("uintptr_t", v))
        try:
            raw = bytes(ffi.buffer(v))
        except Exception:  # noqa: BLE001 - opaque struct or function pointer: the address only
            raw = None
        return ("cdata", ctype.cname, addr, raw)


_slot_names_cache: dict[type, tuple[str, ...]] = {}


def _slot_names(klass: type) -> tuple[str, ...]:
    """The ``__slots__`` names of a class and its bases, in MRO order (no __dict__ / __weakref__)."""
    names = _slot_names_cache.get(klass)
    if names is None:
        found = []
        for k in klass.__mro__:
            slots = k.__dict__.get("__slots__", ())
            for name in slots if isinstance(slots, (tuple, list)) else ():
                if name not in ("__dict__", "__weakref__"):
                    found.append(name)
        names = _slot_names_cache[klass] = tuple(found)
    return names


def _cell(fr: _Freezer, v: Any) -> Any:
    try:
        return ("cell", fr(v.cell_contents))
    except ValueError:
        return ("cell", None)


def _set(fr: _Freezer, v: Any) -> Any:
    return (type(v).__name__, tuple(sorted((fr(x) for x in v), key=repr)))


# Exact builtin types frozen without the identity checks (no identity type is one of them), with the
# same result as the general path in _Freezer.__call__.
_EXACT: dict[type, Any] = {
    tuple: lambda fr, v: ("tuple", tuple(fr(x) for x in v)),
    list: lambda fr, v: ("list", tuple(fr(x) for x in v)),
    dict: lambda fr, v: ("dict", tuple((fr(a), fr(b)) for a, b in v.items())),
    set: _set,
    frozenset: _set,
    bytearray: lambda fr, v: ("bytearray", bytes(v)),
    types.CellType: _cell,
    types.FunctionType: lambda fr, v: ("fn", id(v.__code__), tuple(fr(c) for c in (v.__closure__ or ())),
                                       fr(v.__defaults__), fr(v.__kwdefaults__)),
    types.MethodType: lambda fr, v: ("method", fr(v.__func__), fr(v.__self__)),
}


def _iterator(fr: _Freezer, v: Any) -> Any:
    # What the general path ends with for these (no identity type, no __dict__ or __slots__): the reduction.
    red = v.__reduce_ex__(4)
    return ("reduce", type(v).__name__, fr(red[1]), *(fr(x) for x in red[2:3]))


# The iterators of for loops over ranges, lists and tuples (a loop's position is part of its state).
for _it in (iter(range(0)), iter(range(1 << 70)), iter([]), iter(())):
    _EXACT[type(_it)] = _iterator
del _it


# ------------------------------------------------------------------ snapshots
_wanted_cache: dict[tuple[types.CodeType, int, int], tuple[int, ...]] = {}


def _wanted(code: types.CodeType, lasti: int, hidden: int) -> tuple[int, ...]:
    """The slots of a frame suspended at ``lasti`` that are state, in order; -1 for a dead variable."""
    key = (code, lasti, hidden)
    wanted = _wanted_cache.get(key)
    if wanted is None:
        n = _nlocalsplus(code)
        live = _live_after(code, lasti)
        wanted = tuple(i if live is None or i in live or i >= n else -1 for i in range(n + hidden))
        _wanted_cache[key] = wanted
    return wanted


_SKIP: set[types.CodeType] = set()
_STOP: set[types.CodeType] = set()
# The same, by id (the code objects are kept alive in the sets above, so an id is never reused): a
# lookup by id costs no hash of the code object (which hashes its bytecode and constants each time).
# A miss still asks the set itself, so a code object equal to a registered one matches as before.
_SKIP_IDS: set[int] = set()
_STOP_IDS: set[int] = set()


def skip_frames(*codes: types.CodeType) -> None:
    """Frames of these functions (the explorer's own hint path) are not part of the thread's state."""
    _SKIP.update(codes)
    _SKIP_IDS.update(id(c) for c in codes)


def stop_at(*codes: types.CodeType) -> None:
    """The frame that runs a model thread's body: the walk stops below it."""
    _STOP.update(codes)
    _STOP_IDS.update(id(c) for c in codes)


# (id(code), lasti) -> (code, wanted slots or None when the frame is not suspended in a call): what
# _hidden and _wanted give for that frame position, found without hashing the code object. The code
# object is kept in the entry, so its id cannot be reused by another while the entry exists.
_frame_cache: dict[tuple[int, int], tuple[types.CodeType, tuple[int, ...] | None]] = {}


def _frame_wanted(code: types.CodeType, lasti: int) -> tuple[int, ...] | None:
    entry = _frame_cache.get((id(code), lasti))
    if entry is not None and entry[0] is code:
        return entry[1]
    hidden = _hidden(code, lasti)
    wanted = None if hidden is None else _wanted(code, lasti, hidden)
    _frame_cache[(id(code), lasti)] = (code, wanted)
    return wanted


# Values frozen as themselves (``_Freezer.__call__`` returns them unchanged).
_PLAIN_TYPES = frozenset(_ATOMS) - {_Marker}


def snapshot(frame: types.FrameType | None = None, stable: Any = None) -> Any:
    """The calling thread's state (a hashable, comparable value), or UNKNOWN when it cannot be captured.

    ``stable`` maps the explorer's own objects (locations, thread handles) to identities that are the
    same in every re-execution, so that states from different executions compare too.
    """
    if not _SUPPORTED:
        return UNKNOWN
    f = frame if frame is not None else sys._getframe(1)
    try:
        while f is not None:
            code = f.f_code
            if id(code) not in _SKIP_IDS and code not in _SKIP:
                break
            f = f.f_back
        freeze = _Freezer(stable)
        plain = _PLAIN_TYPES
        out = []
        while f is not None:
            parent = f.f_back
            if parent is None:
                return UNKNOWN
            base = _pointer_at(id(f) + _F_FRAME).value or 0
            code = f.f_code
            if not base or _pointer_at(base + _CODE).value != id(code):
                return UNKNOWN
            entered_from_c = ctypes.c_bool.from_address(base + _IS_ENTRY).value
            pcode = parent.f_code
            if id(pcode) in _STOP_IDS or pcode in _STOP:
                top = True
            else:
                top = False
                if entered_from_c:
                    return UNKNOWN  # C frames lie between this frame and its caller
            wanted = _frame_wanted(code, f.f_lasti)
            if wanted is None:
                return UNKNOWN
            # _slots gives None for a dead variable, and freeze(None) is None: as freezing each live slot.
            values = tuple([v if type(v) in plain else freeze(v) for v in _slots(base, wanted)])
            names = code.co_names
            glob = f.f_globals
            used = [(name, freeze(glob[name])) for name in names if name in glob]
            # A module or class the code names is compared by identity, but the attributes of it that
            # the code names are state too (``stats.retries += 1``): their plain values are added.
            pairs = _attr_pairs.get(code)
            if pairs is None:
                pairs = _attr_pairs[code] = _global_attrs(code)
            for name, attr in pairs:
                holder = glob.get(name)
                if type(holder) is _MODULE or isinstance(holder, type):
                    value = holder.__dict__.get(attr, _MISSING)
                    used.append((name, attr, value if type(value) in plain or value is _MISSING
                                 else freeze(value)))
            out.append((id(code), f.f_lasti, values, tuple(used)))
            if top:
                return tuple(out)
            f = parent
    except _Unknown:
        return UNKNOWN
    return UNKNOWN


# ------------------------------------------------------------------ self-test
def _self_test() -> bool:
    """Check the frame layout this module reads on a frame whose state is known."""
    if sys.implementation.name != "cpython" or sys.version_info[:2] != (3, 11):
        return False
    seen: list[Any] = []

    def probe() -> None:
        f = sys._getframe(1)
        base = _iframe(f)
        if not base or ctypes.c_void_p.from_address(base + _CODE).value != id(f.f_code):
            return
        hidden = _hidden(f.f_code, f.f_lasti)
        n = _nlocalsplus(f.f_code)
        if hidden is None:
            return
        seen.append((tuple(_slot(base, i) for i in range(n + hidden)), hidden))

    def body(arg: Any) -> Any:
        it = iter(range(3))
        marker = object()
        for _v in it:
            probe()
            break
        return it, marker, arg

    try:
        it, marker, arg = body("x")
        if len(seen) != 1:
            return False
        values, hidden = seen[0]
        return hidden == 1 and values[0] == "x" and values[1] is it and values[-1] is it and marker in values
    except Exception:  # noqa: BLE001
        return False


_SUPPORTED = _self_test()


def supported() -> bool:
    """True when thread states can be captured on this interpreter."""
    return _SUPPORTED
