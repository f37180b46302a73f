#!/usr/bin/env bash
# Static checks: the atomics lint (every atomic has an ordering comment, and
# <stdatomic.h> only in vx_atomic.h), the aarch64 cross-compile, and ruff when
# it is installed (pip install ruff).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 ci/lint_atomics.py
if command -v aarch64-linux-gnu-gcc >/dev/null; then
    bash ci/cross_aarch64.sh
else
    echo "lint: skipping the aarch64 cross-compile (no aarch64-linux-gnu-gcc; ci/cross_aarch64.sh --install)"
fi
if command -v ruff >/dev/null; then
    ruff check velox models tests benches ci
else
    echo "lint: ruff not installed, skipping (pip install ruff)"
fi
