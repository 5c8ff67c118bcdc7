"""What a study runs: its arms, seed, sizes and fine-tuning recipe."""

import dataclasses
import os
import typing

from tokdrop_keras.export.layout import PRESET_DIR
from tokdrop_keras.models.architectures import ARCHITECTURE_NAMES
from tokdrop_keras.training.config import Config
from tokdrop_keras.training.config import FinetuneConfig
from tokdrop_keras.training.config import PretrainConfig
from tokdrop_keras.training.config import setting
from tokdrop_keras.training.run_directory import read_json

RESULT_FILE = "result.json"
SNAPSHOTS_FILE = "importance_snapshots.npz"
EXPORT_DIR = "export"
# Each arm's changes to the token-dropping settings of a `PretrainConfig`.
ARMS = {
    "baseline": dict(token_drop=False),
    "importance": dict(),
    "random": dict(selection="random"),
    "mixed": dict(selection="mixed"),
    "sctd": dict(consistency_weight=1.0, consistency_every=4),
    "importance_equal_time": dict(),
}
EQUAL_TIME_ARM = "importance_equal_time"
TASKS = ("sentiment", "adjacent_sentences")
STAGES = ("all", "finetune")
FINETUNE_SETTINGS = (
    "finetune_steps", "finetune_seq_length", "finetune_batch_size",
    "finetune_learning_rate",
)
# Fine-tuning run i of seed s uses seed s + i * FINETUNE_SEED_STRIDE.
FINETUNE_SEED_STRIDE = 1000


def _names(text):
    return [name.strip() for name in text.split(",") if name.strip()]


@dataclasses.dataclass
class StudyConfig(Config):
    """Arms and one seed of the study; the defaults are the ablation's
    (`experiments/ablation.py`: 12 layers, 480 steps, two tasks)."""

    output_dir: str = setting("runs/ablation", "results of every arm and seed (ARM/seedN/)")
    arms: str = setting("importance", "comma-separated arms: " + ", ".join(ARMS))
    seed: int = setting(0, "seed of weights, data order and fine-tuning")
    architecture: str = setting("bert", "keras-hub encoder", choices=ARCHITECTURE_NAMES)
    size: str = setting("tiny", "model size, a row of tokdrop_keras.models.SIZES")
    num_layers: typing.Optional[int] = setting(12, "overrides the size (12: five layers see only the kept tokens)")
    seq_length: int = setting(128, "tokens per sequence")
    batch_size: int = setting(32, "global batch size")
    steps: int = setting(480, "pretraining steps (the equal-time arm: more, see equal_time_steps)")
    learning_rate: float = setting(1e-3, "peak pretraining learning rate")
    evaluations: int = setting(8, "held-out evaluations along the way")
    eval_steps: int = setting(10, "held-out batches per evaluation")
    equal_time_steps: typing.Optional[int] = setting(None, "steps of the equal-time arm (default: steps x the baseline's / importance's median step time, from seed 0's results, to a multiple of steps / evaluations)")
    saved_model: bool = setting(False, "also export each arm's TF-Hub SavedModel")
    transformers: bool = setting(False, "also export each arm's transformers checkpoint (hf/)")
    tasks: str = setting(",".join(TASKS), "comma-separated fine-tuning tasks: " + ", ".join(TASKS))
    finetune_steps: int = setting(300, "fine-tuning steps per task")
    finetune_seq_length: int = setting(64, "fine-tuning tokens per example")
    finetune_batch_size: int = setting(16, "fine-tuning batch size")
    finetune_learning_rate: float = setting(1e-4, "fine-tuning learning rate (constant; 3e-4 and 1e-3 left the 12-layer baseline a constant predictor)")
    finetune_runs: int = setting(1, "fine-tuning runs per task, seeds seed, seed + 1000, ...: the downstream accuracy is their mean, and the test accuracy of the run with the best dev accuracy is kept too")
    stage: str = setting("all", "all: pretrain, export and fine-tune; finetune: fine-tune a finished run's kept export again with this config's fine-tuning settings and replace its downstream results", choices=STAGES)

    def arm_list(self):
        return _names(self.arms)

    def task_list(self):
        return _names(self.tasks)

    def arm_dir(self, arm, seed=None):
        """The folder of one arm and seed's results."""
        seed = self.seed if seed is None else seed
        return os.path.join(self.output_dir, arm, f"seed{seed}")

    def arm_steps(self, arm):
        """Pretraining steps of `arm`: the equal-time arm gets the steps
        the baseline's training time (steps x median step) buys it."""
        if arm != EQUAL_TIME_ARM:
            return self.steps
        if self.equal_time_steps:
            return self.equal_time_steps
        ratio = []
        for other in ("baseline", "importance"):
            path = os.path.join(self.arm_dir(other, 0), RESULT_FILE)
            if not os.path.exists(path):
                raise ValueError(
                    f"The equal-time arm needs seed 0 of the baseline and "
                    f"importance arms ({path} is missing), or "
                    "`equal_time_steps`."
                )
            ratio.append(read_json(path)["pretrain"]["median_step_seconds"])
        steps = self.steps * ratio[0] / ratio[1]
        interval = self.steps // self.evaluations
        return max(self.steps, int(round(steps / interval)) * interval)

    def pretrain_config(self, arm):
        """The `PretrainConfig` of `arm` and this seed."""
        return PretrainConfig(
            architecture=self.architecture,
            size=self.size,
            num_layers=self.num_layers,
            seq_length=self.seq_length,
            batch_size=self.batch_size,
            steps=self.arm_steps(arm),
            learning_rate=self.learning_rate,
            checkpoint_every=self.steps // self.evaluations,
            eval_steps=self.eval_steps,
            log_every=max(self.steps // 10, 1),
            seed=self.seed,
            export_dir=os.path.join(self.arm_dir(arm), EXPORT_DIR),
            overwrite=True,
            saved_model=self.saved_model,
            transformers=self.transformers,
            **ARMS[arm],
        )

    def finetune_seeds(self):
        """The seeds of each task's fine-tuning runs (`finetune_runs`)."""
        return [self.seed + i * FINETUNE_SEED_STRIDE for i in range(self.finetune_runs)]

    def finetune_config(self, arm, task, seed=None):
        """The `FinetuneConfig` of `arm`'s export on `task`."""
        return FinetuneConfig(
            export_dir=os.path.join(self.arm_dir(arm), EXPORT_DIR),
            task=task,
            seq_length=self.finetune_seq_length,
            batch_size=self.finetune_batch_size,
            epochs=1,
            steps_per_epoch=self.finetune_steps,
            learning_rate=self.finetune_learning_rate,
            seed=self.seed if seed is None else seed,
        )

    def finetune_recipe(self):
        """The fine-tuning settings, recorded with every downstream result."""
        return {name: getattr(self, name) for name in FINETUNE_SETTINGS}

    def validate(self):
        arms, tasks = self.arm_list(), self.task_list()
        for kind, names, known in (("arm", arms, ARMS), ("task", tasks, TASKS)):
            if not names:
                raise ValueError(f"Name at least one {kind}; choose from {list(known)}.")
            for name in names:
                if name not in known:
                    raise ValueError(
                        f"Unknown {kind} {name!r}; choose from {list(known)}."
                    )
        if self.stage not in STAGES:
            raise ValueError(
                f"Unknown stage {self.stage!r}; choose one of {list(STAGES)}."
            )
        if self.finetune_runs < 1:
            raise ValueError(
                f"`finetune_runs` must be at least 1, got {self.finetune_runs}."
            )
        if self.steps % self.evaluations:
            raise ValueError(
                f"`steps` ({self.steps}) must be a multiple of `evaluations` "
                f"({self.evaluations}): each arm is evaluated on held-out data "
                "every steps / evaluations steps."
            )
        if self.equal_time_steps and self.equal_time_steps % (self.steps // self.evaluations):
            raise ValueError(
                "`equal_time_steps` must be a multiple of steps / "
                f"evaluations ({self.steps // self.evaluations})."
            )
        for arm in arms:
            if self.stage == "finetune":
                for name in (RESULT_FILE, os.path.join(EXPORT_DIR, PRESET_DIR)):
                    path = os.path.join(self.arm_dir(arm), name)
                    if not os.path.exists(path):
                        raise ValueError(
                            f"`stage='finetune'` re-runs the fine-tuning of a "
                            f"finished run, but {path} is missing: run the "
                            "whole arm first (`stage='all'`)."
                        )
            self.pretrain_config(arm).validate()
            for task in tasks:
                self.finetune_config(arm, task).validate()


@dataclasses.dataclass
class DemoConfig(StudyConfig):
    """`make demo`: baseline vs token dropping by importance, one seed,
    8 layers, 400 steps, fine-tuned on the sentiment set."""

    output_dir: str = setting("outputs/demo", "results, plots, exports")
    arms: str = setting("baseline,importance", "comma-separated arms: " + ", ".join(ARMS))
    num_layers: typing.Optional[int] = setting(8, "overrides the size")
    steps: int = setting(400, "pretraining steps per arm")
    evaluations: int = setting(4, "held-out evaluations along the way")
    saved_model: bool = setting(True, "also export each arm's TF-Hub SavedModel")
    transformers: bool = setting(True, "also export each arm's transformers checkpoint (hf/)")
    tasks: str = setting("sentiment", "comma-separated fine-tuning tasks: " + ", ".join(TASKS))
    finetune_steps: int = setting(250, "fine-tuning steps")
    finetune_batch_size: int = setting(32, "fine-tuning batch size")
    finetune_learning_rate: float = setting(2e-4, "fine-tuning learning rate")
