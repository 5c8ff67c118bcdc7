"""The ablation's table and plots over every arm and seed written so far.

    python experiments/ablation_report.py runs/ablation [--image_dir docs/images]

Prints the markdown tables (mean ± standard deviation over seeds, and the
held-out history) and writes report.md, report.json and the plots
(`tokdrop_keras.training.ablation_report`).
"""

import argparse

from tokdrop_keras.training.ablation import ablation_report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output_dir", help="the ablation's --output_dir")
    parser.add_argument("--image_dir", default=None, help="where the plots go (default: output_dir)")
    args = parser.parse_args(argv)
    print(ablation_report(args.output_dir, args.image_dir))


if __name__ == "__main__":
    main()
