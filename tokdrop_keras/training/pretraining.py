"""`pretrain(config)`: one masked-LM pretraining run, top to bottom."""

import contextlib
import dataclasses
import os
import sys
import tempfile
import time

import keras

from tokdrop_keras.backend import reset_data_seed
from tokdrop_keras.backend import tensorflow_installed
from tokdrop_keras.data.grain_pipeline import read_source_documents
from tokdrop_keras.data.pipelines import has_validation_split
from tokdrop_keras.data.pipelines import masked_lm_dataset
from tokdrop_keras.data.tokenizers import load_tokenizer
from tokdrop_keras.export.atomic_directory import check_output_directory
from tokdrop_keras.export.atomic_directory import check_writable_directory
from tokdrop_keras.export.export import export_pretrained
from tokdrop_keras.export.importance_table import restore_importance_table
from tokdrop_keras.export.layout import find_importance_table
from tokdrop_keras.export.layout import PRESET_DIR
from tokdrop_keras.export.layout import SAVED_MODEL_DIR
from tokdrop_keras.export.saved_model import CONVERT_COMMAND
from tokdrop_keras.export.transformers_export import check_transformers_numerics
from tokdrop_keras.models.sizes import backbone_for_size
from tokdrop_keras.models.token_drop_masked_lm import TokenDropMaskedLM
from tokdrop_keras.optimizers import bert_adamw
from tokdrop_keras.special_tokens import special_token_ids
from tokdrop_keras.special_tokens import tokens_by_id
from tokdrop_keras.training.callbacks import StopOnNonFiniteLoss
from tokdrop_keras.training.callbacks import TrainingLog
from tokdrop_keras.training.distribution import check_batch_size
from tokdrop_keras.training.distribution import make_strategy
from tokdrop_keras.training.distribution import is_chief
from tokdrop_keras.training.distribution import process_shard
from tokdrop_keras.training.run_directory import LOG_DIR
from tokdrop_keras.training.run_directory import RunDirectory

JIT_COMPILE_VALUES = {"auto": "auto", "true": True, "false": False}


@dataclasses.dataclass
class PretrainResult:
    """What `pretrain` returns.

    Attributes:
        model: the trained `TokenDropMaskedLM`; `model.backbone` is the
            plain keras-hub backbone.
        tokenizer: the keras-hub tokenizer it was trained with.
        summary: dict: the config, steps, timings, loss curve, held-out
            metrics, paths (what `summary.json` holds).

    Example:
    ```python
    import dataclasses
    fields = dataclasses.fields(tokdrop_keras.PretrainResult)
    assert [field.name for field in fields] == ["model", "tokenizer", "summary"]
    result = tokdrop_keras.PretrainResult(
        model=None, tokenizer=None, summary={"steps": 2, "eval_loss": 7.5}
    )
    assert result.eval_loss == 7.5  # None for a run without held-out data
    ```
    """

    model: keras.Model
    tokenizer: object
    summary: dict

    @property
    def eval_loss(self):
        return self.summary.get("eval_loss")


def check_output_paths(config):
    """Checks `model_dir` and `export_dir` before anything is trained.

    Raises:
        ValueError: if `model_dir` is not writable, or `export_dir` is not
            empty and `overwrite` is not set.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.training.pretraining import check_output_paths
    export_dir = tempfile.mkdtemp()
    open(os.path.join(export_dir, "old_export.txt"), "w").close()
    config = tokdrop_keras.PretrainConfig(
        model_dir=os.path.join(tempfile.mkdtemp(), "run"), export_dir=export_dir
    )
    try:
        check_output_paths(config)
        raise AssertionError("a non-empty export_dir was accepted")
    except ValueError as error:
        assert "is not empty" in str(error)
    check_output_paths(config.replace(overwrite=True))
    assert os.path.isdir(config.model_dir)  # created, and writable
    ```
    """
    if config.model_dir:
        check_writable_directory(config.model_dir)
    if config.export_dir:
        check_output_directory(config.export_dir, config.overwrite)


def build_masked_lm(config, tokenizer):
    """The compiled `TokenDropMaskedLM` a config describes (in the current
    strategy scope).

    Example:
    ```python
    from tokdrop_keras.training.pretraining import build_masked_lm
    tokenizer = tokdrop_keras.data.load_tokenizer("bert")
    config = tokdrop_keras.PretrainConfig(
        size="nano", num_layers=2, seq_length=16, steps=10
    )
    model = build_masked_lm(config, tokenizer)
    assert model.token_drop_backbone is not None  # config.token_drop
    assert isinstance(model.backbone, keras_hub.models.BertBackbone)
    assert model.backbone.num_layers == 2 and model.backbone.hidden_dim == 64
    assert model.backbone.vocabulary_size == tokenizer.vocabulary_size()
    assert model.compiled
    tokenizer = tokdrop_keras.data.load_tokenizer("roberta")
    model = build_masked_lm(config.replace(architecture="roberta"), tokenizer)
    assert isinstance(model.backbone, keras_hub.models.RobertaBackbone)
    assert model.always_drop_ids == [tokenizer.pad_token_id]  # <pad>: 1
    ```
    """
    options = config.token_drop_options()
    if config.init_from:
        model = continued_masked_lm(config, tokenizer, **options)
    else:
        backbone = backbone_for_size(
            config.size,
            vocabulary_size=tokenizer.vocabulary_size(),
            max_sequence_length=config.seq_length,
            seed=config.seed,
            architecture=config.architecture,
            **config.backbone_overrides(),
        )
        model = TokenDropMaskedLM(
            backbone, **options, **special_token_ids(tokenizer)
        )
    model.compile(
        optimizer=bert_adamw(
            config.learning_rate,
            total_steps=config.steps,
            warmup_steps=int(config.warmup_fraction * config.steps),
        ),
        jit_compile=JIT_COMPILE_VALUES[config.jit_compile],
    )
    return model


def continued_masked_lm(config, tokenizer, **options):
    """The `TokenDropMaskedLM` of `config.init_from` (a Hugging Face or
    keras-hub checkpoint, or our export), its importance table from the
    export's `importance.tsv` if there is one, else at its initial value;
    says which.

    Raises:
        ValueError: `seq_length` longer than the checkpoint's positions,
            or a tokenizer other than the checkpoint's.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.training.pretraining import continued_masked_lm
    tokenizer = tokdrop_keras.load_tokenizer("bert")
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=tokenizer.vocabulary_size(),
        max_sequence_length=16, num_layers=2,
    )
    model = tokdrop_keras.TokenDropMaskedLM(
        backbone, **tokdrop_keras.special_token_ids(tokenizer)
    )
    export_dir = os.path.join(tempfile.mkdtemp(), "export")
    tokdrop_keras.export.export_pretrained(
        model, tokenizer, export_dir, sequence_length=16, saved_model=False
    )
    config = tokdrop_keras.PretrainConfig(init_from=export_dir, seq_length=16)
    again = continued_masked_lm(config.resolved(), tokenizer)  # "continues from"
    assert again.backbone.num_layers == 2
    ```
    """
    keras.utils.set_random_seed(config.seed)  # a fresh head or pooler
    model = TokenDropMaskedLM.from_preset(config.init_from, **options)
    backbone = model.backbone
    if config.seq_length > backbone.max_sequence_length:
        raise ValueError(
            f"`seq_length={config.seq_length}` is longer than the "
            f"{backbone.max_sequence_length} positions of {config.init_from}."
        )
    if special_token_ids(tokenizer) != {
        "always_keep_ids": model.always_keep_ids,
        "always_drop_ids": model.always_drop_ids,
    }:
        raise ValueError(f"The tokenizer is not that of {config.init_from}.")
    table = find_importance_table(config.init_from)
    if table:
        restore_importance_table(
            model.importance_tracker, table, tokens_by_id(tokenizer)
        )
        print(
            f"tokdrop_keras: the importance table continues from {table}.",
            flush=True,
        )
    else:
        print(
            f"tokdrop_keras: {config.init_from} holds no importance table: "
            f"it starts at {config.initial_importance} for every token.",
            flush=True,
        )
    return model


def _describe_data_loss(config, run, error):
    """What to say when a record file turned out unreadable mid-run."""
    from tokdrop_keras.data.pretraining import record_pattern
    from tokdrop_keras.data.tfrecords import find_unreadable_record

    pattern = record_pattern(config.data)
    found = find_unreadable_record(pattern) if pattern else None
    where = (
        f"{found[0]}, record {found[1]} ({found[2]})"
        if found
        else str(error).splitlines()[0]
    )
    kept = (
        f" Training stopped; the checkpoints in {config.model_dir} are "
        "intact: fix or drop the file and run again to resume."
        if run
        else ""
    )
    return f"Unreadable training data: {where}.{kept}"


def _data_loss_error():
    """TensorFlow's error for an unreadable record (tf.data), or one that
    nothing raises (the Grain pipeline's readers name file and record)."""
    if not tensorflow_installed():
        return ()
    import tensorflow as tf

    return tf.errors.DataLossError


@contextlib.contextmanager
def global_dtype_policy(name):
    """Keras' global dtype policy is `name` inside (`"none"`: as it is),
    and the caller's again after.

    Example:
    ```python
    from tokdrop_keras.training.pretraining import global_dtype_policy
    with global_dtype_policy("mixed_bfloat16"):
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"
    ```
    """
    caller = keras.mixed_precision.global_policy()
    if name != "none":
        keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(caller)


def pretraining_datasets(config, tokenizer):
    """`(train, twin, eval)`: the training data, a twin of it (to check
    the first batch without moving the training data's shuffles on), and
    the held-out batches (or None), in the order of a fresh process.

    Example:
    ```python
    from tokdrop_keras.training.pretraining import pretraining_datasets
    config = tokdrop_keras.PretrainConfig(seq_length=16, batch_size=2, eval_steps=3)
    tokenizer = tokdrop_keras.load_tokenizer("bert")
    train, twin, held_out = pretraining_datasets(config, tokenizer)
    first = next(iter(train))[0]["token_ids"].numpy()
    assert (next(iter(twin))[0]["token_ids"].numpy() == first).all()
    assert first.shape == (2, 16) and len(list(held_out)) == 3
    ```
    """
    # Their shuffles also read TensorFlow's global seed, which building a
    # model sets: reset it, so that every run reads the data in the same
    # order (the second arm of a comparison and a resumed run included).
    reset_data_seed()
    options = dict(
        source=config.data,
        sequence_length=config.seq_length,
        batch_size=config.batch_size,
        architecture=config.architecture,
        tokenizer=tokenizer,
        seed=config.seed,
        max_sequence_length=config.seq_length,
    )

    def dataset(split, **more):
        if config.data_pipeline == "grain":
            # Read once; each process reads its shard (multi-host runs).
            shards, shard_count = data_shards(config)
            more.update(
                documents=read_source_documents(config.data, split),
                workers=config.data_workers if split == "train" else 0,
                # Each process reads its part of the global batch.
                batch_size=config.batch_size * len(shards) // shard_count,
                shard_index=shards,
                shard_count=shard_count,
            )
        return masked_lm_dataset(
            config.data_pipeline, split=split, **{**options, **more}
        )

    with global_dtype_policy("float32"):  # the masking layers stay float32
        train = dataset("train")
        # Grain's datasets start afresh on every iteration: no twin needed.
        twin = train if config.data_pipeline == "grain" else dataset("train")
        held_out = None
        if has_validation_split(config.data):
            held_out = dataset(
                "validation", repeat=False, shuffle=False
            ).take(config.eval_steps)
            if config.data_pipeline == "tf.data":
                held_out = held_out.cache()
    return train, twin, held_out


def data_shards(config):
    """`(shards, shard_count)`: the document shards this process reads
    (a contiguous block, so that the processes' rows in process order are
    the shards in order) and their number (`config.data_shards`, or one per
    process).

    Raises:
        ValueError: if the processes cannot share the shards out evenly.

    Example:
    ```python
    from tokdrop_keras.training.pretraining import data_shards
    config = tokdrop_keras.PretrainConfig(data_pipeline="grain", data_shards=2)
    assert data_shards(config) == ((0, 1), 2)  # one process reads both
    ```
    """
    shard = process_shard()
    processes = shard["shard_count"]
    if processes > 1 and config.data_pipeline != "grain":
        raise ValueError(
            f"{processes} processes each read their shard of the data with "
            "the Grain pipeline: use data_pipeline='grain' (tf.data reads "
            "the whole stream in every process)."
        )
    count = config.data_shards or processes
    if count % processes or config.batch_size % count:
        raise ValueError(
            f"data_shards={count} cannot be shared out evenly to {processes} "
            f"processes and batch_size={config.batch_size} rows."
        )
    per_process = count // processes
    first = shard["shard_index"] * per_process
    return tuple(range(first, first + per_process)), count


def data_state_key(config):
    """The name of this process's data in `model_dir/data_state/`: its
    shards, of how many.

    Example:
    ```python
    from tokdrop_keras.training.pretraining import data_state_key
    config = tokdrop_keras.PretrainConfig(data_pipeline="grain", data_shards=2)
    assert data_state_key(config) == "shards0-1of2"
    ```
    """
    shards, count = data_shards(config)
    return f"shards{shards[0]}-{shards[-1]}of{count}"


class SaveDataState(keras.callbacks.Callback):
    """Saves the Grain pipeline's position at every checkpoint (epoch end),
    before the checkpoint itself: `RunDirectory.save_data_state`.

    Args:
        run: the `RunDirectory`.
        dataset: the training batches (`state_at`).
        key: this process's data (`data_state_key`).

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data.grain_pipeline import grain_pretraining_dataset
    from tokdrop_keras.training.pretraining import SaveDataState
    run = tokdrop_keras.training.RunDirectory(tempfile.mkdtemp())
    data = grain_pretraining_dataset(sequence_length=16, batch_size=2)
    batches = iter(data)
    next(batches), next(batches)
    callback = SaveDataState(run, data, "shards0-0of1")
    callback.save(2)
    assert run.read_data_state(2, "shards0-0of1")["index"] == 2
    ```
    """

    def __init__(self, run, dataset, key):
        super().__init__()
        self.run, self.dataset, self.key = run, dataset, key

    def save(self, step):
        state = self.dataset.state_at(step)
        if state is not None:
            self.run.save_data_state(step, self.key, state)

    def on_epoch_end(self, epoch, logs=None):
        self.save(int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)))


def pretrain(config, callbacks=()):
    """Pretrains a masked LM with token dropping (or the baseline).

    Strategy, data, model, resume, callbacks, periodic full-model
    evaluation, export and summary, in that order. With `model_dir`, a
    checkpoint is written every `checkpoint_every` steps and the same call
    resumes from the latest one (refusing a `model_dir` whose run had other
    settings); with `export_dir`, the result is exported for fine-tuning
    (`tokdrop_keras.export.export_pretrained`). `config.mixed_precision`
    applies to the run only: Keras' global dtype policy is the caller's
    again when it returns.

    Args:
        config: a `tokdrop_keras.PretrainConfig`.
        callbacks: more Keras callbacks for `fit`.

    Returns:
        A `PretrainResult`.

    Example:
    ```python
    result = tokdrop_keras.pretrain(tokdrop_keras.PretrainConfig(
        size="nano", num_layers=2, seq_length=32, batch_size=4, steps=2,
        eval_steps=1,
    ))
    assert result.summary["steps"] == 2
    ```
    """
    # Everything that can fail on bad input fails here, before training.
    config.validate()
    config = config.resolved()  # the architecture of `init_from`
    chief = is_chief()  # of several processes, the one that writes
    if chief:
        check_output_paths(config)
    run = RunDirectory(config.model_dir, writer=chief) if config.model_dir else None
    if run is not None:
        run.claim(config)
    strategy = make_strategy(config.strategy, config.tpu)
    data_shards(config)  # raises if the processes cannot share the data out
    check_batch_size(config.batch_size, strategy, config.strategy)
    tokenizer = load_tokenizer(
        config.init_from or config.architecture, config.vocabulary
    )
    with global_dtype_policy(config.mixed_precision):
        # The model; a resumed run loads its latest checkpoint into it and
        # continues the same data stream where it stopped. Built before the
        # data: building it seeds TensorFlow (keras.utils.set_random_seed),
        # which drops the kernels of tf.data pipelines built earlier (with
        # them tf-text's SentencePiece model).
        with strategy.scope():
            model = build_masked_lm(config, tokenizer)
            if config.export_dir and config.transformers:
                check_transformers_numerics(model)  # else the export would fail
            model.optimizer.build(model.trainable_variables)
            resumed_steps = run.restore(model) if run is not None else 0
        train_data, twin_data, eval_data = pretraining_datasets(config, tokenizer)
        # A Grain run resumes at its recorded position (one shuffle window
        # to refill), not by re-reading every batch before it.
        data_key = data_state_key(config)
        resumed_data = None
        if run is not None and hasattr(train_data, "restored"):
            if resumed_steps:
                resumed_data = run.read_data_state(resumed_steps, data_key)
            if resumed_data is not None:
                train_data = twin_data = train_data.restored(resumed_data)

        # Callbacks: the non-finite-loss guard, logs, checkpoints, TensorBoard.
        guard = StopOnNonFiniteLoss()
        log = TrainingLog(
            batch_size=config.batch_size,
            sequence_length=config.seq_length,
            log_every=config.log_every,
            log_dir=run.path(os.path.join(LOG_DIR, "throughput")) if run else None,
        )
        all_callbacks = [guard, log, *callbacks]
        if run is not None:
            if hasattr(train_data, "state_at"):  # before the checkpoint
                all_callbacks.append(SaveDataState(run, train_data, data_key))
            all_callbacks.append(run.checkpoint_callback())
            if tensorflow_installed():  # Keras' TensorBoard writes with TF
                all_callbacks.append(
                    keras.callbacks.TensorBoard(
                        run.path(LOG_DIR), update_freq=config.log_every
                    )
                )

        # Training: each Keras epoch is one checkpoint interval, with a
        # full-model evaluation on the held-out split at its end. The first
        # batch is checked on a twin of the training data (reading the
        # training data itself would move its shuffles on).
        interval = config.checkpoint_interval
        start = time.perf_counter()
        try:
            skipped = 0 if resumed_data is not None else resumed_steps
            model.check_first_batch(twin_data.skip(skipped))
            with strategy.scope():  # on JAX, fit shards batches by it
                history = model.fit(
                    train_data.skip(skipped),
                    check_first_batch=False,
                    initial_epoch=resumed_steps // interval,
                    epochs=-(-config.steps // interval),
                    steps_per_epoch=interval,
                    validation_data=eval_data,
                    validation_steps=config.eval_steps if eval_data is not None else None,
                    callbacks=all_callbacks,
                    verbose=1 if sys.stdout.isatty() else 0,
                )
        except _data_loss_error() as error:
            raise ValueError(_describe_data_loss(config, run, error)) from error
        train_seconds = time.perf_counter() - start
        guard.raise_if_stopped(run.saved_step if run else None, config.model_dir)

        # Summary, final evaluation, export.
        summary = dict(
            config=config.to_dict(),
            token_drop=config.token_drop,
            steps=int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
            resumed_from_step=resumed_steps,
            # How the data stream got back to that step: its recorded
            # position, or re-reading the batches before it.
            resumed_data_from=(
                None if not resumed_steps
                else "recorded position" if resumed_data is not None
                else "re-read"
            ),
            train_seconds=train_seconds,
            **log.summary(history.history.get("loss")),
        )
        if eval_data is not None:
            with strategy.scope():
                evaluation = model.evaluate(eval_data, return_dict=True, verbose=0)
            summary["eval_loss"] = evaluation["loss"]
            summary["eval_accuracy"] = evaluation["accuracy"]
        if config.export_dir:
            saved_model = config.saved_model and tensorflow_installed()
            if config.saved_model and not saved_model and chief:
                command = CONVERT_COMMAND.replace(
                    "PRESET_DIR", os.path.join(config.export_dir, PRESET_DIR)
                ).replace(
                    "OUTPUT_DIR", os.path.join(config.export_dir, SAVED_MODEL_DIR)
                )
                print(
                    "tokdrop_keras: SavedModel skipped (TensorFlow is not "
                    "installed); make it later where TensorFlow is, with "
                    f"saved_model_from_preset: {command}",
                    flush=True,
                )
            # Every process exports (reading sharded values may be a
            # collective); the others into a folder they then remove.
            with contextlib.ExitStack() as stack:
                export_dir = config.export_dir
                if not chief:
                    export_dir = os.path.join(
                        stack.enter_context(tempfile.TemporaryDirectory()), "export"
                    )
                export_pretrained(
                    model,
                    tokenizer,
                    export_dir,
                    sequence_length=config.seq_length,
                    overwrite=config.overwrite,
                    saved_model=saved_model and chief,
                    transformers=config.transformers,
                )
            summary["export_dir"] = config.export_dir
    if run is not None:
        run.write_summary(summary)
    return PretrainResult(model=model, tokenizer=tokenizer, summary=summary)
