"""One run of the backend-agreement check, on whichever backend is loaded.

`tests/test_backend_agreement.py` runs `run(folder)` on TensorFlow in its
own process and on JAX in a subprocess; both start from the weights and
batch the first one wrote, and each writes what it computed to
`folder/<backend>.npz` for the test to compare.
"""

import os
import sys

import keras
import numpy as np

import tokdrop_keras
from tiny_bert import CLS
from tiny_bert import MASK
from tiny_bert import PAD
from tiny_bert import SEP
from tiny_bert import SPECIAL_IDS
from tiny_bert import VOCABULARY
from tiny_bert import tiny_backbone

WEIGHTS = "weights.weights.h5"
BATCH = "batch.npz"
KEEP_TOKENS = 8


def agreement_batch(batch_size=4, sequence_length=16, num_predictions=3):
    """A batch without ties at any row's cut: distinct word ids in each row
    (their table values are distinct) and more real tokens than are kept."""
    rng = np.random.default_rng(0)
    token_ids = np.full((batch_size, sequence_length), PAD)
    lengths = [16, 12, 10, 14][:batch_size]
    mask_positions = np.zeros((batch_size, num_predictions), "int32")
    mask_ids = np.zeros((batch_size, num_predictions), "int32")
    for row, length in enumerate(lengths):
        words = rng.permutation(np.arange(5, len(VOCABULARY)))[: length - 2]
        token_ids[row, :length] = [CLS, *words, SEP]
        mask_positions[row] = rng.choice(np.arange(1, length - 1), num_predictions, replace=False)
        mask_ids[row] = token_ids[row, mask_positions[row]]
    # One masked prediction per row; the others keep their word (as the
    # 10% "unchanged" of BERT's masking), so the table sees word losses.
    token_ids[np.arange(batch_size), mask_positions[:, 0]] = MASK
    padding_mask = (np.arange(sequence_length)[None] < np.array(lengths)[:, None])
    x = {
        "token_ids": token_ids.astype("int32"),
        "segment_ids": np.zeros_like(token_ids, "int32"),
        "padding_mask": padding_mask.astype("int32"),
        "mask_positions": mask_positions,
    }
    weights = np.ones((batch_size, num_predictions), "float32")
    weights[0, -1] = 0.0
    return x, mask_ids, weights


def masked_lm(dropout=0.0, seed=0, optimizer=None):
    model = tokdrop_keras.TokenDropMaskedLM(
        tiny_backbone(dropout=dropout, seed=seed),
        keep_tokens=KEEP_TOKENS,
        seed=seed,
        **SPECIAL_IDS,
    )
    model.compile(
        optimizer=optimizer or keras.optimizers.SGD(0.5), jit_compile=True
    )
    return model


def write_inputs(folder):
    """Weights, batch and a tie-free table, from this (TensorFlow) process."""
    model = masked_lm()
    table = np.random.default_rng(1).permutation(len(VOCABULARY)).astype("float32")
    model.importance_tracker.importance.assign(1.0 + table)
    model.save_weights(os.path.join(folder, WEIGHTS))
    x, y, w = agreement_batch()
    np.savez(os.path.join(folder, BATCH), y=y, w=w, **x)


def kept_statistics(model, x):
    """Over 10 training-mode calls: the share of special tokens kept, of
    padding kept, and of kept slots that are real tokens."""
    specials, padding, real = [], [], []
    inputs = {k: x[k] for k in ("token_ids", "segment_ids", "padding_mask")}
    special = np.isin(x["token_ids"], [CLS, SEP, MASK])
    pad = x["padding_mask"] == 0
    for _ in range(10):
        _, positions = model.token_drop_backbone(
            inputs, training=True, return_kept_positions=True
        )
        kept = np.zeros_like(special)
        np.put_along_axis(kept, np.asarray(positions), True, axis=1)
        specials.append(kept[special].mean())
        padding.append(kept[pad].mean())
        real.append((~pad)[kept].mean() if kept.any() else 0.0)
    return np.array([np.mean(specials), np.mean(padding), np.mean(real)])


def run(folder):
    backend = keras.backend.backend()
    batch = np.load(os.path.join(folder, BATCH))
    x = {k: batch[k] for k in ("token_ids", "segment_ids", "padding_mask", "mask_positions")}
    y, w = batch["y"], batch["w"]
    results = {}

    # Dropout 0: the same numbers.
    model = masked_lm()
    model.load_weights(os.path.join(folder, WEIGHTS))
    results["eval_logits"] = np.asarray(model(x, training=False))
    train_outputs = model(x, training=True)
    results["train_logits"] = np.asarray(train_outputs["logits"])
    results["kept_mask"] = np.asarray(train_outputs["kept_mask"])
    _, results["kept_positions"] = [
        np.asarray(v) for v in model.token_drop_backbone(
            {k: x[k] for k in ("token_ids", "segment_ids", "padding_mask")},
            training=True, return_kept_positions=True,
        )
    ]
    results["first_loss"] = np.float32(model.train_on_batch(x, y, sample_weight=w, return_dict=True)["loss"])
    results["table"] = model.importance_tracker.importance.numpy()
    results["counts"] = model.importance_tracker.prediction_counts.numpy()
    results["second_loss"] = np.float32(model.train_on_batch(x, y, sample_weight=w, return_dict=True)["loss"])

    # Dropout on: it trains, with the same statistics of kept tokens.
    start = masked_lm()
    start.load_weights(os.path.join(folder, WEIGHTS))
    model = masked_lm(
        dropout=0.1, seed=3, optimizer=keras.optimizers.Adam(5e-3)
    )
    model.backbone.set_weights(start.backbone.get_weights())
    model.masked_lm_head.set_weights(start.masked_lm_head.get_weights())
    model.importance_tracker.set_weights(start.importance_tracker.get_weights())
    results["kept_statistics"] = kept_statistics(model, x)
    losses = [float(model.train_on_batch(x, y, sample_weight=w, return_dict=True)["loss"]) for _ in range(20)]
    results["dropout_losses"] = np.array(losses)
    np.savez(os.path.join(folder, f"{backend}.npz"), **results)


if __name__ == "__main__":
    run(sys.argv[1])
