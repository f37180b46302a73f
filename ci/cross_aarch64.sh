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
srcs=$(python3 -c "
import importlib.util
s = importlib.util.spec_from_file_location('c', 'velox/_native/_build_config.py')
m = importlib.util.module_from_spec(s); s.loader.exec_module(m)
print(' '.join(m.CORE_SOURCES))")
fail=0
for f in $srcs; do
    if ! "$CC" -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -pthread -c "velox/_native/$f" -o /dev/null; then
        echo "cross_aarch64: $f does not compile for aarch64" >&2
        fail=1
    fi
done
# The model build must compile there too.
for f in vx_ring.c vx_book.c vx_bundle.c; do
    "$CC" -std=gnu11 -O1 -DVX_MODEL -Wall -Wextra -Werror -Wno-unused-parameter -c "velox/_native/$f" -o /dev/null || fail=1
done
[ $fail -eq 0 ] && echo "cross_aarch64: all core sources compile for aarch64"
exit $fail
