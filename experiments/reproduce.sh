#!/usr/bin/env bash
# The longer baseline-vs-token-drop run of docs/results.md: `mini` (L4/H256),
# S=128, batch 32, lr 5e-4, eight held-out evaluations, fine-tuned on the
# sentiment set (504 steps: two epochs of its 8,058 examples). Both arms
# run at the same time, each pinned to one CPU core (experiments/ablation.sh),
# then experiments/ablation_report.py writes the
# table and plots.
#
#   bash experiments/reproduce.sh [STEPS] [SEED] [OUTPUT]   # STEPS: a multiple of 8
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-1000}
seed=${2:-0}
out=${3:-runs/reproduce_seed${seed}}
python=${PYTHON:-.venv/bin/python}
ABLATION_FLAGS="--size mini --num_layers 4 --steps $steps --learning_rate 5e-4 \
  --evaluations 8 --eval_steps 20 --tasks sentiment --finetune_steps 504 \
  --finetune_batch_size 32 --finetune_learning_rate 2e-4" \
  bash experiments/ablation.sh "$out" "baseline:$seed" "importance:$seed"
"$python" experiments/ablation_report.py "$out"
