"""Runs a study's arms: pretrain, export, fine-tune, one `result.json` each."""

import os
import shutil
import statistics

import keras
import numpy as np

from study.config import EXPORT_DIR
from study.config import RESULT_FILE
from study.config import SNAPSHOTS_FILE
from study.report import write_report
from tokdrop_keras.export.layout import IMPORTANCE_TABLE_FILE
from tokdrop_keras.training.finetuning import finetune
from tokdrop_keras.training.pretraining import pretrain
from tokdrop_keras.training.run_directory import read_json
from tokdrop_keras.training.run_directory import write_json

# What each fine-tuning run records.
FINETUNE_RUN_KEYS = ("finetune_seed", "dev_accuracy", "test_accuracy", "finetune_seconds")


class ImportanceSnapshots(keras.callbacks.Callback):
    """Keeps a copy of the importance table at the start of training and
    at the end of every epoch (checkpoint interval), for its evolution."""

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


def run_arm(config, arm):
    """Pretrains, exports and fine-tunes `arm` at `config.seed`; writes
    `ARM/seedN/result.json`, the importance table and its snapshots, and
    returns the result.

    With `config.stage == "finetune"` it only fine-tunes the kept export
    of a finished run again (the current fine-tuning settings) and
    replaces the downstream results in its `result.json`; the pretraining
    record is kept, and so is every recorded fine-tuning run of the same
    recipe and seed (raising `finetune_runs` adds runs).
    """
    arm_dir = config.arm_dir(arm)
    result_path = os.path.join(arm_dir, RESULT_FILE)
    if config.stage == "finetune":
        result = read_json(result_path)
        result["finetune"] = _downstream(config, arm, result["finetune"])
        write_json(result_path, result)
        return result
    os.makedirs(arm_dir, exist_ok=True)
    pretrain_config = config.pretrain_config(arm)
    print(f"== {arm} seed {config.seed}: {pretrain_config.steps} steps", flush=True)
    snapshots = ImportanceSnapshots()
    summary = dict(pretrain(pretrain_config, callbacks=[snapshots]).summary)
    np.savez_compressed(
        os.path.join(arm_dir, SNAPSHOTS_FILE),
        steps=np.array(snapshots.steps),
        tables=np.array(snapshots.tables),
    )
    result = {"arm": arm, "seed": config.seed, "config": config.to_dict(),
              "pretrain": summary, "finetune": _downstream(config, arm)}
    shutil.copy(
        os.path.join(arm_dir, EXPORT_DIR, IMPORTANCE_TABLE_FILE),
        os.path.join(arm_dir, IMPORTANCE_TABLE_FILE),
    )
    write_json(result_path, result)
    return result


def run_arms(config):
    """`{arm: result}` of every arm of `config` (`run_arm`), in order."""
    config.validate()
    return {arm: run_arm(config, arm) for arm in config.arm_list()}


def run_study(config):
    """Runs every arm, then writes the report over every result in
    `config.output_dir`; returns `(results, report text)`."""
    results = run_arms(config)
    return results, write_report(config.output_dir)


def _downstream(config, arm, recorded=None):
    """Fine-tunes the arm's export `config.finetune_runs` times on every
    task: `{task: mean accuracies, the test accuracy of the run with the
    best dev accuracy, seconds, the recipe and every run}`. Runs in
    `recorded` (an earlier `result["finetune"]`) with the same recipe and
    seed are kept, not run again."""
    recipe = config.finetune_recipe()
    results = {}
    for task in config.task_list():
        old = (recorded or {}).get(task)
        runs = {}
        if old and old["recipe"] == recipe:
            runs = {run["finetune_seed"]: run for run in old["runs"]}
        for seed in config.finetune_seeds():
            if seed in runs:
                continue
            print(f"== {arm} seed {config.seed}: fine-tuning on {task} "
                  f"(seed {seed})", flush=True)
            tuned = finetune(config.finetune_config(arm, task, seed)).summary
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
