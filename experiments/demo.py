"""The saving, shown: baseline vs token dropping, pretrain -> export -> fine-tune.

Same data, seed and steps for both arms, on the embedded corpus and sentiment
set. Prints one table (pretraining wall-clock and step time, tokens/s,
full-model held-out MLM loss and accuracy, sentiment test accuracy) and
writes it with plots (MLM loss vs step and vs wall-clock; the most and least
important tokens) to --output_dir.

    python experiments/demo.py                 # `make demo`, ~15 min on 2 cores
    python experiments/demo.py --steps 20 --finetune_steps 10   # smoke run
"""

import argparse
import os

import finetune
import pretrain
import report


def build_parser():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--output_dir", default="outputs/demo")
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--num_layers", type=int, default=8)
    parser.add_argument("--seq_length", type=int, default=128)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--learning_rate", type=float, default=1e-3)
    parser.add_argument("--finetune_steps", type=int, default=250, help="per epoch")
    parser.add_argument("--finetune_epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    return parser


def run_arm(args, arm):
    arm_dir = os.path.join(args.output_dir, arm)
    export_dir = os.path.join(arm_dir, "export")
    pretrain_args = pretrain.build_parser().parse_args(
        [
            "--preset", args.preset,
            "--num_layers", str(args.num_layers),
            "--seq_length", str(args.seq_length),
            "--batch_size", str(args.batch_size),
            "--steps", str(args.steps),
            "--learning_rate", str(args.learning_rate),
            # Four held-out evaluations along the way, for the curves.
            "--checkpoint_every", str(max(args.steps // 4, 1)),
            "--eval_steps", "10",
            "--log_every", str(max(args.steps // 10, 1)),
            "--seed", str(args.seed),
            "--export_dir", export_dir,
            "--overwrite",
            "--token_drop" if arm == "token_drop" else "--notoken_drop",
        ]
    )
    print(f"== {arm}: pretraining {args.steps} steps", flush=True)
    model, tokenizer, summary = pretrain.pretrain(pretrain_args)
    print(f"== {arm}: fine-tuning on the sentiment set", flush=True)
    finetune_args = finetune.build_parser().parse_args(
        [
            "--export_dir", export_dir,
            "--seq_length", "64",
            "--epochs", str(args.finetune_epochs),
            "--steps_per_epoch", str(args.finetune_steps),
            "--learning_rate", "2e-4",
            "--seed", str(args.seed),
        ]
    )
    summary.update(finetune.finetune(finetune_args))
    summary["importance_table"] = os.path.join(export_dir, "importance.tsv")
    return summary


def main(argv=None):
    args = build_parser().parse_args(argv)
    os.makedirs(args.output_dir, exist_ok=True)
    results = {arm: run_arm(args, arm) for arm in report.ARMS}
    table = report.write_report(results, args.output_dir)
    print(
        f"\nToken dropping vs baseline, {args.steps} steps of "
        f"{args.preset} (L{args.num_layers}), S={args.seq_length}, "
        f"B={args.batch_size}:\n{table}\n"
        f"Plots and results in {args.output_dir}/"
    )


if __name__ == "__main__":
    main()
