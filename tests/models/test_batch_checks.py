"""Bad batches fail before the train step, naming the field and value."""

import numpy as np
import pytest
from tiny_bert import SPECIAL_IDS
from tiny_bert import tiny_backbone
from tiny_bert import tiny_inputs

import tokdrop_keras


def model():
    masked_lm = tokdrop_keras.TokenDropMaskedLM(tiny_backbone(), **SPECIAL_IDS)
    masked_lm.compile()
    return masked_lm


def broken(change):
    x, y, w = tiny_inputs()
    x = dict(x)
    change(x, y, w)
    return x, y, w


def set_field(name, value):
    return lambda x, y, w: x.__setitem__(name, value)


@pytest.mark.parametrize(
    "change, message",
    [
        (set_field("mask_positions", np.full((4, 3), 16)), r"`mask_positions` holds 16, outside \[0, 16\)"),
        (set_field("mask_positions", np.full((4, 3), -1)), r"`mask_positions` holds -1, outside \[0, 16\)"),
        (set_field("token_ids", np.full((4, 16), 50)), r"`token_ids` holds 50, outside \[0, 50\) \(the vocabulary\)"),
        (lambda x, y, w: y.__setitem__((1, 0), 77), r"`y \(mask ids\)` holds 77, outside \[0, 50\)"),
        (set_field("token_ids", np.zeros((4, 16), "float32")), "`token_ids` must hold integers"),
        (set_field("segment_ids", np.zeros((4, 8), "int32")), r"`segment_ids` has shape \(4, 8\)"),
        (lambda x, y, w: w.__setitem__(slice(None), 0.0), "no prediction with weight > 0"),
        (lambda x, y, w: x.pop("mask_positions"), r"The batch has no \['mask_positions'\]"),
        (set_field("padding_mask", np.tile(np.r_[0, np.ones(15, "int32")], (4, 1))), "Sequence 0 of the batch has a real token at position 1 after padding"),
    ],
)
def test_bad_batches_are_named_before_training(change, message):
    masked_lm = model()
    x, y, w = broken(change)
    with pytest.raises(ValueError, match=message):
        masked_lm.fit(x, y, sample_weight=w, verbose=0)
    assert masked_lm.optimizer.iterations.numpy() == 0  # nothing trained


def test_sequences_longer_than_the_backbone_are_named():
    tf = pytest.importorskip("tensorflow")  # tf.data (and tensorflow-text)
    masked_lm = model()
    x, y, w = tiny_inputs(sequence_length=24)
    dataset = tf.data.Dataset.from_tensor_slices((x, y, w)).batch(2)
    with pytest.raises(ValueError, match="24 tokens, more than the backbone's max_sequence_length=16"):
        masked_lm.fit(dataset, verbose=0)


def test_a_good_dataset_trains():
    tf = pytest.importorskip("tensorflow")  # tf.data (and tensorflow-text)
    masked_lm = model()
    x, y, w = tiny_inputs()
    dataset = tf.data.Dataset.from_tensor_slices((x, y, w)).batch(2)
    history = masked_lm.fit(dataset, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"][0])
    assert masked_lm.optimizer.iterations.numpy() == 2
