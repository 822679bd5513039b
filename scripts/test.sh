#!/usr/bin/env bash
# `npm test`: type-check, lint, the Python training suite and every jest suite, with the same verdict as
# running them one after another, in less time. Type-check, lint and pytest each keep one core busy;
# jest keeps one worker per core busy. Run one after another, the single-core steps leave the other core
# idle for minutes, so they run in sequence BESIDE jest. Their output is held in a file and printed in one
# piece when jest is done (two live streams would interleave); a failure is announced when it happens.
# Arguments go to jest (`npm test -- test/nag.test.ts`).
set -uo pipefail
cd "$(dirname "$0")/.."

side_log=$(mktemp "${TMPDIR:-/tmp}/sial-test-side.XXXXXX")
trap 'rm -f "$side_log"' EXIT

# fd 3: the terminal's stderr, for the one-line failure notice while jest still runs.
exec 3>&2
(
  for step in typecheck lint test:python; do
    echo "> npm run $step"
    if ! npm run -s "$step"; then
      echo "[npm test] npm run $step failed (its output follows jest's)" >&3
      exit 1
    fi
  done
) >"$side_log" 2>&1 &
side=$!

npx jest "$@"
jest_rc=$?

wait "$side"
side_rc=$?
echo
echo "----- type-check, lint and the Python suite -----"
cat "$side_log"

if ((side_rc != 0 || jest_rc != 0)); then
  echo "[npm test] FAILED: type-check/lint/Python exit ${side_rc}, jest exit ${jest_rc}" >&2
  exit 1
fi
