#!/usr/bin/env bash
# Runs an experiment grid one run at a time, each under an exclusive lock on LOCK (default /tmp/libtorch.lock), so
# other libtorch jobs on a small machine (tests, benches) run between runs instead of beside them.
# Usage: scripts/run-grid-slices.sh GRID.json OUT_DIR [DIST_DIR]   (DIST_DIR: a copy of dist/ to run from, so that
# rebuilding dist/ meanwhile does not change the code a long grid runs with)
set -uo pipefail
grid=$1; out=$2; dist=${3:-dist}; lock=${LOCK:-/tmp/libtorch.lock}
while true; do
  log=$(flock "$lock" node "$dist/src/cli/main.js" experiment --config "$grid" --out "$out" --quiet --max-runs 1 2>&1)
  rc=$?
  echo "$log" | grep -v ': done, skipped$'
  [ $rc -eq 0 ] || exit $rc
  echo "$log" | grep -q 'stopping after' || exit 0
done
