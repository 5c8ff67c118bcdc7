"""The saving, shown: baseline vs token dropping, pretrain -> export -> fine-tune.

Same data, seed and steps for both arms, on the embedded corpus and sentiment
set: the one-seed, two-arm case of the study (`experiments/study`). Prints
the table (step time and its ratio to the baseline's, wall-clock,
full-model held-out MLM loss and accuracy, sentiment accuracy, time to the
baseline's final held-out loss) and writes it with plots (held-out loss vs
training time; the importance table and its evolution) to --output_dir.

    python experiments/demo.py                 # `make demo`, ~15 min on 2 cores
    python experiments/demo.py --steps 20 --finetune_steps 10   # smoke run
    python experiments/demo.py --architecture roberta           # RoBERTa arms

Every flag is a field of `study.DemoConfig`; the run is `study.run_study`.
"""

import study
from tokdrop_keras.training.flags import run_script


def main(argv=None):
    config, (_, report) = run_script(study.run_study, study.DemoConfig, argv, __doc__)
    table = report.split("\n\n")[0]
    print(
        f"\nToken dropping vs baseline, {config.steps} steps of "
        f"{config.architecture} {config.size} (L{config.num_layers}), "
        f"S={config.seq_length}, B={config.batch_size}:\n{table}\n"
        f"Plots and the report in {config.output_dir}/"
    )


if __name__ == "__main__":
    main()
