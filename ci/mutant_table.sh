#!/usr/bin/env bash
# Print the gate-by-mutant table of docs/mutants.md, derived from the mutant
# catalogue's caught_by (tests/support/velox_testing/catalogue.py).
#
#   ci/mutant_table.sh [--gate GATE]     (--gate: list one gate's mutants)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
if [ $# -eq 0 ]; then set -- --table; fi
PYTHONPATH="tests/support${PYTHONPATH:+:$PYTHONPATH}" exec python -m velox_testing.catalogue "$@"
