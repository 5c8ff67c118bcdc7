"""Baseline vs token drop: the comparison table and plots of two runs.

    python experiments/report.py --baseline runs/baseline \\
        --token_drop runs/token_drop --output_dir docs/results

Each run folder is a `pretrain.py --model_dir` (its `summary.json`), with the
`finetune.py --output_file` result beside it as `finetune.json`, and its
export's `importance.tsv` found through `summary.json`.
"""

import argparse

from tokdrop_keras.training import report


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--baseline", required=True, help="baseline --model_dir")
    parser.add_argument("--token_drop", required=True, help="token drop --model_dir")
    parser.add_argument("--output_dir", required=True)
    args = parser.parse_args(argv)
    results = {arm: report.load_run(getattr(args, arm)) for arm in report.ARMS}
    print(report.write_report(results, args.output_dir))


if __name__ == "__main__":
    main()
