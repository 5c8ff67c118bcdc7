#!/usr/bin/env bash
# The ablation queue of docs/results.md: two workers, each pinned to one CPU
# core with one TensorFlow thread pool, each running its list of ARM:SEED
# one after the other (`experiments/ablation.py`, default sizes); a result
# already written is skipped, so the queue can be rerun to continue.
#
#   bash experiments/ablation.sh OUTPUT "baseline:0 random:0" "importance:0 baseline:1"
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1
python=${PYTHON:-.venv/bin/python}

worker() {  # core runs
  local core=$1
  for run in $2; do
    local arm=${run%%:*} seed=${run##*:}
    local dir="$out/$arm/seed$seed"
    [ -f "$dir/result.json" ] && continue
    mkdir -p "$dir"
    TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 taskset -c "$core" \
      "$python" experiments/ablation.py --output_dir "$out" --arm "$arm" \
        --seed "$seed" > "$dir/run.log" 2>&1 || echo "$arm seed $seed failed: $dir/run.log"
  done
}

worker 0 "$2" &
worker 1 "${3:-}" &
wait
