#!/usr/bin/env bash
# The Python half of `npm test`: creates .venv at the repository root on first use (python3 -m venv, then
# the pinned CPU test set, training/requirements/test.txt), reuses it while the lock is unchanged, and
# runs pytest on training/tests. Real training runs on CPU with tiny models built by the tests; the
# suite refuses to pass if those tests were skipped or if nothing ran (pytest's exit 5 is a failure).
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=${SIAL_VENV:-.venv}
LOCK=training/requirements/test.txt
STAMP="$VENV/.sial-requirements.sha256"
want=$(cat "$LOCK" training/pyproject.toml | sha256sum | cut -d' ' -f1)

if [[ ! -x "$VENV/bin/python" || "$(cat "$STAMP" 2>/dev/null)" != "$want" ]]; then
  command -v python3 >/dev/null 2>&1 || { echo "npm test needs python3 (3.11) with venv and pip for the training suite" >&2; exit 1; }
  started=$(date +%s)
  echo "[python] installing the training test environment into $VENV (first run: torch is large; pip's cache makes later installs faster)"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$LOCK"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e training
  echo "$want" >"$STAMP"
  echo "[python] environment ready in $(($(date +%s) - started)) s"
fi

export SIAL_REQUIRE_TRAINING=1
# Tiny models train faster on one thread each than fighting over the cores.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
rc=0
"$VENV/bin/python" -m pytest training/tests -p no:cacheprovider -q "$@" || rc=$?
if ((rc == 5)); then
  echo "[python] pytest collected no tests: that is a failure, not a pass" >&2
  exit 1
fi
exit "$rc"
