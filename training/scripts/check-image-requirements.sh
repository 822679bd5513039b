#!/usr/bin/env bash
# CI check: the GPU image's locked requirement set (training/requirements/image.txt) resolves for the
# image's platform (linux x86_64, glibc 2.36, CPython 3.11, binary wheels only), so a broken pin fails CI
# rather than the first deploy. It also checks that every top-level pin of image.in is in the lock.
# Needs the package index; installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
while read -r requirement; do
  name=${requirement%%==*}
  name=${name%%\[*}
  pin=${requirement#*==}
  normalised=$(tr '[:upper:]_' '[:lower:]-' <<<"$name")
  grep -qx "${normalised}==${pin}" requirements/image.txt || missing+=("$requirement")
done < <(grep -E '^[A-Za-z0-9_.\[\],-]+==' requirements/image.in)
if ((${#missing[@]} > 0)); then
  echo "requirements/image.txt does not hold these pins of image.in: ${missing[*]} (run: python3 training/scripts/lock_requirements.py image)" >&2
  exit 1
fi
unpinned=$(grep -Ev '^(#|$)' requirements/image.in | grep -v '==' || true)
if [[ -n "$unpinned" ]]; then
  echo "requirements/image.in has unpinned requirements: $unpinned" >&2
  exit 1
fi

platforms=()
for minor in $(seq 17 36); do platforms+=(--platform "manylinux_2_${minor}_x86_64"); done
target=$(mktemp -d)
trap 'rm -rf "$target"' EXIT
started=$(date +%s)
python3 -m pip install --dry-run --ignore-installed --quiet --disable-pip-version-check \
  "${platforms[@]}" --platform manylinux2014_x86_64 --platform linux_x86_64 \
  --only-binary=:all: --python-version 3.11 --implementation cp --target "$target" \
  -r requirements/image.txt
echo "[image requirements] $(grep -c '==' requirements/image.txt) pinned packages resolve for linux x86_64, CPython 3.11 ($(($(date +%s) - started)) s)"
