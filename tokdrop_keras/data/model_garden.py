"""Reading TF Model Garden BERT pretraining TFRecords."""

import tensorflow as tf

from tokdrop_keras.inputs import MASK_POSITIONS
from tokdrop_keras.inputs import TF_HUB_INPUTS

from tokdrop_keras.data.corpus import match_files
from tokdrop_keras.data.tfrecords import read_first_example

SEQUENCE_FEATURES = tuple(TF_HUB_INPUTS)
PREDICTION_FEATURES = ("masked_lm_positions", "masked_lm_ids")
WEIGHT_FEATURE = "masked_lm_weights"
# `next_sentence_labels`, when present, is ignored (no next-sentence task).


def _check_file(path, sequence_length, max_predictions):
    """Checks one file's first record; returns its (length, predictions)."""
    features = read_first_example(path).features.feature
    expected = SEQUENCE_FEATURES + PREDICTION_FEATURES + (WEIGHT_FEATURE,)
    missing = [name for name in expected if name not in features]
    if missing:
        raise ValueError(
            f"{path}: Model Garden records need features {list(expected)}; "
            f"missing {missing} (found {sorted(features)})."
        )
    for name in expected:
        kind = "float_list" if name == WEIGHT_FEATURE else "int64_list"
        if features[name].WhichOneof("kind") != kind:
            raise ValueError(f"{path}: feature {name!r} must be a {kind}.")

    def length(name):
        return len(
            getattr(features[name], features[name].WhichOneof("kind")).value
        )

    for names, size in (
        (SEQUENCE_FEATURES, sequence_length),
        (PREDICTION_FEATURES + (WEIGHT_FEATURE,), max_predictions),
    ):
        size = size or length(names[0])
        for name in names:
            if length(name) != size:
                raise ValueError(
                    f"{path}: feature {name!r} has length {length(name)}, "
                    f"expected {size}."
                )
    return length(SEQUENCE_FEATURES[0]), length(PREDICTION_FEATURES[0])


def model_garden_dataset(
    file_patterns,
    batch_size=32,
    sequence_length=None,
    max_sequence_length=None,
    seed=0,
    shuffle=True,
    repeat=True,
):
    """Masked-LM batches from Model Garden BERT pretraining TFRecords.

    Reads the records that Model Garden's `create_pretraining_data.py`
    writes (`input_word_ids`, `input_mask`, `input_type_ids`,
    `masked_lm_positions`, `masked_lm_ids`, `masked_lm_weights`; an optional
    `next_sentence_labels` is ignored) and maps them to this package's input
    format: `x = {"token_ids", "segment_ids", "padding_mask",
    "mask_positions"}`, `y = mask_ids`, `sample_weight = mask_weights`. Their
    masks are the ones written in the records (static masking).

    Args:
        file_patterns: a file name or glob, or a list of them.
        batch_size: int. Incomplete last batches are dropped.
        sequence_length: int or `None` (taken from the first record). Every
            file's first record is checked against it.
        max_sequence_length: int or `None`: the backbone's maximum.
        seed: int. Seed of the shuffle.
        shuffle: bool. Shuffle the records.
        repeat: bool. Repeat forever.

    Raises:
        ValueError: now, naming the file and feature, if a feature is
            missing or has the wrong type or length, or the sequence length
            is above `max_sequence_length`.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data import model_garden_dataset

    def feature(values, kind="int64"):
        if kind == "float":
            return tf.train.Feature(float_list=tf.train.FloatList(value=values))
        return tf.train.Feature(int64_list=tf.train.Int64List(value=values))

    record = tf.train.Example(features=tf.train.Features(feature={
        "input_word_ids": feature([2, 76, 4, 5, 3, 0]),
        "input_mask": feature([1, 1, 1, 1, 1, 0]),
        "input_type_ids": feature([0] * 6),
        "masked_lm_positions": feature([2, 0]),
        "masked_lm_ids": feature([362, 0]),
        "masked_lm_weights": feature([1.0, 0.0], "float"),
    })).SerializeToString()
    path = os.path.join(tempfile.mkdtemp(), "train-00000.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for _ in range(4):
            writer.write(record)
    dataset = model_garden_dataset(path, batch_size=2, shuffle=False)
    x, mask_ids, mask_weights = next(iter(dataset))
    assert x["token_ids"].numpy().tolist()[0] == [2, 76, 4, 5, 3, 0]
    assert x["mask_positions"].shape == (2, 2)
    assert mask_ids.numpy().tolist() == [[362, 0], [362, 0]]
    assert mask_weights.numpy().tolist() == [[1.0, 0.0], [1.0, 0.0]]
    ```
    """
    files = match_files(file_patterns)
    sequence_length, max_predictions = _check_file(
        files[0], sequence_length, None
    )
    for path in files[1:]:
        _check_file(path, sequence_length, max_predictions)
    if (
        max_sequence_length is not None
        and sequence_length > max_sequence_length
    ):
        raise ValueError(
            f"{files[0]}: records have sequence length {sequence_length}, "
            f"above the backbone's max_sequence_length={max_sequence_length}."
        )
    spec = {
        name: tf.io.FixedLenFeature([sequence_length], tf.int64)
        for name in SEQUENCE_FEATURES
    }
    spec.update(
        {
            name: tf.io.FixedLenFeature([max_predictions], tf.int64)
            for name in PREDICTION_FEATURES
        }
    )
    spec[WEIGHT_FEATURE] = tf.io.FixedLenFeature([max_predictions], tf.float32)

    def to_model_inputs(serialized):
        features = tf.io.parse_example(serialized, spec)
        x = {
            key: tf.cast(features[name], "int32")
            for name, key in TF_HUB_INPUTS.items()
        }
        x[MASK_POSITIONS] = tf.cast(features["masked_lm_positions"], "int32")
        mask_ids = tf.cast(features["masked_lm_ids"], "int32")
        return x, mask_ids, features[WEIGHT_FEATURE]

    records = tf.data.TFRecordDataset(
        files, num_parallel_reads=min(len(files), 4)
    )
    if shuffle:
        records = records.shuffle(10_000, seed=seed)
    if repeat:
        records = records.repeat()
    return (
        records.batch(batch_size, drop_remainder=True)
        .map(to_model_inputs, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
