"""Baseline vs token drop: the comparison table and plots of two runs."""

import json
import os

import numpy as np
from matplotlib.figure import Figure

from tokdrop_keras.export.layout import IMPORTANCE_TABLE_FILE
from tokdrop_keras.training.run_directory import SUMMARY_FILE
from tokdrop_keras.training.run_directory import read_json

FINETUNE_FILE = "finetune.json"

ARMS = ("baseline", "token_drop")
ROWS = (
    ("pretraining wall-clock, evaluations included (s)", "train_seconds", "{:.0f}"),
    ("median step time (s)", "median_step_seconds", "{:.3f}"),
    ("tokens/s", "tokens_per_second", "{:.0f}"),
    ("final training MLM loss", "final_train_loss", "{:.3f}"),
    ("held-out MLM loss (full model)", "eval_loss", "{:.3f}"),
    ("held-out MLM accuracy (full model)", "eval_accuracy", "{:.3f}"),
    ("sentiment dev accuracy", "dev_accuracy", "{:.3f}"),
    ("sentiment test accuracy", "test_accuracy", "{:.3f}"),
)


def time_to_loss(eval_history, target):
    """Training seconds at which the held-out loss first reaches `target`
    (linear interpolation between evaluations), or None.

    Args:
        eval_history: `(step, training seconds, loss, accuracy)` of each
            evaluation, in order (`TrainingLog.evaluations`).
        target: float. The held-out loss to reach.

    Example:
    ```python
    from tokdrop_keras.training.report import time_to_loss
    history = [(10, 100.0, 8.0, 0.1), (20, 200.0, 6.0, 0.2)]
    assert time_to_loss(history, 7.0) == 150.0  # halfway from 8.0 to 6.0
    assert time_to_loss(history, 9.0) == 100.0  # at the first evaluation
    assert time_to_loss(history, 5.0) is None  # never reached
    ```
    """
    previous = (0.0, float("inf"))
    for _, seconds, loss, _ in eval_history:
        if loss <= target:
            start_seconds, start_loss = previous
            if not np.isfinite(start_loss):
                return seconds
            fraction = (start_loss - target) / (start_loss - loss)
            return start_seconds + fraction * (seconds - start_seconds)
        previous = (seconds, loss)
    return None


def results_table(results):
    """The markdown table comparing the two arms' results.

    One row per entry of `ROWS` that both arms have, with the ratio token
    drop / baseline, and, given evaluations, the training seconds each arm
    took to reach the baseline's final held-out loss.

    Args:
        results: `{"baseline": ..., "token_drop": ...}`, each a dict of an
            arm's results (see `load_run`).

    Example:
    ```python
    from tokdrop_keras.training.report import results_table
    table = results_table({
        "baseline": {"train_seconds": 400.0,
                     "eval_history": [(100, 400.0, 6.0, 0.2)]},
        "token_drop": {"train_seconds": 300.0,
                       "eval_history": [(50, 150.0, 7.0, 0.1),
                                        (100, 300.0, 5.0, 0.2)]},
    })
    lines = table.splitlines()
    assert lines[0] == "| | baseline | token drop | token drop / baseline |"
    assert lines[2] == (
        "| pretraining wall-clock, evaluations included (s) "
        "| 400 | 300 | 0.750 |"
    )
    assert lines[3].endswith("(6.000) | 400 | 225 | 0.562 |")
    ```
    """
    lines = [
        "| | baseline | token drop | token drop / baseline |",
        "| --- | --- | --- | --- |",
    ]
    for label, key, fmt in ROWS:
        if key not in results["baseline"] or key not in results["token_drop"]:
            continue
        base, drop = results["baseline"][key], results["token_drop"][key]
        ratio = f"{drop / base:.3f}" if base else "n/a"  # e.g. accuracy 0
        lines.append(
            f"| {label} | {fmt.format(base)} | {fmt.format(drop)} "
            f"| {ratio} |"
        )
    baseline_evals = results["baseline"].get("eval_history") or []
    if baseline_evals:
        target = baseline_evals[-1][2]
        base = time_to_loss(baseline_evals, target)
        drop = time_to_loss(results["token_drop"]["eval_history"], target)
        drop_text = "not reached" if drop is None else f"{drop:.0f}"
        ratio = "" if drop is None else f"{drop / base:.3f}"
        lines.append(
            f"| training seconds to the baseline's final held-out loss "
            f"({target:.3f}) | {base:.0f} | {drop_text} | {ratio} |"
        )
    return "\n".join(lines)


def plot_losses(results, path):
    """Plots both arms' MLM loss vs step and vs training time to `path`.

    Training losses as lines, held-out evaluations (if any) as dots.

    Args:
        results: `{"baseline": ..., "token_drop": ...}`, each with a
            `loss_history` of `(step, training seconds, loss)` and an
            optional `eval_history` (see `time_to_loss`).
        path: the image file to write (e.g. a `.png`).

    Example:
    ```python
    from tokdrop_keras.training.report import plot_losses
    results = {
        arm: {"loss_history": [(1, 1.0, 9.0), (2, 2.0, 8.0)],
              "eval_history": [(2, 2.0, 8.5, 0.1)]}
        for arm in ("baseline", "token_drop")
    }
    plot_losses(results, "loss_curves.png")
    assert os.path.getsize("loss_curves.png") > 0
    ```
    """
    # A pyplot-free Figure: no backend is switched (a notebook's plots stay).
    figure = Figure(figsize=(11, 4))
    by_step, by_time = figure.subplots(1, 2)
    for arm in ARMS:
        steps, seconds, losses = zip(*results[arm]["loss_history"])
        label = arm.replace("_", " ")
        line = by_step.plot(steps, losses, label=f"{label} (training)", alpha=0.5)[0]
        by_time.plot(seconds, losses, label=f"{label} (training)", alpha=0.5,
                     color=line.get_color())
        evals = results[arm].get("eval_history") or []
        if evals:
            eval_steps, eval_seconds, eval_losses, _ = zip(*evals)
            for axes, x in ((by_step, eval_steps), (by_time, eval_seconds)):
                axes.plot(x, eval_losses, "o-", color=line.get_color(),
                          label=f"{label} (held-out, full model)")
    by_step.set(xlabel="step", ylabel="MLM loss", title="MLM loss vs step")
    by_time.set(xlabel="training seconds", ylabel="MLM loss",
                title="MLM loss vs training time")
    for axes in (by_step, by_time):
        axes.legend(fontsize=8)
        axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def plot_importance(table_path, path, count=20):
    """Plots the most and least important tokens of an importance table.

    Only the tokens predicted at least once (`times_seen` > 0) are shown.

    Args:
        table_path: an importance table (`write_importance_table`'s TSV).
        path: the image file to write (e.g. a `.png`).
        count: int. Tokens in each of the two bar charts.

    Example:
    ```python
    from tokdrop_keras.training.report import plot_importance
    with open("importance.tsv", "w") as file:
        file.write("token\\timportance\\ttimes_seen\\n"
                   "whale\\t9.5\\t3\\nthe\\t8.0\\t5\\nzz\\t10.0\\t0\\n")
    plot_importance("importance.tsv", "importance.png", count=2)
    assert os.path.getsize("importance.png") > 0
    ```
    """
    with open(table_path) as file:
        rows = [line.split("\t") for line in file.read().splitlines()[1:]]
    seen = [(token, float(value)) for token, value, times in rows if int(times) > 0]
    figure = Figure(figsize=(11, 6))
    axes = figure.subplots(1, 2)
    for ax, tokens, title in (
        (axes[0], seen[:count], f"{count} most important (hardest) tokens"),
        (axes[1], seen[-count:], f"{count} least important (easiest) tokens"),
    ):
        values = [v for _, v in tokens][::-1]
        ax.barh([t for t, _ in tokens][::-1], values)
        # Zoom in: the table moves slowly away from its initial 10.0.
        margin = 0.05 * (max(values) - min(values)) + 1e-3
        ax.set_xlim(min(values) - margin, max(values) + margin)
        ax.set(title=title, xlabel="importance (EMA of MLM loss)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def write_report(results, output_dir):
    """Writes results.md / results.json and the plots; returns the table.

    Args:
        results: `{"baseline": ..., "token_drop": ...}` (see `load_run`);
            the token-drop arm's `importance_table` is plotted.
        output_dir: the folder to write, created if needed.

    Example:
    ```python
    from tokdrop_keras.training.report import write_report
    with open("importance.tsv", "w") as file:
        file.write("token\\timportance\\ttimes_seen\\n"
                   "whale\\t9.5\\t3\\nthe\\t8.0\\t5\\n")
    results = {
        arm: {"train_seconds": seconds,
              "loss_history": [(1, 1.0, 9.0), (2, 2.0, 8.0)],
              "importance_table": "importance.tsv"}
        for arm, seconds in (("baseline", 400.0), ("token_drop", 300.0))
    }
    table = write_report(results, "report")
    assert "| 400 | 300 | 0.750 |" in table
    assert sorted(os.listdir("report")) == [
        "importance.png", "loss_curves.png", "results.json", "results.md"
    ]
    ```
    """
    os.makedirs(output_dir, exist_ok=True)
    table = results_table(results)
    plot_losses(results, os.path.join(output_dir, "loss_curves.png"))
    plot_importance(
        results["token_drop"]["importance_table"],
        os.path.join(output_dir, "importance.png"),
    )
    with open(os.path.join(output_dir, "results.json"), "w") as file:
        json.dump(results, file, indent=1)
    with open(os.path.join(output_dir, "results.md"), "w") as file:
        file.write(table + "\n")
    return table


def load_run(model_dir):
    """One arm's results: a `pretrain` `model_dir`'s `summary.json`, with the
    `finetune` summary beside it as `finetune.json` (if any) and the path of
    its export's importance table.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.training import write_json
    from tokdrop_keras.training.report import load_run
    model_dir = tempfile.mkdtemp()
    write_json(os.path.join(model_dir, "summary.json"),
               {"steps": 4, "export_dir": "exports/baseline"})
    write_json(os.path.join(model_dir, "finetune.json"),
               {"config": {"epochs": 1}, "dev_accuracy": 0.75})
    assert load_run(model_dir) == {
        "steps": 4,
        "export_dir": "exports/baseline",
        "dev_accuracy": 0.75,
        "importance_table": os.path.join("exports/baseline", "importance.tsv"),
    }
    ```
    """
    result = read_json(os.path.join(model_dir, SUMMARY_FILE))
    finetune_file = os.path.join(model_dir, FINETUNE_FILE)
    if os.path.exists(finetune_file):
        result.update(finetune_results(read_json(finetune_file)))
    result["importance_table"] = os.path.join(
        result["export_dir"], IMPORTANCE_TABLE_FILE
    )
    return result


def finetune_results(summary):
    """The entries of a `finetune` summary that go into a report row.

    Example:
    ```python
    from tokdrop_keras.training.report import finetune_results
    summary = {"config": {"epochs": 1}, "task": "sentiment",
               "dev_accuracy": 0.75}
    assert finetune_results(summary) == {
        "task": "sentiment", "dev_accuracy": 0.75
    }
    ```
    """
    return {key: value for key, value in summary.items() if key != "config"}
