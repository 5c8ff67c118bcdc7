"""Every setting of a run, in one dataclass per kind of run.

A config is the whole description of a run: `pretrain(config)` needs nothing
else, `summary.json` stores it whole (`to_dict`), and `from_dict` (or
`pretrain.py --config summary.json`) repeats the run. The dataclass fields
are the defaults and the command-line flags (`tokdrop_keras.training.flags`).
"""

import dataclasses
import typing

from tokdrop_keras.data.pipelines import DATA_PIPELINES
from tokdrop_keras.data.pipelines import default_data_pipeline
from tokdrop_keras.export.layout import PRESET_DIR
from tokdrop_keras.export.layout import SAVED_MODEL_DIR
from tokdrop_keras.models.architectures import ARCHITECTURE_NAMES
from tokdrop_keras.models.token_drop_options import CONFIG
from tokdrop_keras.models.token_drop_options import OPTIONS_BY_NAME
from tokdrop_keras.models.token_drop_options import option_names

CONFIG_VERSION = 1
VERSION_KEY = "config_version"
STRATEGIES = (
    "default", "mirrored", "multi_worker_mirrored", "tpu", "data_parallel",
)
BACKENDS = ("auto", "tensorflow", "jax")
MIXED_PRECISION = ("none", "mixed_bfloat16", "mixed_float16")
JIT_COMPILE = ("auto", "true", "false")
DEFAULT_DATA_PIPELINE = default_data_pipeline()
BACKBONE_FIELDS = ("num_layers", "hidden_dim", "num_heads", "intermediate_dim")
# The export parts `finetune` can read the encoder from.
ENCODER_PARTS = (PRESET_DIR, SAVED_MODEL_DIR)


def setting(default, help, group=None, choices=None):
    """A dataclass field with its command-line help.

    Args:
        default: the default value.
        help: str. The flag's help text.
        group: str or `None`. The flag's group in `--help`.
        choices: the allowed values, or `None`.

    Example:
    ```python
    import dataclasses
    from tokdrop_keras.training.config import setting

    @dataclasses.dataclass
    class RunSettings:
        steps: int = setting(100, "training steps", "training")

    assert RunSettings().steps == 100
    field, = dataclasses.fields(RunSettings)
    assert field.metadata["help"] == "training steps"
    assert field.metadata["group"] == "training"
    ```
    """
    return dataclasses.field(
        default=default,
        metadata={"help": help, "group": group, "choices": choices},
    )


def option_setting(name):
    """The `setting` of a token-dropping option: its default and help from
    `tokdrop_keras.models.token_drop_options`, in the "model" group.

    Example:
    ```python
    from tokdrop_keras.training.config import option_setting
    field = option_setting("beta")
    assert field.default == 0.995 and field.metadata["group"] == "model"
    ```
    """
    option = OPTIONS_BY_NAME[name]
    return setting(option.default, option.help, "model", option.choices)


def _check_positive(config, names):
    for name in names:
        value = getattr(config, name)
        if value is not None and value <= 0:
            raise ValueError(f"`{name}` must be positive. Received: {name}={value}")


def check_backend_and_strategy(backend, strategy):
    """Raises unless `backend` is the Keras backend loaded and `strategy`
    one that backend has.

    Example:
    ```python
    from tokdrop_keras.training.config import check_backend_and_strategy
    check_backend_and_strategy("auto", "default")
    try:
        check_backend_and_strategy("auto", "data_parallel"
            if keras.backend.backend() == "tensorflow" else "mirrored")
        raise AssertionError("accepted another backend's strategy")
    except ValueError as error:
        assert "instead" in str(error)
    ```
    """
    import keras

    loaded = keras.backend.backend()
    if backend not in ("auto", loaded):
        raise ValueError(
            f"backend={backend!r} was asked for, but Keras was loaded with "
            f"{loaded!r}: set KERAS_BACKEND={backend} before anything imports "
            "keras (pretrain.py --backend does)."
        )
    if loaded == "jax" and strategy not in ("default", "data_parallel"):
        raise ValueError(
            f"strategy={strategy!r} is a tf.distribute strategy; on JAX use "
            "strategy='data_parallel' (keras.distribution.DataParallel over "
            "all local devices) instead."
        )
    if loaded == "tensorflow" and strategy == "data_parallel":
        raise ValueError(
            "strategy='data_parallel' is keras.distribution on JAX; on "
            "TensorFlow use 'mirrored' (or 'tpu', 'multi_worker_mirrored') "
            "instead."
        )


def _check_choice(config, name, choices):
    value = getattr(config, name)
    if value not in choices:
        raise ValueError(
            f"Unknown {name} {value!r}; choose one of {list(choices)}."
        )


class Config:
    """What every run config has: `to_dict`, `from_dict`, `replace`.

    Example:
    ```python
    import dataclasses
    from tokdrop_keras.training.config import Config
    from tokdrop_keras.training.config import setting

    @dataclasses.dataclass
    class RunSettings(Config):
        steps: int = setting(100, "training steps")
        seed: int = setting(0, "seed")

    config = RunSettings(steps=10)
    assert config.to_dict() == {"config_version": 1, "steps": 10, "seed": 0}
    assert RunSettings.from_dict(config.to_dict()) == config
    assert config.replace(seed=1).differences(config) == {"seed": (1, 0)}
    try:
        RunSettings.from_dict({"steps": 10, "learning_rate": 0.1})
        raise AssertionError("an unknown setting was accepted")
    except ValueError as error:
        assert "Unknown RunSettings settings ['learning_rate']" in str(error)
    ```
    """

    def to_dict(self):
        """The settings as a JSON-ready dict, with the config version."""
        return {VERSION_KEY: CONFIG_VERSION, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, values):
        """The config a `to_dict` (or `summary.json`'s `config`) holds.

        Raises:
            ValueError: for a config written by a newer version of the
                library, or one with settings this version does not know.
        """
        values = dict(values)
        version = values.pop(VERSION_KEY, CONFIG_VERSION)
        if not isinstance(version, int) or version > CONFIG_VERSION:
            raise ValueError(
                f"This config was written by a newer tokdrop_keras (config "
                f"version {version!r}; this one reads up to "
                f"{CONFIG_VERSION}): upgrade tokdrop_keras to use it."
            )
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"Unknown {cls.__name__} settings {unknown}; known: "
                f"{sorted(known)}."
            )
        return cls(**values)

    def replace(self, **changes):
        """A copy with `changes` applied."""
        return dataclasses.replace(self, **changes)

    def differences(self, other, ignore=()):
        """`{name: (self's value, other's value)}` of the differing settings."""
        return {
            field.name: (getattr(self, field.name), getattr(other, field.name))
            for field in dataclasses.fields(self)
            if field.name not in ignore
            and getattr(self, field.name) != getattr(other, field.name)
        }


@dataclasses.dataclass
class PretrainConfig(Config):
    """The settings of one pretraining run (`tokdrop_keras.pretrain`).

    Example:
    ```python
    config = tokdrop_keras.PretrainConfig(size="mini", steps=2000)
    config.validate()
    again = tokdrop_keras.PretrainConfig.from_dict(config.to_dict())
    assert again == config
    ```
    """

    # Model.
    init_from: typing.Optional[str] = setting(None, "continue pretraining a checkpoint: a Hugging Face folder (config.json, model.safetensors, tokenizer files), a keras-hub preset or an export of ours; architecture, sizes, dropout, activations and tokenizer come from it", "model")
    architecture: str = setting("bert", "keras-hub encoder: bert | roberta | xlm_roberta | distil_bert", "model", ARCHITECTURE_NAMES)
    size: str = setting("tiny", "model size, a row of tokdrop_keras.models.SIZES", "model")
    num_layers: typing.Optional[int] = setting(None, "overrides the size", "model")
    hidden_dim: typing.Optional[int] = setting(None, "overrides the size", "model")
    num_heads: typing.Optional[int] = setting(None, "overrides the size", "model")
    intermediate_dim: typing.Optional[int] = setting(None, "overrides the size", "model")
    dropout: float = setting(0.1, "dropout rate of the backbone", "model")
    # Token dropping: defaults and help from tokdrop_keras.models.token_drop_options.
    attention_dropout: typing.Optional[float] = option_setting("attention_dropout")
    token_drop: bool = option_setting("token_drop")
    keep_fraction: float = option_setting("keep_fraction")
    first_dropped_layer: typing.Optional[int] = option_setting("first_dropped_layer")
    selection: str = option_setting("selection")
    random_fraction: float = option_setting("random_fraction")
    initial_importance: float = option_setting("initial_importance")
    beta: float = option_setting("beta")
    keep_schedule: typing.Optional[str] = option_setting("keep_schedule")
    consistency_weight: float = option_setting("consistency_weight")
    consistency_every: int = option_setting("consistency_every")

    # Data.
    data: str = setting("embedded", "embedded | text glob (gs:// ok) | tfrecord:GLOB | model_garden:GLOB | tfds:NAME", "data")
    vocabulary: typing.Optional[str] = setting(None, "the tokenizer's vocabulary: WordPiece vocab.txt (bert, distil_bert), folder of vocab.json + merges.txt (roberta), SentencePiece .model (xlm_roberta); default: the shipped one", "data")
    seq_length: int = setting(128, "tokens per sequence", "data")
    batch_size: int = setting(32, "global batch size", "data")
    data_pipeline: str = setting(DEFAULT_DATA_PIPELINE, "tf.data (TensorFlow) | grain (no TensorFlow); default: tf.data where TensorFlow is installed", "data", DATA_PIPELINES)
    data_workers: int = setting(0, "grain: processes that tokenize and pack (0: the training process)", "data")
    data_shards: int = setting(0, "grain: shards of the documents, one part of each in every global batch (0: one per process); the same data_shards reads the same batches on any number of processes", "data")

    # Training.
    steps: int = setting(1000, "training steps", "training")
    learning_rate: float = setting(5e-4, "peak learning rate", "training")
    warmup_fraction: float = setting(0.1, "share of the steps spent warming up", "training")
    seed: int = setting(0, "seed of weights, data order and tie-breaking", "training")
    jit_compile: str = setting("auto", "XLA: auto = on GPU/TPU only", "training", JIT_COMPILE)
    mixed_precision: str = setting("none", "Keras dtype policy", "training", MIXED_PRECISION)
    backend: str = setting("auto", "Keras backend; auto = the one loaded (KERAS_BACKEND)", "training", BACKENDS)
    strategy: str = setting("default", "default | data_parallel (JAX) | mirrored, multi_worker_mirrored, tpu (TensorFlow)", "training", STRATEGIES)
    tpu: str = setting("", "TPU address or name for --strategy tpu", "training")
    checkpoint_every: int = setting(200, "steps between checkpoints (and evaluations)", "training")
    eval_steps: int = setting(20, "held-out batches per evaluation", "training")
    log_every: int = setting(50, "steps between log lines", "training")

    # Output.
    model_dir: typing.Optional[str] = setting(None, "logs, checkpoints, resume state (local or gs://)", "output")
    export_dir: typing.Optional[str] = setting(None, "preset + SavedModel + importance table", "output")
    overwrite: bool = setting(False, "replace a non-empty --export_dir", "output")
    saved_model: bool = setting(True, "also export the TF-Hub SavedModel (needs TensorFlow installed)", "output")
    transformers: bool = setting(True, "also export a Hugging Face transformers checkpoint (hf/)", "output")

    # Settings a resumed run may change: they do not change what is trained.
    RESUMABLE_CHANGES: typing.ClassVar[tuple] = (
        "eval_steps", "log_every", "tpu", "model_dir", "export_dir", "overwrite",
        "saved_model", "transformers",
    )

    # The settings a checkpoint (`init_from`) fixes: given with it, an error.
    CHECKPOINT_FIXES: typing.ClassVar[tuple] = (
        "size", "vocabulary", "dropout",
    ) + BACKBONE_FIELDS

    def _check_init_from(self):
        """The checkpoint's architecture and number of layers, after
        checking that no setting it fixes was given."""
        from tokdrop_keras.models.checkpoints import find_checkpoint
        from tokdrop_keras.models.checkpoints import checkpoint_num_layers

        defaults = type(self)()
        given = [
            name for name in self.CHECKPOINT_FIXES
            if getattr(self, name) != getattr(defaults, name)
        ]
        if given:
            raise ValueError(
                f"`init_from` fixes the model's architecture, sizes, dropout "
                f"and tokenizer; do not also set {given}."
            )
        _, folder, architecture = find_checkpoint(self.init_from)
        if self.architecture not in (defaults.architecture, architecture):
            raise ValueError(
                f"`init_from` {self.init_from} is a {architecture}; "
                f"`architecture={self.architecture!r}` contradicts it."
            )
        return {"num_layers": checkpoint_num_layers(self.init_from)}

    def resolved(self):
        """This config with `architecture` read from `init_from`."""
        if not self.init_from:
            return self
        from tokdrop_keras.models.checkpoints import find_checkpoint

        return self.replace(architecture=find_checkpoint(self.init_from)[2])

    def backbone_overrides(self):
        """The size fields set explicitly, and the dropout."""
        overrides = {
            name: getattr(self, name)
            for name in BACKBONE_FIELDS
            if getattr(self, name) is not None
        }
        return {**overrides, "dropout": self.dropout}

    @property
    def checkpoint_interval(self):
        """Steps per checkpoint (a Keras epoch): at most `steps`."""
        return min(self.checkpoint_every, self.steps)

    def parsed_keep_schedule(self):
        """`keep_schedule` as a `tokdrop_keras.models.KeepSchedule` over
        `steps`, or `None`."""
        from tokdrop_keras.models.keep_schedule import KeepSchedule

        if not self.keep_schedule:
            return None
        return KeepSchedule.from_spec(self.keep_schedule, self.steps)

    def token_drop_options(self):
        """The token-dropping options of the model (`TokenDropMaskedLM`'s
        arguments): every one this config has, the schedule parsed, and
        the run's seed."""
        options = {name: getattr(self, name) for name in option_names(CONFIG)}
        options["keep_schedule"] = self.parsed_keep_schedule()
        return dict(options, seed=self.seed)

    def _check_data_pipeline(self):
        from tokdrop_keras.backend import tensorflow_installed
        from tokdrop_keras.data.grain_pipeline import TF_DATA_ONLY_PREFIXES

        _check_choice(self, "data_pipeline", DATA_PIPELINES)
        if self.data_pipeline == "tf.data" and not tensorflow_installed():
            raise ValueError(
                "data_pipeline='tf.data' needs TensorFlow, which is not "
                "installed: use data_pipeline='grain'."
            )
        if self.data_pipeline == "grain":
            if self.data.startswith(TF_DATA_ONLY_PREFIXES):
                raise ValueError(
                    f"data={self.data!r} is read by the tf.data pipeline "
                    "only (it needs TensorFlow): use data_pipeline='tf.data', "
                    "or a text or 'tfrecord:' source."
                )
            if self.strategy in ("mirrored", "multi_worker_mirrored", "tpu"):
                raise ValueError(
                    f"strategy={self.strategy!r} (tf.distribute) reads "
                    "tf.data: use data_pipeline='tf.data', or "
                    "strategy='data_parallel' on JAX."
                )
        if self.data_shards < 0 or (
            self.data_shards and self.data_pipeline != "grain"
        ):
            raise ValueError(
                "`data_shards` is the Grain pipeline's number of document "
                f"shards (>= 0). Received: data_shards={self.data_shards}"
                f" with data_pipeline={self.data_pipeline!r}"
            )
        if self.data_shards and self.batch_size % self.data_shards:
            raise ValueError(
                f"`batch_size` ({self.batch_size}) must be a multiple of "
                f"`data_shards` ({self.data_shards}): each global batch holds "
                "as many rows of every shard."
            )
        if self.data_workers < 0 or (
            self.data_workers and self.data_pipeline != "grain"
        ):
            raise ValueError(
                "`data_workers` is the Grain pipeline's number of worker "
                f"processes (>= 0). Received: data_workers={self.data_workers}"
                f" with data_pipeline={self.data_pipeline!r}"
            )

    def validate(self):
        """Checks every setting that can be checked before training.

        The folders are checked by `pretrain` itself (`check_output_paths`).

        Raises:
            ValueError: naming the first bad setting.
        """
        from tokdrop_keras.models.architectures import get_architecture
        from tokdrop_keras.models.layout import token_drop_layout
        from tokdrop_keras.models.sizes import size_config
        from tokdrop_keras.models.token_drop_options import check_token_drop_options

        _check_choice(self, "architecture", ARCHITECTURE_NAMES)
        if self.init_from:
            shape = self._check_init_from()
        else:
            shape = size_config(
                self.size,
                backbone_class=get_architecture(self.architecture).backbone_class,
                **self.backbone_overrides(),
            )
        _check_choice(self, "backend", BACKENDS)
        _check_choice(self, "strategy", STRATEGIES)
        check_backend_and_strategy(self.backend, self.strategy)
        _check_choice(self, "mixed_precision", MIXED_PRECISION)
        _check_choice(self, "jit_compile", JIT_COMPILE)
        if self.strategy == "tpu" and not self.tpu:
            raise ValueError("strategy 'tpu' needs `tpu` (an address or name).")
        self._check_data_pipeline()
        _check_positive(
            self,
            BACKBONE_FIELDS + (
                "steps", "batch_size", "seq_length", "checkpoint_every",
                "eval_steps", "log_every", "learning_rate",
            ),
        )
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise ValueError(
                "`warmup_fraction` must be in [0, 1). Received: "
                f"warmup_fraction={self.warmup_fraction}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(
                f"`dropout` must be in [0, 1). Received: dropout={self.dropout}"
            )
        if self.attention_dropout is not None and not (
            0.0 <= self.attention_dropout < 1.0
            and (self.attention_dropout == 0.0 or self.dropout > 0.0)
        ):
            raise ValueError(
                "`attention_dropout` must be in [0, 1), and 0 when `dropout` "
                f"is 0. Received: attention_dropout={self.attention_dropout}, "
                f"dropout={self.dropout}"
            )
        options = self.token_drop_options()
        check_token_drop_options(shape["num_layers"], **options)
        token_drop_layout(
            shape["num_layers"],
            self.seq_length,
            keep_fraction=self.keep_fraction,
            first_dropped_layer=self.first_dropped_layer,
        )
        if options["keep_schedule"] is not None:
            options["keep_schedule"].check_sequence_length(self.seq_length)
        # Keras epochs are the checkpoint intervals; a partial last one would
        # train past `steps` (and past the end of the learning-rate schedule).
        if self.steps > self.checkpoint_every and self.steps % self.checkpoint_every:
            raise ValueError(
                f"`steps` ({self.steps}) must be a multiple of "
                f"`checkpoint_every` ({self.checkpoint_every})."
            )


@dataclasses.dataclass
class FinetuneConfig(Config):
    """The settings of one fine-tuning run (`tokdrop_keras.finetune`).

    Example:
    ```python
    config = tokdrop_keras.FinetuneConfig(export_dir="exports/mini", epochs=2)
    config.validate()
    ```
    """

    export_dir: typing.Optional[str] = setting(None, "an export_pretrained folder, or its preset/ or saved_model/ folder")
    encoder: str = setting(PRESET_DIR, "which export format to fine-tune", choices=ENCODER_PARTS)
    task: str = setting("sentiment", "sentiment, or glue/TASK (tokdrop_keras.data.classification_tasks())")
    vocabulary: typing.Optional[str] = setting(None, "vocabulary the task data must match (default: the export's)")
    seq_length: int = setting(128, "tokens per example")
    batch_size: int = setting(32, "batch size")
    epochs: int = setting(3, "epochs (early stopping on dev accuracy)")
    learning_rate: float = setting(1e-4, "AdamW learning rate")
    patience: int = setting(1, "early-stopping patience (epochs)")
    steps_per_epoch: typing.Optional[int] = setting(None, "default: one pass over the training set")
    seed: int = setting(0, "seed")
    data_dir: typing.Optional[str] = setting(None, "TFDS data directory for GLUE")
    data_pipeline: str = setting(DEFAULT_DATA_PIPELINE, "tf.data (TensorFlow) | grain (no TensorFlow; sentiment and adjacent_sentences)", choices=DATA_PIPELINES)
    output_file: typing.Optional[str] = setting(None, "also write the summary JSON here")

    def validate(self):
        """Checks the settings before anything is loaded.

        Raises:
            ValueError: naming the first bad setting.
        """
        from tokdrop_keras.data.downstream import classification_tasks

        if not self.export_dir:
            raise ValueError("`export_dir` is required: the folder to fine-tune.")
        _check_choice(self, "encoder", ENCODER_PARTS)
        _check_choice(self, "task", tuple(classification_tasks()))
        _check_positive(
            self,
            ("seq_length", "batch_size", "epochs", "learning_rate", "steps_per_epoch"),
        )
        _check_choice(self, "data_pipeline", DATA_PIPELINES)
        if self.data_pipeline == "grain" and self.task.startswith("glue/"):
            raise ValueError(
                f"task={self.task!r} is read from TFDS, which needs "
                "TensorFlow: use data_pipeline='tf.data'."
            )
        if self.patience < 0:
            raise ValueError(f"`patience` must be >= 0. Received: {self.patience}")
