#!/usr/bin/env bash
# Creates .venv at the repository root on first use (python3 -m venv, then the pinned CPU test set,
# training/requirements/test.txt, and the training package itself) and reinstalls it when the lock or
# pyproject.toml changed. Used by `npm test` (scripts/test.sh) and by `npm run local -- --trainer real`.
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=${SIAL_VENV:-.venv}
LOCK=training/requirements/test.txt
STAMP="$VENV/.sial-requirements.sha256"
want=$(cat "$LOCK" training/pyproject.toml | sha256sum | cut -d' ' -f1)

# One installer at a time: `npm test` runs the Python suite beside jest, and jest's `--trainer real`
# run needs the same environment, so on a fresh clone both arrive here before .venv exists. Without
# the lock, two `python3 -m venv`/pip runs write into one directory and one of them fails; with it,
# the second waits and then finds the environment ready.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$VENV.install-lock"
  flock 9
fi

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
