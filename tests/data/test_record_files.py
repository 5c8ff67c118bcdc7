"""`tokdrop_keras.data.record_files` reads and writes token-id TFRecords
without TensorFlow: checked here against TensorFlow's reader, writer and
parser."""

import gzip
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import tokdrop_keras.data.record_files as record_files
from tokdrop_keras.data.record_files import parse_token_ids
from tokdrop_keras.data.record_files import read_records
from tokdrop_keras.data.record_files import token_id_documents
from tokdrop_keras.data.record_files import write_token_id_records
from tokdrop_keras.data.tfrecords import TokenIdParser
from tokdrop_keras.data.tfrecords import find_unreadable_record
from tokdrop_keras.data.tfrecords import token_id_records
from tokdrop_keras.data.tfrecords import write_pretraining_tfrecords

SHIPPED_VOCABULARY_SIZE = 7954
# Varints of 1 to 5 bytes, at their edges.
EDGE_IDS = [0, 1, 127, 128, 16383, 16384, 2**21 - 1, 2**21, 2**28 - 1, 2**28]
EDGE_IDS += [2**31 - 1]


def tf_example(features):
    """A serialized Example of `{name: list of int or float}`."""
    feature = {}
    for name, values in features.items():
        if values and isinstance(values[0], float):
            kind = {"float_list": tf.train.FloatList(value=values)}
        else:
            kind = {"int64_list": tf.train.Int64List(value=values)}
        feature[name] = tf.train.Feature(**kind)
    return tf.train.Example(
        features=tf.train.Features(feature=feature)
    ).SerializeToString()


def tf_write(path, records):
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)


def tf_token_ids(path):
    """The token ids of each record, as TensorFlow parses them."""
    spec = {"token_ids": tf.io.RaggedFeature(tf.int64)}
    return [
        tf.io.parse_single_example(record, spec)["token_ids"].numpy().tolist()
        for record in tf.data.TFRecordDataset(str(path))
    ]


def documents(rng, count, max_length=300):
    docs = [rng.integers(0, 30522, rng.integers(0, max_length)) for _ in range(count)]
    return docs + [[], EDGE_IDS, rng.integers(0, 2**31, 5000)]


@pytest.fixture(scope="module")
def pretraining_files(tmp_path_factory):
    """A few long documents of the embedded corpus, and short ones."""
    folder = tmp_path_factory.mktemp("pretraining")
    corpus = os.path.join(
        os.path.dirname(record_files.__file__), "assets", "pretrain",
        "moby_dick.txt.gz",
    )
    with gzip.open(corpus, "rt", encoding="utf-8") as file:
        lines = [next(file) for _ in range(12)]
    lines += ["The whale!\n", "Call me Ishmael.\n", "☃\n"]
    (folder / "corpus.txt").write_text("".join(lines), encoding="utf-8")
    summary = write_pretraining_tfrecords(
        str(folder / "corpus.txt"), str(folder / "train"), num_shards=2,
        verbose=False,
    )
    assert summary["documents"] == 15
    return summary["files"]


def test_reads_the_ids_that_tensorflow_reads_from_pretraining_records(
    pretraining_files,
):
    expected = []
    for path in pretraining_files:
        assert list(read_records(path)) == list(
            tf.data.TFRecordDataset(path).as_numpy_iterator()
        )
        parse = TokenIdParser(SHIPPED_VOCABULARY_SIZE, source=path)
        for batch in token_id_records(path).batch(64).map(parse):
            expected += batch.to_list()
        assert [parse_token_ids(r).tolist() for r in read_records(path)] == (
            tf_token_ids(path)
        )
    got = list(token_id_documents(os.path.dirname(path) + "/train-*"))
    assert all(ids.dtype == np.int32 for ids in got)
    assert [ids.tolist() for ids in got] == expected
    assert sum(map(len, expected)) > 10_000  # long documents among them


def test_tensorflow_reads_the_written_records_byte_for_byte(tmp_path):
    # More documents than a group of the writer, and ids of every length.
    docs = documents(np.random.default_rng(0), 1100)
    path = tmp_path / "ours.tfrecord"
    assert write_token_id_records(str(path), docs) == len(docs)
    assert tf_token_ids(path) == [list(map(int, doc)) for doc in docs]
    tf_write(
        tmp_path / "tf.tfrecord",
        [tf_example({"token_ids": list(map(int, doc))}) for doc in docs],
    )
    assert path.read_bytes() == (tmp_path / "tf.tfrecord").read_bytes()
    got = list(token_id_documents(str(path)))
    assert [ids.tolist() for ids in got] == [list(map(int, d)) for d in docs]


def test_paths_with_a_scheme_go_through_tf_io_gfile(tmp_path):
    write_token_id_records(str(tmp_path / "a-1.tfrecord"), [[1, 2], [3]])
    documents = token_id_documents(f"file://{tmp_path}/a-*.tfrecord")
    assert [ids.tolist() for ids in documents] == [[1, 2], [3]]


def test_blocks_smaller_than_records(tmp_path, monkeypatch):
    docs = documents(np.random.default_rng(1), 50, max_length=3000)
    path = str(tmp_path / "a.tfrecord")
    write_token_id_records(path, docs)
    monkeypatch.setattr(record_files, "_BLOCK_BYTES", 1000)
    got = list(token_id_documents(path))
    assert [ids.tolist() for ids in got] == [list(map(int, d)) for d in docs]
    assert list(read_records(path)) == list(
        tf.data.TFRecordDataset(path).as_numpy_iterator()
    )


def test_any_encoding_of_the_ids_parses_as_tensorflow_parses_it(tmp_path):
    def field(number, payload):  # a length-delimited field
        return bytes([number << 3 | 2, len(payload)]) + payload

    def example(int64_list, key=b"token_ids"):
        entry = field(1, key) + field(2, field(3, int64_list))
        return field(1, field(1, entry))

    records = [
        example(b"\x08\x05\x08\xac\x02"),  # unpacked: 5, 300
        example(b""),  # no id
        # Another feature before and after, read with the general parser.
        tf_example({"a": [1.5], "token_ids": [3, 200, 70000], "z": [9]}),
    ]
    path = tmp_path / "a.tfrecord"
    tf_write(path, records)
    expected = [[5, 300], [], [3, 200, 70000]]
    assert tf_token_ids(path) == expected
    assert [parse_token_ids(r).tolist() for r in records] == expected
    assert [ids.tolist() for ids in token_id_documents(str(path))] == expected
    # Packed and unpacked fields mixed, or several packed ones: protobuf
    # concatenates them (tf.io.parse_example's fast parser does not).
    for int64_list in (b"\x0a\x02\x05\x07\x08\x09", b"\x0a\x01\x05\x0a\x01\x07"):
        record = example(int64_list)
        feature = tf.train.Example.FromString(record).features.feature
        assert parse_token_ids(record).tolist() == list(
            feature["token_ids"].int64_list.value
        )


def test_truncated_and_corrupt_files_name_the_file_and_the_record(tmp_path):
    path = str(tmp_path / "a.tfrecord")
    write_token_id_records(path, [[7] * 30] * 5)  # records of 51 bytes
    data = open(path, "rb").read()
    record = len(data) // 5

    def damaged(name, content):
        damaged_path = str(tmp_path / name)
        with open(damaged_path, "wb") as file:
            file.write(content)
        return damaged_path

    def flipped(offset):
        return data[:offset] + bytes([data[offset] ^ 1]) + data[offset + 1 :]

    cases = {
        damaged("cut_record.tfrecord", data[: 3 * record + 30]): (3, "truncated"),
        damaged("cut_header.tfrecord", data[: 4 * record + 5]): (4, "truncated"),
        damaged("data.tfrecord", flipped(2 * record + 20)): (2, "data's checksum"),
        damaged("length.tfrecord", flipped(record + 1)): (1, "length's checksum"),
        damaged("last.tfrecord", flipped(5 * record - 1)): (4, "data's checksum"),
    }
    for bad_path, (index, reason) in cases.items():
        if "cut_header" in bad_path:  # TensorFlow stops there silently
            assert len(list(tf.data.TFRecordDataset(bad_path))) == index
        else:
            assert find_unreadable_record(bad_path)[:2] == (bad_path, index)
        records = read_records(bad_path)
        for _ in range(index):  # the records before it read
            assert parse_token_ids(next(records)).tolist() == [7] * 30
        with pytest.raises(ValueError) as error:
            next(records)
        message = str(error.value)
        assert bad_path in message and f"record {index} " in message, message
        assert reason in message, message
        with pytest.raises(ValueError, match=f"record {index} .*{reason}"):
            list(token_id_documents(bad_path))
    # The first record is checked when the files are named, before reading.
    with pytest.raises(ValueError, match=r"length\.tfrecord: record 0 .*length"):
        token_id_documents(damaged("length.tfrecord", flipped(1)))


def test_files_of_other_records_raise_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="No file matches"):
        token_id_documents(str(tmp_path / "none-*"))
    tf_write(tmp_path / "empty.tfrecord", [])
    with pytest.raises(ValueError, match=r"empty\.tfrecord: .*holds no record"):
        token_id_documents(str(tmp_path / "empty.tfrecord"))
    (tmp_path / "text.tfrecord").write_text("not a record\n")
    with pytest.raises(ValueError, match=r"text\.tfrecord: record 0 .*corrupt"):
        token_id_documents(str(tmp_path / "text.tfrecord"))

    model_garden = tf_example(
        {"input_word_ids": [2, 5, 3], "input_mask": [1, 1, 1]}
    )
    tf_write(tmp_path / "mg.tfrecord", [model_garden])
    mg_path = str(tmp_path / "mg.tfrecord")
    with pytest.raises(ValueError) as error:
        token_id_documents(mg_path)
    message = str(error.value)
    assert message.startswith(f"{mg_path}: records have features "), message
    assert "['input_mask', 'input_word_ids']" in message, message
    assert f"'model_garden:{mg_path}'" in message, message
    with pytest.raises(ValueError, match="expected 'token_ids'.*model_garden:"):
        parse_token_ids(model_garden)

    tf_write(tmp_path / "floats.tfrecord", [tf_example({"token_ids": [1.5]})])
    with pytest.raises(ValueError, match="must be an int64_list.*float_list"):
        token_id_documents(str(tmp_path / "floats.tfrecord"))

    # A bad record after good ones: named when reached.
    tf_write(
        tmp_path / "mixed.tfrecord",
        [tf_example({"token_ids": [1]})] * 3 + [tf_example({"other": [1]})],
    )
    documents = token_id_documents(str(tmp_path / "mixed.tfrecord"))
    with pytest.raises(ValueError, match=r"mixed\.tfrecord: record 3 .*\['other'\]"):
        list(documents)

    tf_write(tmp_path / "negative.tfrecord", [tf_example({"token_ids": [4, -1]})])
    with pytest.raises(ValueError, match=r"token id -1 is not in \[0, 2\*\*31\)"):
        token_id_documents(str(tmp_path / "negative.tfrecord"))
    tf_write(
        tmp_path / "large.tfrecord",
        [tf_example({"token_ids": [4]})] * 2
        + [tf_example({"token_ids": [2**31]})],
    )
    documents = token_id_documents(str(tmp_path / "large.tfrecord"))
    with pytest.raises(ValueError, match=r"record 2 .*token id 2147483648"):
        list(documents)
    with pytest.raises(ValueError, match="not a tf.train.Example"):
        parse_token_ids(b"\x0a\x05\x0a")


def test_crc32c_matches_the_pure_python_one():
    assert record_files._crc32c(b"123456789") == 0xE3069283
    rng = np.random.default_rng(2)
    data = rng.integers(0, 256, 20_000, dtype=np.uint8)
    lengths = np.concatenate([np.arange(9), rng.integers(0, 5000, 40)])
    starts = rng.integers(0, len(data) - 5000, len(lengths))
    assert record_files._crc32c_ranges(data, starts, lengths).tolist() == [
        record_files._crc32c(data[start : start + length])
        for start, length in zip(starts, lengths)
    ]


def test_the_module_works_without_tensorflow(tmp_path):
    # The package's data/__init__ imports TensorFlow: load the file alone.
    script = f"""
import importlib.util, sys
sys.modules["tensorflow"] = None  # importing it fails
spec = importlib.util.spec_from_file_location(
    "record_files", {record_files.__file__!r}
)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
path = {str(tmp_path / "a.tfrecord")!r}
module.write_token_id_records(path, [[1, 2, 300], []])
assert [d.tolist() for d in module.token_id_documents(path)] == [[1, 2, 300], []]
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
