"""Bundles and the bundle builder (native)."""

from ._native._core import BUNDLE_MAX as BUNDLE_MAX
from ._native._core import Bundle as Bundle
from ._native._core import BundleBuilder as BundleBuilder
