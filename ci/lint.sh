#!/usr/bin/env bash
# Static checks: the atomics lint (every atomic has an ordering comment, and
# <stdatomic.h> only in vx_atomic.h), the aarch64 cross-compile, and ruff at
# the version pinned in pyproject's test extra, with pyproject's [tool.ruff]
# configuration (pip install -e '.[test]' installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 ci/lint_atomics.py
if command -v aarch64-linux-gnu-gcc >/dev/null; then
    bash ci/cross_aarch64.sh
else
    echo "lint: skipping the aarch64 cross-compile (no aarch64-linux-gnu-gcc; ci/cross_aarch64.sh --install)"
fi
pinned=$(python3 -c "
import re, tomllib
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['test']
print(next(re.sub(r'^ruff==', '', d.split(';')[0]).strip() for d in deps if d.startswith('ruff==')))")
have=$(python3 -m ruff --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$pinned" ]; then
    echo "lint: ruff $pinned is required (pyproject's test extra), found '${have:-none}':" \
         "pip install -e '.[test]'" >&2
    exit 1
fi
python3 -m ruff check velox models tests benches ci setup.py
