#!/usr/bin/env bash
# The default gate, as the README runs it: install with the test and docs extras, then
# pytest (stress tests are deselected by pyproject's addopts). pytest's exit
# code 5 (no tests collected) is a failure here, never a pass.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -e '.[test,docs]'
set +e
python -m pytest "$@"
rc=$?
if [ $rc -eq 0 ] && [ $# -eq 0 ]; then
    python -m pytest -m install -q   # the README's install commands in sequence (minutes)
    rc=$?
fi
set -e
if [ $rc -eq 5 ]; then
    echo "ci/test.sh: pytest collected no tests: failing the gate" >&2
    exit 1
fi
exit $rc
