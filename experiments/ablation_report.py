"""The study's tables and plots over every arm and seed written so far.

    python experiments/ablation_report.py runs/ablation [--image_dir docs/images]

Prints the markdown tables (mean ± standard deviation over seeds, the
held-out history, every fine-tuning run) and writes report.md, report.json
and the plots (`study.write_report`).
"""

import argparse

import study


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output_dir", help="the study's --output_dir")
    parser.add_argument("--image_dir", default=None, help="where the plots go (default: output_dir)")
    args = parser.parse_args(argv)
    try:
        print(study.write_report(args.output_dir, args.image_dir))
    except ValueError as error:
        parser.error(str(error))


if __name__ == "__main__":
    main()
