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
import json
import os

import finetune
import pretrain

import tokdrop_keras  # noqa: F401  (sets the Keras backend)

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ARMS = ("baseline", "token_drop")


def build_parser():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--output_dir", default="outputs/demo")
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--num_layers", type=int, default=8)
    parser.add_argument("--seq_length", type=int, default=128)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--learning_rate", type=float, default=1e-3)
    parser.add_argument("--finetune_steps", type=int, default=250, help="per epoch")
    parser.add_argument("--finetune_epochs", type=int, default=2)
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
            "--checkpoint_every", str(args.steps),
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


def results_table(results):
    rows = [
        ("pretraining wall-clock (s)", "train_seconds", "{:.0f}"),
        ("median step time (s)", "median_step_seconds", "{:.3f}"),
        ("tokens/s", "tokens_per_second", "{:.0f}"),
        ("held-out MLM loss (full model)", "eval_loss", "{:.3f}"),
        ("held-out MLM accuracy (full model)", "eval_accuracy", "{:.3f}"),
        ("sentiment dev accuracy", "dev_accuracy", "{:.3f}"),
        ("sentiment test accuracy", "test_accuracy", "{:.3f}"),
    ]
    lines = [
        "| | baseline | token drop | token drop / baseline |",
        "| --- | --- | --- | --- |",
    ]
    for label, key, fmt in rows:
        base, drop = results["baseline"][key], results["token_drop"][key]
        lines.append(
            f"| {label} | {fmt.format(base)} | {fmt.format(drop)} "
            f"| {drop / base:.3f} |"
        )
    return "\n".join(lines)


def plot_losses(results, path):
    figure, (by_step, by_time) = plt.subplots(1, 2, figsize=(11, 4))
    for arm in ARMS:
        steps, seconds, losses = zip(*results[arm]["loss_history"])
        label = arm.replace("_", " ")
        by_step.plot(steps, losses, label=label, alpha=0.8)
        by_time.plot(seconds, losses, label=label, alpha=0.8)
    by_step.set(xlabel="step", ylabel="training MLM loss", title="Loss vs step")
    by_time.set(
        xlabel="wall-clock (s)", ylabel="training MLM loss",
        title="Loss vs wall-clock",
    )
    for axes in (by_step, by_time):
        axes.legend()
        axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_importance(table_path, path, count=20):
    with open(table_path) as file:
        rows = [line.split("\t") for line in file.read().splitlines()[1:]]
    seen = [
        (token, float(value)) for token, value, times in rows if int(times) > 0
    ]
    most, least = seen[:count], seen[-count:]
    figure, axes = plt.subplots(1, 2, figsize=(11, 6))
    for ax, tokens, title in (
        (axes[0], most, f"{count} most important (hardest) tokens"),
        (axes[1], least, f"{count} least important (easiest) tokens"),
    ):
        values = [v for _, v in tokens][::-1]
        ax.barh([t for t, _ in tokens][::-1], values)
        # Zoom in: the table moves slowly away from its initial 10.0.
        margin = 0.05 * (max(values) - min(values)) + 1e-3
        ax.set_xlim(min(values) - margin, max(values) + margin)
        ax.set(title=title, xlabel="importance (EMA of MLM loss)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv=None):
    args = build_parser().parse_args(argv)
    os.makedirs(args.output_dir, exist_ok=True)
    results = {arm: run_arm(args, arm) for arm in ARMS}
    table = results_table(results)
    plot_losses(results, os.path.join(args.output_dir, "loss_curves.png"))
    plot_importance(
        results["token_drop"]["importance_table"],
        os.path.join(args.output_dir, "importance.png"),
    )
    with open(os.path.join(args.output_dir, "results.json"), "w") as file:
        json.dump(results, file, indent=1)
    with open(os.path.join(args.output_dir, "results.md"), "w") as file:
        file.write(table + "\n")
    print(
        f"\nToken dropping vs baseline, {args.steps} steps of "
        f"{args.preset} (L{args.num_layers}), S={args.seq_length}, "
        f"B={args.batch_size}:\n{table}\n"
        f"Plots and results in {args.output_dir}/"
    )


if __name__ == "__main__":
    main()
