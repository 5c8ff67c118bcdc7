#!/usr/bin/env bash
# The ablation queue of docs/results.md: two workers, each pinned to one CPU
# core with one TensorFlow thread pool, each running its list of ARM:SEED
# one after the other (`experiments/ablation.py`, default sizes); a result
# already written is skipped, so the queue can be rerun to continue.
# ABLATION_FLAGS are passed to every run; with --stage finetune every listed
# run is fine-tuned again (its result is rewritten, not skipped).
#
#   bash experiments/ablation.sh OUTPUT "baseline:0 random:0" "importance:0 baseline:1"
#   ABLATION_FLAGS="--stage finetune --finetune_steps 300" \
#     bash experiments/ablation.sh OUTPUT "baseline:0" "random:0"
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1
python=${PYTHON:-.venv/bin/python}
flags=${ABLATION_FLAGS:-}

worker() {  # core runs
  local core=$1
  for run in $2; do
    local arm=${run%%:*} seed=${run##*:}
    local dir="$out/$arm/seed$seed"
    local log="$dir/run.log"
    if [[ " $flags " == *" --stage finetune "* ]]; then
      log="$dir/finetune.log"
    elif [ -f "$dir/result.json" ]; then
      continue
    fi
    mkdir -p "$dir"
    # shellcheck disable=SC2086
    TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 taskset -c "$core" \
      "$python" experiments/ablation.py --output_dir "$out" --arms "$arm" \
        --seed "$seed" $flags > "$log" 2>&1 || echo "$arm seed $seed failed: $log"
  done
}

worker 0 "$2" &
worker 1 "${3:-}" &
wait
