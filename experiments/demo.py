"""The saving, shown: baseline vs token dropping, pretrain -> export -> fine-tune.

Same data, seed and steps for both arms, on the embedded corpus and sentiment
set. Prints one table (pretraining wall-clock and step time, tokens/s,
full-model held-out MLM loss and accuracy, sentiment test accuracy) and
writes it with plots (MLM loss vs step and vs wall-clock; the most and least
important tokens) to --output_dir.

    python experiments/demo.py                 # `make demo`, ~15 min on 2 cores
    python experiments/demo.py --steps 20 --finetune_steps 10   # smoke run
    python experiments/demo.py --architecture roberta           # RoBERTa arms

Every flag is a field of `tokdrop_keras.ComparisonConfig`; the run is
`tokdrop_keras.compare(config)`.
"""

import tokdrop_keras
from tokdrop_keras.training.flags import run_script


def main(argv=None):
    config, (_, table) = run_script(
        tokdrop_keras.compare, tokdrop_keras.ComparisonConfig, argv, __doc__
    )
    print(
        f"\nToken dropping vs baseline, {config.steps} steps of "
        f"{config.architecture} {config.size} (L{config.num_layers}), "
        f"S={config.seq_length}, "
        f"B={config.batch_size}:\n{table}\n"
        f"Plots and results in {config.output_dir}/"
    )


if __name__ == "__main__":
    main()
