"""Pretrains a BERT masked LM with token dropping (or the baseline).

Runs with no arguments: a `tiny` model on the embedded corpus. Examples:

    python experiments/pretrain.py --preset mini --steps 20000 \\
        --model_dir runs/mini --export_dir exports/mini
    python experiments/pretrain.py --notoken_drop ...          # baseline
    python experiments/pretrain.py --strategy tpu --tpu local \\
        --mixed_precision mixed_bfloat16 --data 'gs://bucket/text/*.txt' \\
        --model_dir gs://bucket/runs/base --preset base --seq_length 512
"""

import argparse
import json
import os
import sys
import time
import uuid

import tokdrop_keras  # noqa: F401  (sets the Keras backend)

import keras
import tensorflow as tf

from tokdrop_keras import TokenDropBertMaskedLM
from tokdrop_keras import special_token_ids
from tokdrop_keras.data import bert_tokenizer
from tokdrop_keras.data import load_vocabulary
from tokdrop_keras.data import pretraining_dataset
from tokdrop_keras.export import check_output_directory
from tokdrop_keras.export import export_pretrained
from tokdrop_keras.models.presets import BACKBONE_PRESETS
from tokdrop_keras.models.presets import bert_backbone
from tokdrop_keras.training.callbacks import TrainingLog
from tokdrop_keras.training.optimizer import bert_adamw

STRATEGIES = ("default", "mirrored", "multi_worker_mirrored", "tpu")
SUMMARY_FILE = "summary.json"
BACKBONE_FIELDS = ("num_layers", "hidden_dim", "num_heads", "intermediate_dim")


def build_parser():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    model = parser.add_argument_group("model")
    model.add_argument("--preset", default="tiny", help=f"one of {sorted(BACKBONE_PRESETS)}")
    for field in BACKBONE_FIELDS:
        model.add_argument(f"--{field}", type=int, help="overrides the preset")
    model.add_argument("--dropout", type=float, default=0.1)
    model.add_argument("--token_drop", dest="token_drop", action="store_true", default=True)
    model.add_argument("--notoken_drop", dest="token_drop", action="store_false", help="train the full-length baseline")
    model.add_argument("--keep_fraction", type=float, default=0.5)
    model.add_argument("--first_dropped_layer", type=int, help="default: num_layers // 2")

    data = parser.add_argument_group("data")
    data.add_argument(
        "--data", default="embedded",
        help="embedded | text glob (gs:// ok) | tfrecord:GLOB | model_garden:GLOB | tfds:NAME",
    )
    data.add_argument("--vocabulary", help="vocabulary file (default: the shipped one)")
    data.add_argument("--seq_length", type=int, default=128)
    data.add_argument("--batch_size", type=int, default=32, help="global batch size")

    training = parser.add_argument_group("training")
    training.add_argument("--steps", type=int, default=1000)
    training.add_argument("--learning_rate", type=float, default=5e-4)
    training.add_argument("--warmup_fraction", type=float, default=0.1)
    training.add_argument("--seed", type=int, default=0)
    training.add_argument("--jit_compile", choices=("auto", "true", "false"), default="auto")
    training.add_argument("--mixed_precision", choices=("none", "mixed_bfloat16", "mixed_float16"), default="none")
    training.add_argument("--strategy", default="default", help=f"one of {STRATEGIES}")
    training.add_argument("--tpu", default="", help="TPU address or name for --strategy tpu")
    training.add_argument("--checkpoint_every", type=int, default=200, help="steps between checkpoints (and evaluations)")
    training.add_argument("--eval_steps", type=int, default=20, help="held-out batches per evaluation")
    training.add_argument("--log_every", type=int, default=50)

    output = parser.add_argument_group("output")
    output.add_argument("--model_dir", help="logs, checkpoints, resume state (local or gs://)")
    output.add_argument("--export_dir", help="preset + SavedModel + importance table")
    output.add_argument("--overwrite", action="store_true", help="replace a non-empty --export_dir")
    return parser


def validate(args, check_paths=True):
    """Checks everything that can be checked before training starts.

    `check_paths=False` checks the flags alone, not the folders they name.
    """
    if args.preset not in BACKBONE_PRESETS:
        raise ValueError(
            f"Unknown --preset {args.preset!r}; choose one of "
            f"{sorted(BACKBONE_PRESETS)}."
        )
    if args.strategy not in STRATEGIES:
        raise ValueError(
            f"Unknown --strategy {args.strategy!r}; choose one of "
            f"{list(STRATEGIES)}."
        )
    if args.strategy == "tpu" and not args.tpu:
        raise ValueError("--strategy tpu needs --tpu (an address or name).")
    for name in ("steps", "batch_size", "seq_length", "checkpoint_every"):
        if getattr(args, name) <= 0:
            raise ValueError(f"--{name} must be positive, got {getattr(args, name)}.")
    # Keras epochs are the checkpoint intervals; a partial last one would
    # train past --steps (and past the end of the learning-rate schedule).
    if args.steps > args.checkpoint_every and args.steps % args.checkpoint_every:
        raise ValueError(
            f"--steps {args.steps} must be a multiple of --checkpoint_every "
            f"{args.checkpoint_every}."
        )
    if check_paths and args.model_dir:
        _check_writable(args.model_dir)
    if check_paths and args.export_dir:
        check_output_directory(args.export_dir, args.overwrite)


def _check_writable(path):
    try:
        tf.io.gfile.makedirs(path)
        probe = os.path.join(path, f".write_test_{uuid.uuid4().hex[:8]}")
        with tf.io.gfile.GFile(probe, "w") as file:
            file.write("ok")
        tf.io.gfile.remove(probe)
    except (tf.errors.OpError, OSError) as error:
        raise ValueError(f"--model_dir {path} is not writable: {error}") from error


def make_strategy(name, tpu=""):
    """The `tf.distribute` strategy of `--strategy`."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return _mirrored_strategy()
    if name == "multi_worker_mirrored":
        return tf.distribute.MultiWorkerMirroredStrategy()
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError) as error:
        raise ValueError(f"Could not reach the TPU {tpu!r}: {error}") from error
    return tf.distribute.TPUStrategy(resolver)


_MIRRORED_STRATEGIES = {}


def _mirrored_strategy():
    """A `MirroredStrategy` over all GPUs; without any, all (logical) CPUs.

    Every `MirroredStrategy` numbers its collective ops from the same keys,
    and TensorFlow remembers each key's shape for the whole process: a
    second strategy over the same devices fails with "Shape mismatch in the
    collective instance 100" (tensorflow/tensorflow#62790). So runs in one
    process share one strategy, and CPUs, which share host memory, reduce
    through one device, with no collective ops to collide with those of a
    strategy made elsewhere (a test, a notebook).
    """
    devices = tf.config.list_logical_devices("GPU")
    cross_device_ops = None
    if not devices:
        devices = tf.config.list_logical_devices("CPU")
        cross_device_ops = tf.distribute.ReductionToOneDevice()
    names = tuple(device.name for device in devices)
    if names not in _MIRRORED_STRATEGIES:
        _MIRRORED_STRATEGIES[names] = tf.distribute.MirroredStrategy(
            list(names), cross_device_ops=cross_device_ops
        )
    return _MIRRORED_STRATEGIES[names]


def _resume_epoch(backup_dir):
    """Epochs completed by an interrupted run (`BackupAndRestore`'s record)."""
    path = os.path.join(backup_dir, "training_metadata.json")
    if not tf.io.gfile.exists(path):
        return 0
    with tf.io.gfile.GFile(path) as file:
        return json.load(file)["epoch"]


def pretrain(args, callbacks=()):
    """Trains as `args` say; returns the model, tokenizer and a summary."""
    validate(args)
    if args.mixed_precision != "none":
        keras.mixed_precision.set_global_policy(args.mixed_precision)
    strategy = make_strategy(args.strategy, args.tpu)
    vocabulary = load_vocabulary(args.vocabulary)
    tokenizer = bert_tokenizer(vocabulary)

    checkpoint_every = min(args.checkpoint_every, args.steps)
    epochs = -(-args.steps // checkpoint_every)
    backup_dir = os.path.join(args.model_dir, "backup") if args.model_dir else None
    resumed_steps = _resume_epoch(backup_dir) * checkpoint_every if backup_dir else 0

    data_options = dict(
        source=args.data,
        sequence_length=args.seq_length,
        batch_size=args.batch_size,
        vocabulary=vocabulary,
        seed=args.seed,
        max_sequence_length=args.seq_length,
    )
    # A resumed run continues the same data stream where it stopped.
    train_data = pretraining_dataset(split="train", **data_options).skip(resumed_steps)
    eval_data = None
    if not args.data.startswith(("tfrecord:", "model_garden:")):
        eval_data = pretraining_dataset(
            split="validation", repeat=False, shuffle=False, **data_options
        ).take(args.eval_steps).cache()

    with strategy.scope():
        overrides = {
            field: getattr(args, field)
            for field in BACKBONE_FIELDS
            if getattr(args, field) is not None
        }
        backbone = bert_backbone(
            args.preset,
            vocabulary_size=tokenizer.vocabulary_size(),
            max_sequence_length=args.seq_length,
            seed=args.seed,
            dropout=args.dropout,
            **overrides,
        )
        token_drop_options = dict(keep_fraction=args.keep_fraction, seed=args.seed)
        if args.first_dropped_layer is not None:
            token_drop_options["first_dropped_layer"] = args.first_dropped_layer
        model = TokenDropBertMaskedLM(
            backbone,
            token_drop=args.token_drop,
            **special_token_ids(tokenizer),
            **token_drop_options,
        )
        model.compile(
            optimizer=bert_adamw(
                args.learning_rate,
                total_steps=args.steps,
                warmup_steps=int(args.warmup_fraction * args.steps),
            ),
            jit_compile={"auto": "auto", "true": True, "false": False}[
                args.jit_compile
            ],
        )

    log = TrainingLog(
        batch_size=args.batch_size,
        sequence_length=args.seq_length,
        log_every=args.log_every,
        log_dir=os.path.join(args.model_dir, "logs", "throughput") if args.model_dir else None,
    )
    all_callbacks = [log, *callbacks]
    if args.model_dir:
        all_callbacks += [
            keras.callbacks.BackupAndRestore(backup_dir),
            keras.callbacks.TensorBoard(
                os.path.join(args.model_dir, "logs"), update_freq=args.log_every
            ),
        ]
    start = time.perf_counter()
    history = model.fit(
        train_data,
        epochs=epochs,
        steps_per_epoch=checkpoint_every,
        validation_data=eval_data,
        callbacks=all_callbacks,
        verbose=1 if sys.stdout.isatty() else 0,
    )
    train_seconds = time.perf_counter() - start

    summary = {
        "token_drop": args.token_drop,
        "steps": int(model.optimizer.iterations.numpy()),
        "train_seconds": train_seconds,
        "median_step_seconds": log.median_step_seconds(),
        "tokens_per_second": args.batch_size * args.seq_length / log.median_step_seconds(),
        "loss_history": log.history,
        "eval_history": log.evaluations,
        "final_train_loss": history.history["loss"][-1] if history.history.get("loss") else None,
    }
    if eval_data is not None:
        evaluation = model.evaluate(eval_data, return_dict=True, verbose=0)
        summary["eval_loss"] = evaluation["loss"]
        summary["eval_accuracy"] = evaluation["accuracy"]
    if args.export_dir:
        export_pretrained(
            model, tokenizer, args.export_dir,
            sequence_length=args.seq_length, overwrite=args.overwrite,
        )
        summary["export_dir"] = args.export_dir
    if args.model_dir:
        with tf.io.gfile.GFile(os.path.join(args.model_dir, SUMMARY_FILE), "w") as file:
            json.dump(summary, file)
    return model, tokenizer, summary


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        _, _, summary = pretrain(args)
    except ValueError as error:
        sys.exit(f"pretrain.py: error: {error}")
    summary.pop("loss_history")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
