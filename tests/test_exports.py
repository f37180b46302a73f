"""The public surface of ``velox`` is deliberate: this pins it (habit 11 of
the style guide, after trio's test_exports). Adding or removing a public name
is an API change: update PUBLIC here in the same commit, on purpose."""

from __future__ import annotations

import inspect
import types

import velox
import velox.models
from velox.models import book, bundle, ring, txn

#: The public names of ``velox`` (submodules imported on demand, such as
#: ``velox.explore`` and ``velox.models``, are not attributes until imported).
PUBLIC = {
    "ASK", "BID", "TXN_SIZE", "Transaction", "price_to_ticks", "ticks_to_decimal", "ticks_to_str",
    "SpscRing", "MpmcRing", "OrderBook", "Timeout", "Bundle", "BundleBuilder", "tsc",
    "Pipeline", "PipelineConfig",
}


def _public(mod: types.ModuleType) -> set[str]:
    """Public attributes, leaving out subpackages (attributes only once some
    code imported them) but keeping the re-exported ``tsc``."""
    return {n for n in dir(mod) if not n.startswith("_")
            and (n == "tsc" or not isinstance(getattr(mod, n), types.ModuleType))}


def test_public_names_are_pinned() -> None:
    names = _public(velox)
    assert names == PUBLIC, (
        f"velox's public names changed: added {sorted(names - PUBLIC)}, removed {sorted(PUBLIC - names)}; "
        "if deliberate, update PUBLIC in tests/test_exports.py")


def test_contract_values() -> None:
    assert (velox.BID, velox.ASK, velox.TXN_SIZE) == (0, 1, 32)
    assert issubclass(velox.Timeout, TimeoutError)
    assert isinstance(velox.__version__, str)


def test_public_objects_are_documented() -> None:
    for name in PUBLIC:
        obj = getattr(velox, name)
        if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj) or isinstance(obj, types.ModuleType):
            assert (obj.__doc__ or "").strip(), f"velox.{name} has no docstring"


def test_implementation_modules_are_private() -> None:
    for name in PUBLIC - {"tsc"}:
        mod = getattr(getattr(velox, name), "__module__", None)
        if mod is not None:
            assert mod.split(".")[-1].startswith("_"), f"velox.{name} is defined in public module {mod}"


def test_tsc_surface() -> None:
    assert set(velox.tsc.__all__) == {"now", "calibrate", "to_ns", "ns_per_tick", "mono_ns"}


def test_models_surface() -> None:
    assert velox.models.__name__ == "velox.models", "models/ is installed as velox.models, never top-level"
    for mod in (ring, book, bundle, txn):
        for fn in ("init", "step", "describe_op", "describe_state"):
            assert callable(getattr(mod, fn)), f"{mod.__name__}.{fn}"
        assert (mod.__doc__ or "").strip()
