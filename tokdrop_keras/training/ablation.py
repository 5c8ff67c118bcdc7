"""Does importance matter? One arm and seed of the ablation per call
(`run_ablation`), and the report over every arm and seed written so far
(`ablation_report`).

Arms (`ABLATION_ARMS`): the full-length `baseline`; token dropping by the
importance table (`importance`, the paper's), at `random`, `mixed`
(half of the kept slots by importance), ScTD's consistency steps on top of
importance (`sctd`); and `importance_equal_time`: importance with as
many more steps as the baseline's wall-clock buys it (`equal_time_steps`).
Every arm reads the same data in the same order for a seed.
"""

import dataclasses
import os
import shutil
import statistics
import typing

import keras
import numpy as np

from tokdrop_keras.export.layout import IMPORTANCE_TABLE_FILE
from tokdrop_keras.training.config import Config
from tokdrop_keras.training.config import FinetuneConfig
from tokdrop_keras.training.config import PretrainConfig
from tokdrop_keras.training.config import setting
from tokdrop_keras.training.report import time_to_loss
from tokdrop_keras.training.run_directory import read_json
from tokdrop_keras.training.run_directory import write_json

RESULT_FILE = "result.json"
IMPORTANCE_SNAPSHOTS_FILE = "importance_snapshots.npz"
# Each arm's changes to the token-dropping settings of a `PretrainConfig`.
ABLATION_ARMS = {
    "baseline": dict(token_drop=False),
    "importance": dict(),
    "random": dict(selection="random"),
    "mixed": dict(selection="mixed"),
    "sctd": dict(consistency_weight=1.0, consistency_every=4),
    "importance_equal_time": dict(),
}
EQUAL_TIME_ARM = "importance_equal_time"
FINETUNE_TASKS = ("sentiment", "adjacent_sentences")
ABLATION_STAGES = ("all", "finetune")
FINETUNE_SETTINGS = (
    "finetune_steps", "finetune_seq_length", "finetune_batch_size",
    "finetune_learning_rate",
)
# Fine-tuning run i of seed s uses seed s + i * FINETUNE_SEED_STRIDE (run 0:
# the pretraining seed, as every result recorded before repeats existed).
FINETUNE_SEED_STRIDE = 1000
# What each fine-tuning run records.
FINETUNE_RUN_KEYS = ("finetune_seed", "dev_accuracy", "test_accuracy", "finetune_seconds")


@dataclasses.dataclass
class AblationConfig(Config):
    """One arm and seed of the ablation (`tokdrop_keras.run_ablation`).

    Example:
    ```python
    config = tokdrop_keras.AblationConfig(arm="random", seed=1)
    pretrain_config = config.pretrain_config()
    assert pretrain_config.selection == "random"
    assert pretrain_config.num_layers == 12 and pretrain_config.seed == 1
    ```
    """

    output_dir: str = setting("runs/ablation", "results of every arm and seed (ARM/seedN/)")
    arm: str = setting("importance", "baseline | importance | random | mixed | sctd | importance_equal_time", choices=tuple(ABLATION_ARMS))
    seed: int = setting(0, "seed of weights, data order and fine-tuning")
    size: str = setting("tiny", "model size, a row of tokdrop_keras.models.SIZES")
    num_layers: int = setting(12, "layers (12: five see only the kept tokens)")
    seq_length: int = setting(128, "tokens per sequence")
    batch_size: int = setting(32, "global batch size")
    steps: int = setting(480, "pretraining steps (the equal-time arm: more, see equal_time_steps)")
    learning_rate: float = setting(1e-3, "peak pretraining learning rate")
    evaluations: int = setting(8, "held-out evaluations along the way")
    eval_steps: int = setting(10, "held-out batches per evaluation")
    equal_time_steps: typing.Optional[int] = setting(None, "steps of the equal-time arm (default: steps x the baseline's / importance's median step time, from seed 0's results, to a multiple of steps / evaluations)")
    finetune_steps: int = setting(300, "fine-tuning steps per task")
    finetune_seq_length: int = setting(64, "fine-tuning tokens per example")
    finetune_batch_size: int = setting(16, "fine-tuning batch size")
    finetune_learning_rate: float = setting(1e-4, "fine-tuning learning rate (constant; 3e-4 and 1e-3 left the 12-layer baseline a constant predictor)")
    finetune_runs: int = setting(1, "fine-tuning runs per task, seeds seed, seed + 1000, ...: the downstream accuracy is their mean, and the test accuracy of the run with the best dev accuracy is kept too")
    stage: str = setting("all", "all: pretrain, export and fine-tune; finetune: fine-tune a finished run's kept export again with this config's fine-tuning settings and replace its downstream results", choices=ABLATION_STAGES)

    def arm_dir(self, arm=None, seed=None):
        """The folder of one arm and seed's results."""
        arm = self.arm if arm is None else arm
        seed = self.seed if seed is None else seed
        return os.path.join(self.output_dir, arm, f"seed{seed}")

    def arm_steps(self):
        """Pretraining steps of this arm."""
        if self.arm != EQUAL_TIME_ARM:
            return self.steps
        if self.equal_time_steps:
            return self.equal_time_steps
        ratio = []
        for arm in ("baseline", "importance"):
            path = os.path.join(self.arm_dir(arm, 0), RESULT_FILE)
            if not os.path.exists(path):
                raise ValueError(
                    f"The equal-time arm needs seed 0 of the baseline and "
                    f"importance arms ({path} is missing), or "
                    "`equal_time_steps`."
                )
            ratio.append(read_json(path)["pretrain"]["median_step_seconds"])
        # The baseline's training time (`training_clock`) buys this many
        # importance steps.
        steps = self.steps * ratio[0] / ratio[1]
        interval = self.steps // self.evaluations
        return max(self.steps, int(round(steps / interval)) * interval)

    def pretrain_config(self):
        """The `PretrainConfig` of this arm and seed."""
        steps = self.arm_steps()
        return PretrainConfig(
            size=self.size,
            num_layers=self.num_layers,
            seq_length=self.seq_length,
            batch_size=self.batch_size,
            steps=steps,
            learning_rate=self.learning_rate,
            checkpoint_every=self.steps // self.evaluations,
            eval_steps=self.eval_steps,
            log_every=max(self.steps // 10, 1),
            seed=self.seed,
            export_dir=os.path.join(self.arm_dir(), "export"),
            overwrite=True,
            saved_model=False,
            transformers=False,
            **ABLATION_ARMS[self.arm],
        )

    def finetune_seeds(self):
        """The seeds of this run's fine-tuning runs (`finetune_runs`)."""
        return [self.seed + i * FINETUNE_SEED_STRIDE for i in range(self.finetune_runs)]

    def finetune_config(self, task, seed=None):
        """The `FinetuneConfig` of one downstream task (and fine-tuning
        seed: default, the run's seed)."""
        return FinetuneConfig(
            export_dir=os.path.join(self.arm_dir(), "export"),
            task=task,
            seq_length=self.finetune_seq_length,
            batch_size=self.finetune_batch_size,
            epochs=1,
            steps_per_epoch=self.finetune_steps,
            learning_rate=self.finetune_learning_rate,
            seed=self.seed if seed is None else seed,
        )

    def finetune_recipe(self):
        """The fine-tuning settings, as recorded with every downstream
        result."""
        return {name: getattr(self, name) for name in FINETUNE_SETTINGS}

    def validate(self):
        if self.arm not in ABLATION_ARMS:
            raise ValueError(
                f"Unknown arm {self.arm!r}; choose one of {list(ABLATION_ARMS)}."
            )
        if self.stage not in ABLATION_STAGES:
            raise ValueError(
                f"Unknown stage {self.stage!r}; choose one of "
                f"{list(ABLATION_STAGES)}."
            )
        if self.stage == "finetune":
            for name in (RESULT_FILE, os.path.join("export", "preset")):
                path = os.path.join(self.arm_dir(), name)
                if not os.path.exists(path):
                    raise ValueError(
                        f"`stage='finetune'` re-runs the fine-tuning of a "
                        f"finished run, but {path} is missing: run the "
                        "whole arm first (`stage='all'`)."
                    )
        if self.finetune_runs < 1:
            raise ValueError(
                f"`finetune_runs` must be at least 1, got {self.finetune_runs}."
            )
        if self.steps % self.evaluations:
            raise ValueError(
                f"`steps` ({self.steps}) must be a multiple of `evaluations` "
                f"({self.evaluations})."
            )
        if self.arm == EQUAL_TIME_ARM and self.equal_time_steps:
            if self.equal_time_steps % (self.steps // self.evaluations):
                raise ValueError(
                    "`equal_time_steps` must be a multiple of steps / "
                    f"evaluations ({self.steps // self.evaluations})."
                )
        self.pretrain_config().validate()
        for task in FINETUNE_TASKS:
            self.finetune_config(task).validate()


class ImportanceSnapshots(keras.callbacks.Callback):
    """Keeps a copy of the importance table at the start of training and
    the end of every epoch (checkpoint interval), for its evolution.

    Example:
    ```python
    from tokdrop_keras.training.ablation import ImportanceSnapshots
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=20, max_sequence_length=8, num_layers=2
    )
    model = tokdrop_keras.TokenDropMaskedLM(backbone)
    model.compile()
    x = {"token_ids": np.full((2, 8), 5), "segment_ids": np.zeros((2, 8), "int32"),
         "padding_mask": np.ones((2, 8), "int32"),
         "mask_positions": np.array([[1], [2]])}
    snapshots = ImportanceSnapshots()
    model.fit(x, np.array([[5], [6]]), epochs=2, verbose=0,
              callbacks=[snapshots])
    assert snapshots.steps == [0, 1, 2]
    assert snapshots.tables[0][5] == 10.0 and snapshots.tables[2][5] < 10.0
    ```
    """

    def __init__(self):
        super().__init__()
        self.steps, self.tables = [], []

    def _snapshot(self):
        self.steps.append(
            int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        )
        self.tables.append(
            keras.ops.convert_to_numpy(self.model.importance_tracker.importance)
        )

    def on_train_begin(self, logs=None):
        self._snapshot()

    def on_epoch_end(self, epoch, logs=None):
        self._snapshot()


def run_ablation(config):
    """Pretrains, exports and fine-tunes one arm and seed; writes
    `ARM/seedN/result.json`, the importance table and its snapshots.

    With `config.stage == "finetune"` it only fine-tunes the kept export
    of a finished run again (the current fine-tuning settings) and
    replaces the downstream results in its `result.json`; the pretraining
    record is kept as it was, and so is every recorded fine-tuning run of
    the same recipe and seed (raising `finetune_runs` adds runs).

    Args:
        config: a `tokdrop_keras.AblationConfig`.

    Returns:
        The result dict (also written).

    Example:
    ```python
    import tempfile
    config = tokdrop_keras.AblationConfig(
        output_dir=tempfile.mkdtemp(), arm="random", size="nano",
        num_layers=4, seq_length=32, batch_size=4, steps=4, evaluations=2,
        eval_steps=1, finetune_steps=1, finetune_seq_length=32,
    )
    result = tokdrop_keras.run_ablation(config)
    assert result["pretrain"]["steps"] == 4
    assert set(result["finetune"]) == {"sentiment", "adjacent_sentences"}
    assert result["finetune"]["sentiment"]["recipe"]["finetune_steps"] == 1
    ```
    """
    from tokdrop_keras.training.pretraining import pretrain

    config.validate()
    arm_dir = config.arm_dir()
    result_path = os.path.join(arm_dir, RESULT_FILE)
    if config.stage == "finetune":
        result = read_json(result_path)
        result["finetune"] = _downstream(config, result.get("finetune"))
        write_json(result_path, result)
        return result
    os.makedirs(arm_dir, exist_ok=True)
    pretrain_config = config.pretrain_config()
    print(f"== {config.arm} seed {config.seed}: {pretrain_config.steps} steps", flush=True)
    snapshots = ImportanceSnapshots()
    summary = dict(pretrain(pretrain_config, callbacks=[snapshots]).summary)
    np.savez_compressed(
        os.path.join(arm_dir, IMPORTANCE_SNAPSHOTS_FILE),
        steps=np.array(snapshots.steps),
        tables=np.array(snapshots.tables),
    )
    result = {"arm": config.arm, "seed": config.seed, "config": config.to_dict(),
              "pretrain": summary, "finetune": _downstream(config)}
    export_dir = os.path.join(arm_dir, "export")
    shutil.copy(
        os.path.join(export_dir, IMPORTANCE_TABLE_FILE),
        os.path.join(arm_dir, IMPORTANCE_TABLE_FILE),
    )
    write_json(result_path, result)
    return result


def _downstream(config, recorded=None):
    """Fine-tunes the run's export `config.finetune_runs` times on every
    task: `{task: mean accuracies, the test accuracy of the run with the
    best dev accuracy, seconds, the recipe and every run}`. Runs in
    `recorded` (an earlier `result["finetune"]`) with the same recipe and
    seed are kept, not run again."""
    from tokdrop_keras.training.finetuning import finetune

    recipe = config.finetune_recipe()
    results = {}
    for task in FINETUNE_TASKS:
        runs = {}
        old = (recorded or {}).get(task) or {}
        if old.get("recipe") == recipe:
            # Before repeats: one run, with the pretraining seed.
            for run in old.get("runs") or [dict(old, finetune_seed=config.seed)]:
                runs[run["finetune_seed"]] = {k: run.get(k) for k in FINETUNE_RUN_KEYS}
        for seed in config.finetune_seeds():
            if seed in runs:
                continue
            print(f"== {config.arm} seed {config.seed}: fine-tuning on {task} "
                  f"(seed {seed})", flush=True)
            tuned = finetune(config.finetune_config(task, seed)).summary
            runs[seed] = dict(
                {key: tuned.get(key) for key in FINETUNE_RUN_KEYS}, finetune_seed=seed
            )
        runs = [runs[seed] for seed in config.finetune_seeds()]
        selected = max(runs, key=lambda run: run["dev_accuracy"])
        results[task] = {
            "dev_accuracy": statistics.mean(run["dev_accuracy"] for run in runs),
            "test_accuracy": statistics.mean(run["test_accuracy"] for run in runs),
            "selected_test_accuracy": selected["test_accuracy"],
            "finetune_seconds": sum(run["finetune_seconds"] for run in runs),
            "recipe": recipe,
            "runs": runs,
        }
    return results


def adopt_rerun_downstream(output_dir, rerun_dir):
    """Gives each recorded run of `output_dir` the downstream results of
    its rerun in `rerun_dir` (same arm and seed, run again from scratch,
    e.g. to fine-tune an export that was not kept), and returns the
    `(arm, seed)` pairs it changed.

    A rerun is adopted only when its pretraining is the recorded one: same
    steps and the same held-out loss and accuracy at every evaluation (the
    seconds may differ). The recorded pretraining (its step times
    included) is kept, and `downstream_from` names the rerun.

    Raises:
        ValueError: a rerun whose pretraining differs from the record, or
            that has no record to join.

    Example:
    ```python
    from tokdrop_keras.training.ablation import adopt_rerun_downstream
    def write(folder, seconds, accuracy):
        os.makedirs(f"{folder}/random/seed1")
        tokdrop_keras.training.write_json(f"{folder}/random/seed1/result.json", {
            "arm": "random", "seed": 1,
            "pretrain": {"steps": 8, "median_step_seconds": seconds,
                         "eval_history": [[8, 8 * seconds, 6.5, 0.1]]},
            "finetune": {"sentiment": {"test_accuracy": accuracy}}})
    write("recorded", 1.0, 0.5)
    write("rerun", 1.4, 0.7)
    assert adopt_rerun_downstream("recorded", "rerun") == [("random", 1)]
    from tokdrop_keras.training.run_directory import read_json
    result = read_json("recorded/random/seed1/result.json")
    assert result["finetune"]["sentiment"]["test_accuracy"] == 0.7
    assert result["pretrain"]["median_step_seconds"] == 1.0
    ```
    """
    recorded = load_ablation_results(output_dir)
    adopted = []
    for arm, reruns in load_ablation_results(rerun_dir).items():
        by_seed = {r["seed"]: r for r in recorded.get(arm, [])}
        for rerun in reruns:
            seed = rerun["seed"]
            if seed not in by_seed:
                raise ValueError(
                    f"{arm} seed {seed} of {rerun_dir} has no recorded run "
                    f"in {output_dir} to join."
                )
            record = by_seed[seed]
            _check_same_pretraining(record, rerun, f"{arm} seed {seed}")
            record["finetune"] = rerun["finetune"]
            record["downstream_from"] = os.path.join(
                rerun_dir, arm, f"seed{seed}", RESULT_FILE
            )
            write_json(
                os.path.join(output_dir, arm, f"seed{seed}", RESULT_FILE), record
            )
            adopted.append((arm, seed))
    return adopted


def _check_same_pretraining(record, rerun, name):
    """Raises unless two runs' held-out histories agree step by step (loss
    and accuracy; not the seconds)."""
    def history(result):
        pretrain = result["pretrain"]
        return pretrain["steps"], [
            (step, loss, accuracy)
            for step, _, loss, accuracy in pretrain["eval_history"]
        ]

    (steps, old), (new_steps, new) = history(record), history(rerun)
    if steps != new_steps or len(old) != len(new):
        raise ValueError(
            f"The rerun of {name} ran {new_steps} steps with {len(new)} "
            f"evaluations; the record has {steps} and {len(old)}."
        )
    for before, after in zip(old, new):
        if before != after:
            raise ValueError(
                f"The rerun of {name} is not the recorded pretraining: at step "
                f"{before[0]} the record has held-out loss {before[1]} and "
                f"accuracy {before[2]}, the rerun {after[1]} and {after[2]}."
            )


def recipe_label(result, runs=True):
    """The fine-tuning settings a result's downstream numbers came from
    (recorded with them, or, for older results, in its config), and (with
    `runs`) how many fine-tuning runs each number averages when more than
    one.

    Example:
    ```python
    from tokdrop_keras.training.ablation import recipe_label
    result = {"config": {"finetune_steps": 80, "finetune_seq_length": 64,
                         "finetune_learning_rate": 2e-4},
              "finetune": {"sentiment": {"dev_accuracy": 0.5}}}
    assert recipe_label(result) == "80 steps, batch 32, S=64, lr 0.0002"
    result["finetune"]["sentiment"]["runs"] = [{}, {}, {}]
    assert recipe_label(result).endswith("lr 0.0002, mean of 3 runs")
    assert recipe_label(result, runs=False).endswith("lr 0.0002")
    ```
    """
    first = next(iter(result["finetune"].values()), {})
    recipe = dict(first.get("recipe") or result.get("config", {}))
    recipe.setdefault("finetune_batch_size", 32)  # before it was a setting
    if not all(name in recipe for name in FINETUNE_SETTINGS):
        return "recipe not recorded"
    label = (
        f"{recipe['finetune_steps']} steps, batch {recipe['finetune_batch_size']}, "
        f"S={recipe['finetune_seq_length']}, lr {recipe['finetune_learning_rate']:g}"
    )
    count = len(first.get("runs") or [None])
    return label + (f", mean of {count} runs" if runs and count > 1 else "")


def _first_run(record):
    """A task's first fine-tuning run (seed: the pretraining seed's), which
    every result has, with or without repeats."""
    return (record.get("runs") or [record])[0]


def training_clock(result):
    """The held-out history `[(step, seconds, loss, accuracy)]` of a run
    with seconds = step x its median step time.

    Two runs share the machine's two cores, and other jobs may share them
    for a while: a step's median time is what it costs, while summed step
    times also count every stall (they are in `train_seconds` and the
    recorded history). Time to a loss and the equal-time arm use this
    clock.

    Example:
    ```python
    from tokdrop_keras.training.ablation import training_clock
    run = {"pretrain": {"median_step_seconds": 1.5,
                        "eval_history": [[10, 20.0, 7.0, 0.1], [20, 31.0, 6.5, 0.2]]}}
    assert training_clock(run) == [(10, 15.0, 7.0, 0.1), (20, 30.0, 6.5, 0.2)]
    ```
    """
    median = result["pretrain"]["median_step_seconds"]
    return [
        (step, step * median, loss, accuracy)
        for step, _, loss, accuracy in result["pretrain"]["eval_history"]
    ]


def load_ablation_results(output_dir):
    """`{arm: [result, ...]}`, by seed, for every `result.json` written.

    Example:
    ```python
    from tokdrop_keras.training.ablation import load_ablation_results
    os.makedirs("runs/random/seed2")
    tokdrop_keras.training.write_json("runs/random/seed2/result.json", {"seed": 2})
    assert load_ablation_results("runs") == {"random": [{"seed": 2}]}
    ```
    """
    results = {}
    for arm in ABLATION_ARMS:
        arm_path = os.path.join(output_dir, arm)
        if not os.path.isdir(arm_path):
            continue
        for name in sorted(os.listdir(arm_path)):
            path = os.path.join(arm_path, name, RESULT_FILE)
            if os.path.exists(path):
                results.setdefault(arm, []).append(read_json(path))
    return results


def _mean_spread(values, digits):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    text = f"{statistics.mean(values):.{digits}f}"
    if len(values) > 1:
        text += f" ± {statistics.stdev(values):.{digits}f}"
    return text


ABLATION_ROWS = (
    ("seeds", lambda r: None, None),
    ("pretraining steps", lambda r: r["pretrain"]["steps"], 0),
    ("median step time (s)", lambda r: r["pretrain"]["median_step_seconds"], 3),
    ("pretraining wall-clock, evaluations included (s)", lambda r: r["pretrain"]["train_seconds"], 0),
    ("held-out MLM loss (full model)", lambda r: r["pretrain"].get("eval_loss"), 3),
    ("held-out MLM accuracy (full model)", lambda r: r["pretrain"].get("eval_accuracy"), 4),
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


def ablation_table(results):
    """The markdown table: mean ± sample standard deviation over seeds per
    arm; downstream accuracy per fine-tuning recipe, of every result's
    first fine-tuning run and, where a result has repeats, their mean; the
    training seconds and steps to the baseline's mean final held-out loss.

    Example:
    ```python
    from tokdrop_keras.training.ablation import ablation_table
    run = {"pretrain": {"steps": 4, "median_step_seconds": 1.0,
                        "train_seconds": 4.0, "eval_loss": 7.0,
                        "eval_accuracy": 0.05,
                        "eval_history": [[4, 4.0, 7.0, 0.05]]},
           "finetune": {task: {"dev_accuracy": 0.5, "test_accuracy": 0.5}
                        for task in ("sentiment", "adjacent_sentences")}}
    table = ablation_table({"baseline": [run, run]})
    assert "| held-out MLM loss (full model) | 7.000 ± 0.000 |" in table
    assert "| sentiment dev accuracy (recipe not recorded) | 0.500 ± 0.000" in table
    ```
    """
    arms = [arm for arm in ABLATION_ARMS if arm in results]
    lines = ["| | " + " | ".join(arms) + " |", "| --- |" + " --- |" * len(arms)]
    for label, value, digits in ABLATION_ROWS:
        cells = []
        for arm in arms:
            if digits is None:
                cells.append(", ".join(str(r.get("seed", "?")) for r in results[arm]))
            else:
                cells.append(_mean_spread([value(r) for r in results[arm]], digits))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if "baseline" in results:
        # Paired by seed: every arm reads a seed's data in the same order.
        baseline = {r.get("seed"): r["pretrain"]["eval_loss"] for r in results["baseline"]}
        cells = []
        for arm in arms:
            pairs = [r for r in results[arm] if r.get("seed") in baseline]
            differences = [
                r["pretrain"]["eval_loss"] - baseline[r.get("seed")] for r in pairs
            ]
            cells.append(
                f"{_mean_spread(differences, 3)} (n={len(differences)})"
                if differences and arm != "baseline" else "—"
            )
        lines.append(
            "| held-out loss minus the same seed's baseline | "
            + " | ".join(cells) + " |"
        )
    def downstream_rows(title, in_group, rows, value):
        for label, task, key in rows:
            cells = []
            for arm in arms:
                runs = [r for r in results[arm] if in_group(r)]
                cell = _mean_spread([value(r["finetune"][task], key) for r in runs], 3)
                seeds = ", ".join(str(r.get("seed", "?")) for r in runs)
                cells.append(f"{cell} (seeds {seeds})" if runs else cell)
            lines.append(f"| {label} ({title}) | " + " | ".join(cells) + " |")

    # The first fine-tuning run of every result (comparable across results
    # with and without repeats), then the means over the repeats.
    everything = [r for runs in results.values() for r in runs]
    for recipe in sorted({recipe_label(r, runs=False) for r in everything}):
        in_group = lambda r, recipe=recipe: recipe_label(r, runs=False) == recipe
        repeated = any(in_group(r) and recipe_label(r) != recipe for r in everything)
        downstream_rows(
            recipe + (", first fine-tuning run" if repeated else ""), in_group,
            [row for row in DOWNSTREAM_ROWS if row[2] != "selected_test_accuracy"],
            lambda record, key: _first_run(record).get(key),
        )
    repeats = {
        recipe_label(r) for r in everything
        if recipe_label(r) != recipe_label(r, runs=False)
    }
    for recipe in sorted(repeats):
        downstream_rows(
            recipe, lambda r, recipe=recipe: recipe_label(r) == recipe,
            DOWNSTREAM_ROWS, lambda record, key: record.get(key),
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
    there on the median-step clock (`training_clock`).

    Example:
    ```python
    from tokdrop_keras.training.ablation import history_table
    runs = [{"pretrain": {"median_step_seconds": 2.0,
                          "eval_history": [[10, 25.0, 7.0 + s, 0.1],
                                           [20, 50.0, 6.0 + s, 0.2]]}}
            for s in (0.0, 0.2)]
    table = history_table({"random": runs})
    assert "| random | 20 | 40 | 6.100 ± 0.141 | 0.2000 ± 0.0000 |" in table
    ```
    """
    lines = [
        "| arm | step | training s | held-out loss | held-out accuracy |",
        "| --- | --- | --- | --- | --- |",
    ]
    for arm in [arm for arm in ABLATION_ARMS if arm in results]:
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


def plot_ablation(results, path):
    """Held-out loss vs training seconds per arm: the mean over seeds with
    a band from the lowest to the highest seed.

    Example:
    ```python
    from tokdrop_keras.training.ablation import plot_ablation
    runs = [{"pretrain": {"median_step_seconds": 0.5,
                          "eval_history": [[10, 5.0, 8.0, 0.1],
                                           [20, 10.0, 7.0 + s, 0.2]]}}
            for s in (0.0, 0.2)]
    plot_ablation({"baseline": runs}, "loss.png")
    assert os.path.getsize("loss.png") > 0
    ```
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 5))
    ax = figure.subplots()
    for arm, runs in results.items():
        histories = [np.array(training_clock(r), float) for r in runs]
        length = min(len(h) for h in histories)
        seconds = np.mean([h[:length, 1] for h in histories], axis=0)
        losses = np.array([h[:length, 2] for h in histories])
        ax.plot(seconds, losses.mean(axis=0), marker="o", label=f"{arm} ({len(runs)} seeds)")
        if len(runs) > 1:
            ax.fill_between(seconds, losses.min(axis=0), losses.max(axis=0), alpha=0.2)
    ax.set(xlabel="training seconds (steps x median step time)",
           ylabel="held-out MLM loss (full model)",
           title="Held-out loss vs wall-clock, mean and range over seeds")
    ax.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def plot_importance_evolution(snapshots_path, path, count=8):
    """The importance of the `count` ids that moved most, and the spread
    of the table over the ids it has seen, at each snapshot
    (`ImportanceSnapshots`, saved by `run_ablation`).

    Example:
    ```python
    from tokdrop_keras.training.ablation import plot_importance_evolution
    tables = np.full((3, 50), 10.0)
    tables[1, :5], tables[2, :10] = 9.0, 7.5
    np.savez("snapshots.npz", steps=np.array([0, 10, 20]), tables=tables)
    plot_importance_evolution("snapshots.npz", "evolution.png")
    assert os.path.getsize("evolution.png") > 0
    ```
    """
    from matplotlib.figure import Figure

    data = np.load(snapshots_path)
    steps, tables = data["steps"], data["tables"]
    initial = tables[0].max()
    moved = np.abs(tables[-1] - initial)
    figure = Figure(figsize=(11, 4.5))
    left, right = figure.subplots(1, 2)
    for token_id in np.argsort(-moved)[:count]:
        left.plot(steps, tables[:, token_id], marker=".", label=f"id {token_id}")
    left.set(xlabel="step", ylabel="importance", title=f"{count} ids that moved most")
    left.legend(fontsize=7)
    for q in (10, 50, 90):
        values = [np.percentile(t[t != initial], q) if (t != initial).any() else initial for t in tables]
        right.plot(steps, values, marker=".", label=f"{q}th percentile")
    right.set(xlabel="step", ylabel="importance", title="table over the ids updated so far")
    right.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def downstream_table(results):
    """The markdown table of every fine-tuning run: per arm and seed, each
    task's dev / test accuracy run by run (fine-tuning seeds in order).

    Example:
    ```python
    from tokdrop_keras.training.ablation import downstream_table
    runs = [{"finetune_seed": 0, "dev_accuracy": 0.5, "test_accuracy": 0.52},
            {"finetune_seed": 1000, "dev_accuracy": 0.7, "test_accuracy": 0.66}]
    result = {"seed": 0, "finetune": {"sentiment": {"runs": runs},
                                      "adjacent_sentences": {"dev_accuracy": 0.6,
                                                             "test_accuracy": 0.58}}}
    table = downstream_table({"random": [result]})
    assert "| random | 0 | 0.500 / 0.520, 0.700 / 0.660 | 0.600 / 0.580 |" in table
    ```
    """
    lines = [
        "| arm | seed | " + " | ".join(
            f"{task.replace('_', '-')} dev / test, run by run" for task in FINETUNE_TASKS
        ) + " |",
        "| --- | --- |" + " --- |" * len(FINETUNE_TASKS),
    ]
    for arm in [arm for arm in ABLATION_ARMS if arm in results]:
        for r in results[arm]:
            cells = []
            for task in FINETUNE_TASKS:
                record = r["finetune"].get(task, {})
                cells.append(", ".join(
                    f"{run['dev_accuracy']:.3f} / {run['test_accuracy']:.3f}"
                    for run in record.get("runs") or [record]
                ))
            lines.append(f"| {arm} | {r.get('seed', '?')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ablation_report(output_dir, image_dir=None):
    """Writes `report.md` (`ablation_table`, `history_table` and
    `downstream_table`),
    `report.json` and the plots into `output_dir` (or the images into
    `image_dir`); returns the text of `report.md`.

    Example:
    ```python
    from tokdrop_keras.training.ablation import ablation_report
    for arm, loss in (("baseline", 7.0), ("random", 7.2)):
        os.makedirs(f"runs/{arm}/seed0")
        tokdrop_keras.training.write_json(f"runs/{arm}/seed0/result.json", {
            "seed": 0,
            "pretrain": {"steps": 8, "median_step_seconds": 1.0,
                         "train_seconds": 8.0, "eval_loss": loss,
                         "eval_accuracy": 0.05,
                         "eval_history": [[4, 4.0, 8.0, 0.03],
                                          [8, 8.0, loss, 0.05]]},
            "finetune": {task: {"dev_accuracy": 0.5, "test_accuracy": 0.5}
                         for task in ("sentiment", "adjacent_sentences")},
        })
    report = ablation_report("runs")
    assert "| held-out MLM loss (full model) | 7.000 | 7.200 |" in report
    assert "| random | 8 | 8 | 7.200 | 0.0500 |" in report
    assert os.path.exists("runs/ablation_loss_vs_time.png")
    ```
    """
    results = load_ablation_results(output_dir)
    if not results:
        raise ValueError(f"No ablation results under {output_dir}.")
    image_dir = image_dir or output_dir
    os.makedirs(image_dir, exist_ok=True)
    table = ablation_table(results)
    plot_ablation(results, os.path.join(image_dir, "ablation_loss_vs_time.png"))
    snapshots = os.path.join(
        _lowest_seed_dir(output_dir, "importance", results),
        IMPORTANCE_SNAPSHOTS_FILE,
    )
    if os.path.exists(snapshots):
        plot_importance_evolution(
            snapshots, os.path.join(image_dir, "ablation_importance_evolution.png")
        )
    report = "\n\n".join(
        [table, history_table(results), downstream_table(results)]
    ) + "\n"
    with open(os.path.join(output_dir, "report.md"), "w") as file:
        file.write(report)
    write_json(os.path.join(output_dir, "report.json"), {
        arm: [{"seed": r["seed"], "pretrain": {k: v for k, v in r["pretrain"].items() if k != "loss_history"}, "finetune": r["finetune"]} for r in runs]
        for arm, runs in results.items()
    })
    return report


def _lowest_seed_dir(output_dir, arm, results):
    """The folder of the lowest seed of `arm` in `results` (or seed 0)."""
    seeds = sorted(r["seed"] for r in results.get(arm, [])) or [0]
    return os.path.join(output_dir, arm, f"seed{seeds[0]}")
