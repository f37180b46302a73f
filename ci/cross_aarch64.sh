#!/usr/bin/env bash
# Compile every C source of the core for aarch64 with the production flags, so
# the aarch64 code paths (cntvct_el0 in vx_tsc.h, the `yield` spin hint in
# vx_atomic.h) keep compiling although this machine is x86_64.
# Usage: ci/cross_aarch64.sh [--install]   (--install: apt-get the cross gcc first)
# VELOX_SRC_ROOT=DIR checks the sources of another tree (the tests use it).
set -euo pipefail
cd "${VELOX_SRC_ROOT:-$(dirname "$0")/..}"
CC=${CC_AARCH64:-aarch64-linux-gnu-gcc}
if [ "${1:-}" = "--install" ] && ! command -v "$CC" >/dev/null; then
    apt-get update -q >/dev/null && apt-get install -y -q gcc-aarch64-linux-gnu >/dev/null
fi
if ! command -v "$CC" >/dev/null; then
    echo "cross_aarch64: $CC not found (Debian package gcc-aarch64-linux-gnu); run with --install" >&2
    exit 3
fi
fail=0
# The production sources with the production flags, then the model build's
# (both lists and flag sets come from velox/_native/_build.py).
for pair in "core cross" "model cross-model"; do
    # shellcheck disable=SC2086
    if ! python3 velox/_native/_build.py compile $pair; then
        echo "cross_aarch64: a ${pair%% *} source does not compile for aarch64 (compiler output above)" >&2
        fail=1
    fi
done
[ $fail -eq 0 ] && echo "cross_aarch64: all core and model sources compile for aarch64"
exit $fail
