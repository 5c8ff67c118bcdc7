#!/usr/bin/env bash
# The longer baseline-vs-token-drop run of docs/results.md.
#
# Both arms run at the same time, each pinned to one CPU core with one
# TensorFlow thread pool, so they see the same machine; then each export is
# fine-tuned on the sentiment set and experiments/report.py writes the table
# and plots.
#
#   bash experiments/reproduce.sh [STEPS] [SEED] [OUTPUT]   # STEPS: a multiple of 8
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-1000}
seed=${2:-0}
out=${3:-runs/reproduce_seed${seed}}
python=${PYTHON:-.venv/bin/python}

run_arm() {  # arm core flag
  local dir="$out/$1"
  mkdir -p "$dir"
  TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 taskset -c "$2" \
    "$python" experiments/pretrain.py --size mini --seq_length 128 \
      --batch_size 32 --steps "$steps" --learning_rate 5e-4 \
      --checkpoint_every $((steps / 8)) --eval_steps 20 --log_every 100 \
      --seed "$seed" "$3" --model_dir "$dir" --export_dir "$dir/export" \
      --overwrite > "$dir/pretrain.log" 2>&1
  TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 taskset -c "$2" \
    "$python" experiments/finetune.py --export_dir "$dir/export" \
      --seq_length 64 --epochs 2 --learning_rate 2e-4 --seed "$seed" \
      --output_file "$dir/finetune.json" > "$dir/finetune.log" 2>&1
}

run_arm baseline 0 --notoken_drop &
run_arm token_drop 1 --token_drop &
wait
"$python" experiments/report.py --baseline "$out/baseline" \
  --token_drop "$out/token_drop" --output_dir "$out/report"
