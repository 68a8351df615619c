#!/bin/bash
# Keeps a grid's finished runs across sessions (the run directories under runs/ are not committed):
#   bash scripts/grid-runs.sh keep GRID      copies each finished run's small files (evaluation.json, config.json,
#                                            metrics/steps logs, summary, timing; not the checkpoints) and the
#                                            aggregate to docs/results/GRID-runs/ and docs/results/GRID-aggregate.*
#   bash scripts/grid-runs.sh restore GRID   copies them back to runs/experiments/GRID/, so that
#                                            `batchcam experiment --config experiments/GRID.json --out runs/experiments/GRID`
#                                            skips those runs (a run counts as done when its evaluation.json exists)
#                                            and trains only the rest.
set -euo pipefail
cmd=${1:?usage: grid-runs.sh keep|restore GRID}
grid=${2:?usage: grid-runs.sh keep|restore GRID}
cd "$(dirname "$0")/.."
runs=runs/experiments/$grid
kept=docs/results/$grid-runs
case $cmd in
  keep)
    [ -d "$runs" ] || { echo "grid-runs: no $runs: nothing to keep" >&2; exit 2; }
    n=0
    while IFS= read -r -d '' ev; do
      d=$(dirname "$ev")
      rel=${d#"$runs"/}
      mkdir -p "$kept/$rel"
      for f in evaluation.json config.json metrics.jsonl steps.jsonl summary.json timing.json; do
        [ -f "$d/$f" ] && cp "$d/$f" "$kept/$rel/$f"
      done
      n=$((n + 1))
    done < <(find "$runs" -name evaluation.json -print0)
    for f in aggregate.json aggregate.md; do [ -f "$runs/$f" ] && cp "$runs/$f" "docs/results/$grid-${f}"; done
    echo "kept $n finished runs of $grid in $kept"
    ;;
  restore)
    [ -d "$kept" ] || { echo "grid-runs: no $kept: nothing to restore" >&2; exit 2; }
    mkdir -p "$runs"
    cp -rn "$kept"/. "$runs"/
    echo "restored $(find "$kept" -name evaluation.json | wc -l) finished runs of $grid into $runs"
    ;;
  *) echo "grid-runs: unknown command '$cmd' (keep or restore)" >&2; exit 2 ;;
esac
