"""The ablation's table and plots over every arm and seed written so far.

    python experiments/ablation_report.py runs/ablation [--image_dir docs/images]
    python experiments/ablation_report.py runs/ablation \
        --adopt_downstream_from runs/reruns  # then the report

Prints the markdown tables (mean ± standard deviation over seeds, and the
held-out history) and writes report.md, report.json and the plots
(`tokdrop_keras.training.ablation_report`). With --adopt_downstream_from,
each recorded run first takes the downstream results of its rerun there,
if the rerun's pretraining is the recorded one
(`tokdrop_keras.training.ablation.adopt_rerun_downstream`).
"""

import argparse

from tokdrop_keras.training.ablation import ablation_report
from tokdrop_keras.training.ablation import adopt_rerun_downstream


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output_dir", help="the ablation's --output_dir")
    parser.add_argument("--image_dir", default=None, help="where the plots go (default: output_dir)")
    parser.add_argument("--adopt_downstream_from", default=None, metavar="RERUN_DIR", help="an --output_dir of reruns of recorded runs (e.g. to fine-tune exports that were not kept): their downstream results replace the recorded ones where the rerun's held-out history is the record's")
    args = parser.parse_args(argv)
    try:
        if args.adopt_downstream_from:
            for arm, seed in adopt_rerun_downstream(args.output_dir, args.adopt_downstream_from):
                print(f"{arm} seed {seed}: downstream from {args.adopt_downstream_from}")
        print(ablation_report(args.output_dir, args.image_dir))
    except ValueError as error:
        parser.error(str(error))


if __name__ == "__main__":
    main()
