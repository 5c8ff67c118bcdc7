import numpy as np
import pytest
import tensorflow as tf

from tokdrop_keras.data import model_garden_dataset
from tokdrop_keras.data import pretraining_dataset


def int_feature(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def float_feature(values):
    return tf.train.Feature(float_list=tf.train.FloatList(value=values))


def write_model_garden_records(
    path, x, mask_ids, mask_weights, drop=(), **extra
):
    """Writes batches as Model Garden's `create_pretraining_data.py` does."""
    with tf.io.TFRecordWriter(str(path)) as writer:
        for row in range(len(mask_ids)):
            features = {
                "input_word_ids": int_feature(x["token_ids"][row]),
                "input_mask": int_feature(x["padding_mask"][row]),
                "input_type_ids": int_feature(x["segment_ids"][row]),
                "masked_lm_positions": int_feature(x["mask_positions"][row]),
                "masked_lm_ids": int_feature(mask_ids[row]),
                "masked_lm_weights": float_feature(mask_weights[row]),
                "next_sentence_labels": int_feature([0]),
                **extra,
            }
            for name in drop:
                del features[name]
            example = tf.train.Example(
                features=tf.train.Features(feature=features)
            )
            writer.write(example.SerializeToString())


# One worker runs this module (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("model_garden")


# Session scope: built once per worker even when xdist runs other modules'
# tests between this module's (a module fixture is torn down and rebuilt).
@pytest.fixture(scope="session")
def batch():
    dataset = pretraining_dataset(
        split="validation", sequence_length=32, batch_size=6
    )
    return next(dataset.as_numpy_iterator())


def test_round_trip_gives_identical_model_inputs(tmp_path, batch):
    x, mask_ids, mask_weights = batch
    mask_weights = mask_weights.copy()
    mask_weights[0, -1] = 0.0  # A padded prediction slot, as Model Garden has.
    write_model_garden_records(
        tmp_path / "a.tfrecord", x, mask_ids, mask_weights
    )
    dataset = pretraining_dataset(
        f"model_garden:{tmp_path}/*.tfrecord",
        sequence_length=32,
        batch_size=6,
        shuffle=False,
        repeat=False,
    )
    batches = list(dataset.as_numpy_iterator())
    assert len(batches) == 1
    read_x, read_ids, read_weights = batches[0]
    assert sorted(read_x) == sorted(x)
    for name in x:
        assert read_x[name].dtype == np.int32
        np.testing.assert_array_equal(read_x[name], x[name])
    np.testing.assert_array_equal(read_ids, mask_ids)
    np.testing.assert_array_equal(read_weights, mask_weights)
    assert dataset.element_spec[0]["token_ids"].shape == (6, 32)


def test_wrong_records_raise(tmp_path, batch):
    x, mask_ids, mask_weights = batch
    path = tmp_path / "bad.tfrecord"
    write_model_garden_records(
        path, x, mask_ids, mask_weights, drop=["input_mask"]
    )
    with pytest.raises(
        ValueError, match=r"bad\.tfrecord: .*missing \['input_mask'\]"
    ):
        model_garden_dataset(str(path))
    write_model_garden_records(
        path, x, mask_ids, mask_weights, input_type_ids=int_feature([0] * 31)
    )
    with pytest.raises(
        ValueError,
        match=r"bad\.tfrecord: feature 'input_type_ids' has length 31, "
        "expected 32",
    ):
        model_garden_dataset(str(path))
    write_model_garden_records(
        path, x, mask_ids, mask_weights, masked_lm_weights=int_feature([1] * 5)
    )
    with pytest.raises(
        ValueError, match="'masked_lm_weights' must be a float_list"
    ):
        model_garden_dataset(str(path))
    write_model_garden_records(path, x, mask_ids, mask_weights)
    with pytest.raises(
        ValueError, match="'input_word_ids' has length 32, expected 128"
    ):
        pretraining_dataset(f"model_garden:{path}", sequence_length=128)
    with pytest.raises(
        ValueError,
        match="sequence length 32, above the backbone's max_sequence_length=16",
    ):
        model_garden_dataset(str(path), max_sequence_length=16)
