"""Build script for velox's native code.

Two builds read the same C sources under ``velox/_native/``:

* ``velox._native._core``: the production build, a Cython extension linked
  with velox's C compiled with the ``strict`` profile (``-O2 -Wall -Wextra
  -Werror``);
* ``velox._native._model``: the model build, a cffi extension compiled with
  the ``model`` profile (``-DVX_MODEL``: every atomic calls into the explorer).

Source sets and flag profiles come from ``velox/_native/_build.py``, the one
description of the native build. Build modes come from environment variables
(as msgspec and uvloop do):

* ``VELOX_SANITIZE=thread|address``: build with that sanitizer;
* ``VELOX_DEBUG=1``: ``-O0 -g -UNDEBUG`` instead of ``-O2``;
* ``VELOX_NATIVE_ARCH=1``: add ``-march=native`` (never for wheels you ship).

Objects of different builds never share a path: velox's C objects live in a
content-addressed cache (``build/velox-cache``) keyed by source, headers and
flags, and each extension compiles in a build folder named by a hash of its
own flags, so ``pip install .`` and ``pip install -e .`` in one checkout, in
any order, never link each other's objects.
"""

import glob
import importlib.util
import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext as _build_ext

_spec = importlib.util.spec_from_file_location("_velox_native_build", os.path.join("velox", "_native", "_build.py"))
vxb = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = vxb
_spec.loader.exec_module(vxb)  # pure Python: importing velox itself would need the build
_spec = importlib.util.spec_from_file_location("_velox_compiled_runtime",
                                               os.path.join("velox", "explore", "rt", "_compiled.py"))
compiled_rt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compiled_rt)  # standard library only, like _build.py

from Cython.Build import cythonize  # noqa: E402


class build_ext(_build_ext):
    """Compile velox's C core into the content-addressed cache and link it
    into the production extension; give every extension a build folder of
    its own, named by a hash of its sources and flags."""

    def build_extension(self, ext):
        base = self.build_temp
        if ext.name == "velox._native._core":
            strict = vxb.profile("strict")
            src = vxb.sources("core")
            cache = Path(__file__).resolve().parent / "build" / "velox-cache"  # the checkout's, in every mode
            ext.extra_objects = [str(o) for o in vxb.compile_objects(src, vxb.source_set("core"), strict, root=cache,
                                                                     log=print)]
            # Content-addressed objects are new files whenever a flag or a
            # source changes: listing them as dependencies relinks then.
            ext.depends = list(ext.depends) + ext.extra_objects
        # The folder changes with any flag or any native source or header, so
        # no object compiled for other flags or older headers is ever reused.
        key = vxb.digest(ext.name, ext.sources, ext.extra_compile_args, ext.define_macros,
                         sorted(vxb.all_sources(testing=False).items()))
        self.build_temp = os.path.join(base, f"{ext.name.rsplit('.', 1)[-1]}-{key}")
        target = self.get_ext_fullpath(ext.name)
        built_at = os.path.getmtime(target) if os.path.exists(target) else None
        try:
            super().build_extension(ext)
        finally:
            self.build_temp = base
        digest = target + compiled_rt.DIGEST_SUFFIX
        if ext.name in RUNTIME_MODULES and (os.path.getmtime(target) != built_at or not os.path.exists(digest)):
            # What the extension was compiled from: the runtime loads it only while its .py still has
            # this digest (velox/explore/rt/_compiled.py), so an edited source is never shadowed. An
            # extension build_ext found up to date keeps the digest it was built with (if it has one,
            # else it gets its source's: up to date means compiled from it).
            with open(digest, "w", encoding="ascii") as f:
                f.write(compiled_rt.source_digest(RUNTIME_MODULES[ext.name]) + "\n")

    def copy_extensions_to_source(self):
        """In-place builds (``--inplace``, editable installs): each digest goes beside its extension."""
        super().copy_extensions_to_source()
        build_py = self.get_finalized_command("build_py")
        for ext in self.extensions:
            if ext.name in RUNTIME_MODULES:
                inplace_file, regular_file = self._get_inplace_equivalent(build_py, ext)
                self.copy_file(regular_file + compiled_rt.DIGEST_SUFFIX, inplace_file + compiled_rt.DIGEST_SUFFIX,
                               level=self.verbose)


# Every native file: a change to any of them relinks the extension (build_ext
# would otherwise keep a stale .so when only a .c or .h changed).
NATIVE_DEPENDS = sorted(
    glob.glob(os.path.join("velox", "_native", "*.[ch]"))
    + glob.glob(os.path.join("velox", "_native", "*.px[di]"))
)
NATIVE_DEPENDS = [p for p in NATIVE_DEPENDS if not os.path.basename(p).startswith("_core.c")]

binding = vxb.profile("binding")
core_ext = Extension(
    "velox._native._core",
    sources=[os.path.join("velox", "_native", "_core.pyx")],
    include_dirs=[os.path.join("velox", "_native")],
    extra_compile_args=list(binding.cflags),
    extra_link_args=list(binding.ldflags),
    libraries=["m"],
    depends=NATIVE_DEPENDS,
)

ext_modules = cythonize(
    [core_ext],
    compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False},
)

# The explorer's per-event runtime modules, compiled unchanged from their .py sources (which stay the
# source of truth and are shipped too). Annotations are left as hints, as in Python, so the compiled
# modules behave exactly like the sources.
RUNTIME_MODULES = {f"velox.explore.rt.{m}": os.path.join("velox", "explore", "rt", f"{m}.py")
                   for m in compiled_rt.COMPILED}
ext_modules += cythonize(
    [Extension(name, [path]) for name, path in RUNTIME_MODULES.items()],
    build_dir=os.path.join("build", "cython-runtime"),
    compiler_directives={"language_level": "3", "annotation_typing": False},
)

setup_kwargs = dict(
    ext_modules=ext_modules,
    packages=["velox", "velox._native", "velox.explore", "velox.explore.rt", "velox.explore.litmus",
              "velox.lincheck", "velox.models", "velox.pytest_plugin", "velox.report", "velox.telemetry"],
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
