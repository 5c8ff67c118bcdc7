"""Train-step time: token dropping vs the full-length baseline.

Both arms are built from the same backbone config and run in this one
process, alternating step by step after warm-up (with a half-depth baseline
that splits a step into per-layer and fixed time); the table reports the
median step times, their ratio, the ratio a FLOP model predicts, the ratio
the measured per-layer and fixed times predict, with XLA off and on, and the
share of a step the importance-table update takes. The vocabulary (the MLM
head's width) is BERT's 30,522 WordPieces unless `--vocabulary_size` says
otherwise.

Usage:
    python benchmarks/step_time.py            # the README's table
    python benchmarks/step_time.py --backend jax    # on JAX (always XLA)
    python benchmarks/step_time.py --dropout 0 --xla on
                                              # XLA without dropout's RNG
    python benchmarks/step_time.py --quick    # tiny sizes, a smoke run
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "experiments"))
from backend_flag import use_backend_flag  # noqa: E402

use_backend_flag(sys.argv)

import tokdrop_keras  # noqa: E402  (first: the Keras backend and XLA flags)

import keras  # noqa: E402
import keras_hub  # noqa: E402
import numpy as np  # noqa: E402

from tokdrop_keras.inputs import MASK_POSITIONS
from tokdrop_keras.inputs import PADDING_MASK
from tokdrop_keras.inputs import SEGMENT_IDS
from tokdrop_keras.inputs import TOKEN_IDS
from tokdrop_keras.models import backbone_for_size
from tokdrop_keras.models import encoder_flops
from tokdrop_keras.models import masked_lm_flop_ratio
from tokdrop_keras.models import size_config
from tokdrop_keras.models import token_drop_layout
from tokdrop_keras.models.flops import DEFAULT_MASK_RATE
from tokdrop_keras.special_tokens import BERT_RESERVED_TOKENS

# BERT's WordPiece vocabulary (bert_base_en_uncased): the MLM head's size.
BERT_VOCABULARY_SIZE = 30522

# Rows of the size table, deepened to 12 layers so that dropping matters.
CONFIGS = {
    "L12 H256 S512 B8": dict(
        size="mini", num_layers=12, sequence_length=512, batch_size=8
    ),
    "L12 H128 S128 B32": dict(
        size="tiny", num_layers=12, sequence_length=128, batch_size=32
    ),
}
QUICK_CONFIGS = {
    "L4 H64 S64 B8": dict(size="nano", sequence_length=64, batch_size=8),
}


def shape_of(config):
    """The backbone shape of a benchmark config: its size row, overridden."""
    return size_config(config["size"], num_layers=config.get("num_layers"))


def synthetic_tokenizer(vocabulary_size):
    """A BERT tokenizer over `vocabulary_size` made-up word pieces."""
    words = [f"w{i}" for i in range(vocabulary_size - len(BERT_RESERVED_TOKENS))]
    return keras_hub.models.BertTokenizer(
        vocabulary=list(BERT_RESERVED_TOKENS) + words
    )


def flop_ratio(config):
    """Token-drop / baseline FLOPs of the encoder and MLM head; training
    multiplies both by ~3."""
    shape = shape_of(config)
    return masked_lm_flop_ratio(
        shape["num_layers"],
        shape["hidden_dim"],
        shape["intermediate_dim"],
        config["vocabulary_size"],
        config["sequence_length"],
    )


def layer_time_ratio(config, medians):
    """The token-drop / baseline ratio predicted from measured times.

    A step is `fixed + layers * per_layer` (embeddings, MLM head, optimizer
    update, dispatch: `fixed`); the baseline at full and half depth gives
    both terms, and the token-drop step is `fixed` plus its encoder FLOPs in
    full-layer units. Measured ≈ predicted means the dropped layers run at
    their FLOP share and the gap to the FLOP ratio is the fixed part.
    """
    shape = shape_of(config)
    num_layers = shape["num_layers"]
    per_layer = (medians["baseline"] - medians["baseline, half depth"]) / (
        num_layers - num_layers // 2
    )
    fixed = medians["baseline"] - num_layers * per_layer
    baseline, token_drop = encoder_flops(
        token_drop_layout(num_layers, config["sequence_length"]),
        shape["hidden_dim"],
        shape["intermediate_dim"],
    )
    layers = num_layers * token_drop / baseline
    return (fixed + layers * per_layer) / medians["baseline"], fixed


def batch(config, tokenizer, seed=0):
    rng = np.random.default_rng(seed)
    sequence_length, batch_size = config["sequence_length"], config["batch_size"]
    predictions = round(DEFAULT_MASK_RATE * sequence_length)
    token_ids = rng.integers(
        len(BERT_RESERVED_TOKENS), config["vocabulary_size"],
        (batch_size, sequence_length),
    )
    token_ids[:, 0] = tokenizer.cls_token_id
    token_ids[:, -1] = tokenizer.sep_token_id
    positions = np.sort(
        np.stack(
            [
                rng.choice(sequence_length - 2, predictions, replace=False) + 1
                for _ in range(batch_size)
            ]
        ),
        axis=1,
    )
    mask_ids = np.take_along_axis(token_ids, positions, axis=1)
    np.put_along_axis(token_ids, positions, tokenizer.mask_token_id, axis=1)
    x = {
        TOKEN_IDS: token_ids,
        SEGMENT_IDS: np.zeros_like(token_ids),
        PADDING_MASK: np.ones_like(token_ids),
        MASK_POSITIONS: positions,
    }
    x = {k: v.astype("int32") for k, v in x.items()}
    return x, mask_ids.astype("int32"), np.ones(mask_ids.shape, "float32")


def masked_lm(config, tokenizer, token_drop, jit_compile, dropout, num_layers=None):
    backbone = backbone_for_size(
        config["size"],
        vocabulary_size=config["vocabulary_size"],
        max_sequence_length=config["sequence_length"],
        seed=0,
        num_layers=num_layers or shape_of(config)["num_layers"],
        dropout=dropout,
    )
    model = tokdrop_keras.TokenDropMaskedLM(
        backbone,
        token_drop=token_drop,
        **tokdrop_keras.special_token_ids(tokenizer),
    )
    model.compile(jit_compile=jit_compile)
    return model


def compiled_update(tracker, jit_compile):
    """`tracker.update` as one compiled call of this backend."""
    if keras.backend.backend() == "jax":
        import jax

        variables = [tracker.importance, tracker.prediction_counts]

        def stateless_update(values, ids, losses, weights):
            with keras.StatelessScope(
                state_mapping=list(zip(variables, values))
            ) as scope:
                tracker.update(ids, losses, weights)
            return [scope.get_current_value(v) for v in variables]

        update = jax.jit(stateless_update)

        def run(ids, losses, weights):
            values = update([v.value for v in variables], ids, losses, weights)
            for variable, value in zip(variables, values):
                variable.assign(value)

        return run
    import tensorflow as tf

    return tf.function(tracker.update, jit_compile=jit_compile)


def update_seconds(model, data, jit_compile, repeats=20):
    """Median time of one importance-table update on this batch."""
    _, mask_ids, mask_weights = data
    losses = np.random.default_rng(0).uniform(0.0, 8.0, mask_ids.shape)
    losses = losses.astype("float32")
    update = compiled_update(model.importance_tracker, jit_compile)
    update(mask_ids, losses, mask_weights)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        update(mask_ids, losses, mask_weights)
        model.importance_tracker.importance.numpy()  # wait for the result
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(config, jit_compile, dropout, rounds, warmup):
    tokenizer = synthetic_tokenizer(config["vocabulary_size"])
    data = batch(config, tokenizer)
    half_depth = shape_of(config)["num_layers"] // 2
    models = {
        "baseline": masked_lm(config, tokenizer, False, jit_compile, dropout),
        "token drop": masked_lm(config, tokenizer, True, jit_compile, dropout),
        "baseline, half depth": masked_lm(
            config, tokenizer, False, jit_compile, dropout, half_depth
        ),
    }
    for model in models.values():
        for _ in range(warmup):
            model.train_on_batch(*data)
    times = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            start = time.perf_counter()
            model.train_on_batch(*data)
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    update = update_seconds(models["token drop"], data, jit_compile)
    return medians, update


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backend", choices=("auto", "tensorflow", "jax"), default="auto",
        help="Keras backend (read before keras is imported)",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--xla", choices=("both", "off", "on"), default="both")
    parser.add_argument(
        "--vocabulary_size", type=int, default=BERT_VOCABULARY_SIZE
    )
    parser.add_argument(
        "--config", action="append", choices=tuple(CONFIGS),
        help="only these configs (repeatable); default: all",
    )
    args = parser.parse_args()
    backend = keras.backend.backend()
    xla_modes = {"both": (False, True), "off": (False,), "on": (True,)}[args.xla]
    if backend == "jax":
        xla_modes = (True,)  # Keras compiles every JAX step with XLA
    configs = QUICK_CONFIGS if args.quick else CONFIGS
    if args.config:
        configs = {name: CONFIGS[name] for name in args.config}

    if backend == "jax":
        import jax

        runtime = f"JAX {jax.__version__}, devices: {jax.devices()}"
    else:
        import tensorflow as tf

        runtime = (
            f"TensorFlow {tf.__version__}, devices: "
            f"{[d.name for d in tf.config.list_logical_devices()]}"
        )
    print(
        f"{runtime}, Keras {keras.__version__} ({backend}), "
        f"dropout {args.dropout}, vocabulary {args.vocabulary_size}, "
        f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')}"
    )
    header = (
        "| backend | config | XLA | baseline s/step | token drop s/step | measured ratio "
        "| FLOP ratio | layer-time ratio | fixed / baseline step "
        "| table update / step |"
    )
    rows = [header, "|" + " --- |" * 10]
    for name, config in configs.items():
        config = dict(config, vocabulary_size=args.vocabulary_size)
        expected = flop_ratio(config)
        for jit_compile in xla_modes:
            medians, update = measure(
                config, jit_compile, args.dropout, args.rounds, args.warmup
            )
            base, drop = medians["baseline"], medians["token drop"]
            predicted, fixed = layer_time_ratio(config, medians)
            rows.append(
                f"| {backend} | {name} | {'on' if jit_compile else 'off'} "
                f"| {base:.4f} "
                f"| {drop:.4f} | {drop / base:.3f} | {expected:.3f} "
                f"| {predicted:.3f} | {100 * fixed / base:.1f}% "
                f"| {100 * update / drop:.2f}% |"
            )
            print(rows[-1], flush=True)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
