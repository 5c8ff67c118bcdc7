import numpy as np
import pytest
import tensorflow as tf

from tokdrop_keras.data import pretraining_dataset
from tokdrop_keras.data import write_pretraining_tfrecords


def test_records_round_trip_to_the_same_batches_as_text(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the whale swam .\nthe sea ☃ rose\n\nmoby dick\n")
    summary = write_pretraining_tfrecords(
        str(corpus),
        str(tmp_path / "out" / "train"),
        num_shards=2,
        sequence_length=8,
        verbose=False,
    )
    assert summary["files"] == [
        str(tmp_path / "out" / f"train-0000{i}-of-00002.tfrecord")
        for i in (0, 1)
    ]
    assert summary["documents"] == 3
    assert summary["tokens"] == 12  # "swam" is three word pieces.
    assert summary["sequences"] == 2  # 6 tokens per sequence of 8.
    assert summary["unknown_tokens"] == 1  # The snowman.
    assert summary["unknown_rate"] == pytest.approx(1 / 12)

    options = dict(
        split="all",
        sequence_length=8,
        batch_size=1,
        repeat=False,
        shuffle=False,
    )
    # Reading interleaves the shards, which restores the documents' order.
    from_text = list(pretraining_dataset(str(corpus), **options))
    from_records = list(
        pretraining_dataset(f"tfrecord:{tmp_path}/out/train-*", **options)
    )
    assert len(from_text) == len(from_records) == 2
    for a, b in zip(from_text, from_records):
        for name in a[0]:
            np.testing.assert_array_equal(a[0][name], b[0][name])
        np.testing.assert_array_equal(a[1], b[1])


def test_bad_records_raise(tmp_path):
    with pytest.raises(ValueError, match="No file matches"):
        pretraining_dataset(f"tfrecord:{tmp_path}/none-*")
    with tf.io.TFRecordWriter(str(tmp_path / "empty.tfrecord")):
        pass
    with pytest.raises(
        ValueError, match=r"empty\.tfrecord: the TFRecord file holds no record"
    ):
        pretraining_dataset(f"tfrecord:{tmp_path}/empty.tfrecord")
    (tmp_path / "text.tfrecord").write_text("not a record\n")
    with pytest.raises(
        ValueError, match=r"text\.tfrecord: not a TFRecord file"
    ):
        pretraining_dataset(f"tfrecord:{tmp_path}/text.tfrecord")
    feature = tf.train.Feature(int64_list=tf.train.Int64List(value=[2, 5, 3]))
    example = tf.train.Example(
        features=tf.train.Features(feature={"input_word_ids": feature})
    )
    with tf.io.TFRecordWriter(str(tmp_path / "mg.tfrecord")) as writer:
        writer.write(example.SerializeToString())
    with pytest.raises(
        ValueError, match=r"mg\.tfrecord: .*expected 'token_ids'.*model_garden:"
    ):
        pretraining_dataset(f"tfrecord:{tmp_path}/mg.tfrecord")
