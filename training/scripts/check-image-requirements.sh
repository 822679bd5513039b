#!/usr/bin/env bash
# CI check: the images' locked requirement sets (training/requirements/image.txt, the GPU trainer, and
# router.txt, the CPU router) resolve for the images' platform (linux x86_64, glibc 2.36, CPython 3.11,
# binary wheels only), so a broken pin fails CI rather than the first deploy. It also checks that every
# top-level pin of each .in file is in its lock, and that the router image runs the scikit-learn stack
# the CPU test set (test.txt) tests: a joblib pickle is only trusted with the version that wrote it.
# Needs the package index; installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

check_pins() {
  local set=$1 missing=() requirement name pin normalised unpinned
  while read -r requirement; do
    name=${requirement%%==*}
    name=${name%%\[*}
    pin=${requirement#*==}
    normalised=$(tr '[:upper:]_' '[:lower:]-' <<<"$name")
    grep -qx "${normalised}==${pin}" "requirements/$set.txt" || missing+=("$requirement")
  done < <(grep -E '^[A-Za-z0-9_.\[\],-]+==' "requirements/$set.in")
  if ((${#missing[@]} > 0)); then
    echo "requirements/$set.txt does not hold these pins of $set.in: ${missing[*]} (run: python3 training/scripts/lock_requirements.py $set)" >&2
    exit 1
  fi
  unpinned=$(grep -Ev '^(#|$)' "requirements/$set.in" | grep -v '==' || true)
  if [[ -n "$unpinned" ]]; then
    echo "requirements/$set.in has unpinned requirements: $unpinned" >&2
    exit 1
  fi
}

check_pins image
check_pins router
drift=()
for package in scikit-learn joblib numpy scipy threadpoolctl; do
  router_pin=$(grep -E "^${package}==" requirements/router.txt || true)
  if [[ -z "$router_pin" ]]; then
    drift+=("no ${package}")
  elif ! grep -qx "$router_pin" requirements/test.txt; then
    drift+=("$router_pin")
  fi
done
if ((${#drift[@]} > 0)); then
  echo "requirements/router.txt pins ${drift[*]}, which the CPU test set (test.txt) does not: test what the router image runs" >&2
  exit 1
fi

platforms=()
for minor in $(seq 17 36); do platforms+=(--platform "manylinux_2_${minor}_x86_64"); done
target=$(mktemp -d)
trap 'rm -rf "$target"' EXIT
for set in image router; do
  started=$(date +%s)
  python3 -m pip install --dry-run --ignore-installed --quiet --disable-pip-version-check \
    "${platforms[@]}" --platform manylinux2014_x86_64 --platform linux_x86_64 \
    --only-binary=:all: --python-version 3.11 --implementation cp --target "$target/$set" \
    -r "requirements/$set.txt"
  echo "[$set requirements] $(grep -c '==' "requirements/$set.txt") pinned packages resolve for linux x86_64, CPython 3.11 ($(($(date +%s) - started)) s)"
done
