"""Build script for velox's native code.

Two builds read the same C sources under ``velox/_native/``:

* ``velox._native._core``: the production build, a Cython extension over a
  static library compiled with ``-O2 -Wall -Wextra -Werror``;
* ``velox._native._model``: the model build (added by the model-build issue),
  a cffi extension with ``-DVX_MODEL`` routing every atomic into the explorer.

Build modes come from environment variables (as msgspec and uvloop do):

* ``VELOX_SANITIZE=thread|address``: build with that sanitizer;
* ``VELOX_DEBUG=1``: ``-O0 -g -UNDEBUG`` instead of ``-O2``;
* ``VELOX_NATIVE_ARCH=1``: add ``-march=native`` (never for wheels you ship).
"""

import os
import sys

import glob

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext as _build_ext

import importlib.util

_spec = importlib.util.spec_from_file_location(
    "_velox_build_config", os.path.join("velox", "_native", "_build_config.py")
)
cfg = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cfg)  # pure Python: importing velox itself would need the build

from Cython.Build import cythonize  # noqa: E402

core_lib = (
    "vxcore",
    {
        "sources": [os.path.join("velox", "_native", s) for s in cfg.CORE_SOURCES],
        "include_dirs": [os.path.join("velox", "_native")],
        "cflags": cfg.c_flags(strict=True) + ["-fPIC"],
    },
)

class build_ext(_build_ext):
    """Build the static core library first, so that `setup.py build_ext
    --inplace` alone is a complete rebuild (setuptools only runs build_clib
    from `build`)."""

    def run(self):
        if self.distribution.has_c_libraries():
            self.run_command("build_clib")
        super().run()


# Every native file: a change to any of them relinks the extension (build_ext
# would otherwise keep a stale .so when only a .c or .h changed).
NATIVE_DEPENDS = sorted(
    glob.glob(os.path.join("velox", "_native", "*.[ch]"))
    + glob.glob(os.path.join("velox", "_native", "*.px[di]"))
)
NATIVE_DEPENDS = [p for p in NATIVE_DEPENDS if not os.path.basename(p).startswith("_core.c")]

core_ext = Extension(
    "velox._native._core",
    sources=[os.path.join("velox", "_native", "_core.pyx")],
    include_dirs=[os.path.join("velox", "_native")],
    extra_compile_args=cfg.c_flags(strict=False),
    extra_link_args=cfg.link_flags(),
    libraries=["vxcore", "m"],
    depends=NATIVE_DEPENDS,
)

ext_modules = cythonize(
    [core_ext],
    compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False},
)

setup_kwargs = dict(
    ext_modules=ext_modules,
    libraries=[core_lib],
    packages=["velox", "velox._native", "velox.explore", "velox.lincheck", "velox.models", "velox.telemetry"],
    package_dir={"velox.models": "models"},
    package_data={"velox._native": ["*.h", "*.c", "*.pxd", "*.pyx", "*.pxi"]},
    zip_safe=False,
    cmdclass={"build_ext": build_ext},
)

if os.environ.get("VELOX_NO_MODEL_BUILD") != "1" and os.path.exists(
    os.path.join("velox", "_native", "_model_build.py")
):
    setup_kwargs["cffi_modules"] = ["velox/_native/_model_build.py:ffibuilder"]

setup(**setup_kwargs)
