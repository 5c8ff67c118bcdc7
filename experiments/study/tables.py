"""The study's tables, from the `result.json` of every arm and seed."""

import os
import statistics

from study.config import ARMS
from study.config import RESULT_FILE
from study.config import TASKS as TASK_ORDER
from tokdrop_keras.training.run_directory import read_json


def load_results(output_dir):
    """`{arm: [result, ...]}`, by seed, for every `result.json` written."""
    results = {}
    for arm in ARMS:
        arm_path = os.path.join(output_dir, arm)
        if not os.path.isdir(arm_path):
            continue
        for name in sorted(os.listdir(arm_path)):
            path = os.path.join(arm_path, name, RESULT_FILE)
            if os.path.exists(path):
                results.setdefault(arm, []).append(read_json(path))
    return results


def time_to_loss(eval_history, target):
    """Training seconds (or whatever the second entry counts) at which the
    held-out loss first reaches `target`, interpolated linearly between
    evaluations `(step, seconds, loss, accuracy)`; None if never."""
    previous = (0.0, float("inf"))
    for _, seconds, loss, _ in eval_history:
        if loss <= target:
            start_seconds, start_loss = previous
            if start_loss == float("inf"):
                return seconds
            fraction = (start_loss - target) / (start_loss - loss)
            return start_seconds + fraction * (seconds - start_seconds)
        previous = (seconds, loss)
    return None


def training_clock(result):
    """The held-out history `[(step, seconds, loss, accuracy)]` of a run
    with seconds = step x its median step time.

    Two runs share the machine's two cores, and other jobs may share them
    for a while: a step's median time is what it costs, while summed step
    times also count every stall (they are in `train_seconds` and the
    recorded history). Time to a loss and the equal-time arm use this
    clock.
    """
    median = result["pretrain"]["median_step_seconds"]
    return [
        (step, step * median, loss, accuracy)
        for step, _, loss, accuracy in result["pretrain"]["eval_history"]
    ]


def recipe_label(result, runs=True):
    """The fine-tuning settings a result's downstream numbers came from,
    and (with `runs`) how many fine-tuning runs each averages when more
    than one."""
    first = next(iter(result["finetune"].values()))
    recipe = first["recipe"]
    label = (
        f"{recipe['finetune_steps']} steps, batch {recipe['finetune_batch_size']}, "
        f"S={recipe['finetune_seq_length']}, lr {recipe['finetune_learning_rate']:g}"
    )
    count = len(first["runs"])
    return label + (f", mean of {count} runs" if runs and count > 1 else "")


def _mean_spread(values, digits):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    text = f"{statistics.mean(values):.{digits}f}"
    if len(values) > 1:
        text += f" ± {statistics.stdev(values):.{digits}f}"
    return text


ROWS = (
    ("seeds", lambda r: None, None),
    ("pretraining steps", lambda r: r["pretrain"]["steps"], 0),
    ("median step time (s)", lambda r: r["pretrain"]["median_step_seconds"], 3),
    ("tokens/s", lambda r: r["pretrain"].get("tokens_per_second"), 0),
    ("pretraining wall-clock, evaluations included (s)", lambda r: r["pretrain"]["train_seconds"], 0),
    ("held-out MLM loss (full model)", lambda r: r["pretrain"].get("eval_loss"), 3),
    ("held-out MLM accuracy (full model)", lambda r: r["pretrain"].get("eval_accuracy"), 4),
)
# Paired by seed with the baseline: every arm reads a seed's data in the
# same order. (label, value of a result and its seed's baseline, digits)
BASELINE_ROWS = (
    ("median step time / the same seed's baseline's",
     lambda r, b: r["pretrain"]["median_step_seconds"] / b["pretrain"]["median_step_seconds"], 3),
    ("held-out loss minus the same seed's baseline",
     lambda r, b: r["pretrain"]["eval_loss"] - b["pretrain"]["eval_loss"], 3),
)
# Downstream rows: (label, task, key), one set per fine-tuning recipe.
DOWNSTREAM_ROWS = (
    ("sentiment dev accuracy", "sentiment", "dev_accuracy"),
    ("sentiment test accuracy", "sentiment", "test_accuracy"),
    ("adjacent-sentences dev accuracy", "adjacent_sentences", "dev_accuracy"),
    ("adjacent-sentences test accuracy", "adjacent_sentences", "test_accuracy"),
    ("sentiment test accuracy of the run with the best dev accuracy", "sentiment", "selected_test_accuracy"),
    ("adjacent-sentences test accuracy of the run with the best dev accuracy", "adjacent_sentences", "selected_test_accuracy"),
)


def results_table(results):
    """The markdown table: mean ± sample standard deviation over seeds per
    arm; the step time and held-out loss against the same seed's baseline;
    downstream accuracy per fine-tuning recipe, of every result's first
    fine-tuning run and, where a result has repeats, their mean; the
    training seconds and steps to the baseline's mean final held-out loss."""
    arms = [arm for arm in ARMS if arm in results]
    lines = ["| | " + " | ".join(arms) + " |", "| --- |" + " --- |" * len(arms)]
    for label, value, digits in ROWS:
        cells = []
        for arm in arms:
            if digits is None:
                cells.append(", ".join(str(r["seed"]) for r in results[arm]))
            else:
                cells.append(_mean_spread([value(r) for r in results[arm]], digits))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if "baseline" in results:
        baseline = {r["seed"]: r for r in results["baseline"]}
        for label, value, digits in BASELINE_ROWS:
            cells = []
            for arm in arms:
                pairs = [value(r, baseline[r["seed"]]) for r in results[arm]
                         if r["seed"] in baseline]
                cells.append(
                    f"{_mean_spread(pairs, digits)} (n={len(pairs)})"
                    if pairs and arm != "baseline" else "—"
                )
            lines.append(f"| {label} | " + " | ".join(cells) + " |")

    everything = [r for runs in results.values() for r in runs]
    tasks = {task for r in everything for task in r["finetune"]}

    def downstream_rows(title, in_group, rows, value):
        for label, task, key in rows:
            if task not in tasks:
                continue
            cells = []
            for arm in arms:
                runs = [r for r in results[arm] if in_group(r)]
                cell = _mean_spread(
                    [value(r["finetune"][task], key) for r in runs if task in r["finetune"]], 3
                )
                seeds = ", ".join(str(r["seed"]) for r in runs)
                cells.append(f"{cell} (seeds {seeds})" if runs else cell)
            lines.append(f"| {label} ({title}) | " + " | ".join(cells) + " |")

    # The first fine-tuning run of every result (comparable across results
    # with and without repeats), then the means over the repeats.
    for recipe in sorted({recipe_label(r, runs=False) for r in everything}):
        in_group = lambda r, recipe=recipe: recipe_label(r, runs=False) == recipe
        repeated = any(in_group(r) and recipe_label(r) != recipe for r in everything)
        downstream_rows(
            recipe + (", first fine-tuning run" if repeated else ""), in_group,
            [row for row in DOWNSTREAM_ROWS if row[2] != "selected_test_accuracy"],
            lambda record, key: record["runs"][0][key],
        )
    repeats = {
        recipe_label(r) for r in everything
        if recipe_label(r) != recipe_label(r, runs=False)
    }
    for recipe in sorted(repeats):
        downstream_rows(
            recipe, lambda r, recipe=recipe: recipe_label(r) == recipe,
            DOWNSTREAM_ROWS, lambda record, key: record[key],
        )
    if "baseline" in results:
        target = statistics.mean(
            r["pretrain"]["eval_loss"] for r in results["baseline"]
        )
        clocks = (
            ("training seconds (steps x median step time)", training_clock),
            # Free of the machine: runs measured on different days compare.
            ("steps", lambda r: [(step, step, loss, accuracy) for step, _, loss, accuracy in training_clock(r)]),
        )
        for clock_label, clock in clocks:
            cells = []
            for arm in arms:
                times = [time_to_loss(clock(r), target) for r in results[arm]]
                reached = [t for t in times if t is not None]
                cells.append(
                    f"{_mean_spread(reached, 0)} ({len(reached)}/{len(times)} reached)"
                )
            lines.append(
                f"| {clock_label} to the baseline's mean final held-out loss "
                f"({target:.3f}) | " + " | ".join(cells) + " |"
            )
    return "\n".join(lines)


def history_table(results):
    """Held-out loss and accuracy at each evaluation: mean ± sample
    standard deviation over seeds per arm, with the arm's training seconds
    there on the median-step clock (`training_clock`)."""
    lines = [
        "| arm | step | training s | held-out loss | held-out accuracy |",
        "| --- | --- | --- | --- | --- |",
    ]
    for arm in [arm for arm in ARMS if arm in results]:
        histories = [training_clock(r) for r in results[arm]]
        for index in range(min(len(h) for h in histories)):
            rows = [h[index] for h in histories]
            seconds = statistics.mean(row[1] for row in rows)
            lines.append(
                f"| {arm} | {rows[0][0]} | {seconds:.0f} | "
                f"{_mean_spread([row[2] for row in rows], 3)} | "
                f"{_mean_spread([row[3] for row in rows], 4)} |"
            )
    return "\n".join(lines)


def downstream_table(results):
    """Every fine-tuning run: per arm and seed, each task's dev / test
    accuracy run by run (fine-tuning seeds in order)."""
    tasks = sorted({task for runs in results.values() for r in runs for task in r["finetune"]},
                   key=list(TASK_ORDER).index)
    lines = [
        "| arm | seed | " + " | ".join(
            f"{task.replace('_', '-')} dev / test, run by run" for task in tasks
        ) + " |",
        "| --- | --- |" + " --- |" * len(tasks),
    ]
    for arm in [arm for arm in ARMS if arm in results]:
        for r in results[arm]:
            cells = []
            for task in tasks:
                runs = r["finetune"][task]["runs"] if task in r["finetune"] else []
                cells.append(", ".join(
                    f"{run['dev_accuracy']:.3f} / {run['test_accuracy']:.3f}"
                    for run in runs
                ) or "—")
            lines.append(f"| {arm} | {r['seed']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
