"""Pretrains a masked LM (BERT, RoBERTa, XLM-R, DistilBERT) with token dropping (or the baseline).

Runs with no arguments: a `tiny` model on the embedded corpus. Examples:

    python experiments/pretrain.py --size mini --steps 20000 \\
        --model_dir runs/mini --export_dir exports/mini
    python experiments/pretrain.py --notoken_drop ...          # baseline
    python experiments/pretrain.py --architecture roberta --size mini  # RoBERTa
    python experiments/pretrain.py --init_from checkpoints/bert-base-uncased \
        --data 'domain/*.txt' --export_dir exports/domain   # continue a HF checkpoint
    python experiments/pretrain.py --strategy tpu --tpu local \\
        --mixed_precision mixed_bfloat16 --data 'gs://bucket/text/*.txt' \\
        --model_dir gs://bucket/runs/base --size base --seq_length 512
    python experiments/pretrain.py --config runs/mini/summary.json  # again
    python experiments/pretrain.py --backend jax --strategy data_parallel \
        --mixed_precision mixed_bfloat16 --size base   # JAX, all GPUs
    KERAS_DISTRIBUTION_JOB_ADDRESSES=host0:1234 KERAS_DISTRIBUTION_NUM_PROCESSES=4 \
    KERAS_DISTRIBUTION_PROCESS_ID=$RANK python experiments/pretrain.py \
        --backend jax --strategy data_parallel ...     # one of 4 hosts

The same command resumes an interrupted run from its last checkpoint.
Every flag is a field of `tokdrop_keras.PretrainConfig`; the run is
`tokdrop_keras.pretrain(config)`.
"""

import json
import sys

from backend_flag import use_backend_flag

use_backend_flag(sys.argv)

import tokdrop_keras  # noqa: E402
from tokdrop_keras.training.distribution import initialize_processes  # noqa: E402
from tokdrop_keras.training.flags import run_script  # noqa: E402


def main(argv=None):
    initialize_processes()  # several hosts: KERAS_DISTRIBUTION_* (docs/usage.md)
    _, result = run_script(
        tokdrop_keras.pretrain, tokdrop_keras.PretrainConfig, argv, __doc__
    )
    summary = {k: v for k, v in result.summary.items() if k != "loss_history"}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
