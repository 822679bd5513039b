#!/usr/bin/env bash
# The Python half of `npm test`: creates .venv at the repository root on first use (python3 -m venv, then
# the pinned CPU test set, training/requirements/test.txt), reuses it while the lock is unchanged, and
# runs pytest on training/tests. Real training runs on CPU with tiny models built by the tests; the
# suite refuses to pass if those tests were skipped or if nothing ran (pytest's exit 5 is a failure).
set -euo pipefail
cd "$(dirname "$0")/../.."

bash training/scripts/venv.sh
PYTHON=$(realpath "${SIAL_VENV:-.venv}")/bin/python

export SIAL_REQUIRE_TRAINING=1
# Tiny models train faster on one thread each than fighting over the cores.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
# The domain modules are typed: mypy --strict on them (pyproject.toml), seconds.
(cd training && "$PYTHON" -m mypy --cache-dir /tmp/sial-mypy-cache)
# Test paths given (training/tests/test_router_*.py) replace the whole folder; other arguments are
# pytest options and pass through.
paths=() options=()
for arg in "$@"; do
  if [[ "$arg" == training/tests* ]]; then paths+=("$arg"); else options+=("$arg"); fi
done
((${#paths[@]} > 0)) || paths=(training/tests)
rc=0
"$PYTHON" -m pytest "${paths[@]}" -p no:cacheprovider -q ${options[@]+"${options[@]}"} || rc=$?
if ((rc == 5)); then
  echo "[python] pytest collected no tests: that is a failure, not a pass" >&2
  exit 1
fi
exit "$rc"
