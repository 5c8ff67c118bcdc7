import gzip
import random

import numpy as np
import pytest
import tensorflow as tf

from tokdrop_keras.data import embedded_corpus_files
from tokdrop_keras.data import embedded_documents
from tokdrop_keras.data import is_validation_document
from tokdrop_keras.data import read_documents
from tokdrop_keras.data import split_documents
from tokdrop_keras.data import text_dataset
from tokdrop_keras.data.corpus import VALIDATION_BUCKETS
from tokdrop_keras.data.fingerprint import fingerprint64
from tokdrop_keras.data.fingerprint import hash_bucket


def test_reads_plain_and_gzip_files_by_glob(tmp_path):
    (tmp_path / "a.txt").write_text("first document\n\nsecond document\n")
    with gzip.open(tmp_path / "b.txt.gz", "wt", encoding="utf-8") as file:
        file.write("third document\n")
    assert list(read_documents(str(tmp_path / "*"))) == [
        "first document",
        "second document",
        "third document",
    ]


def test_undecodable_bytes_are_replaced_and_counted(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"caf\xe9 \xff ok\nfine \xef\xbf\xbd\n")
    with pytest.warns(UserWarning, match=r"replaced 2 undecodable bytes .* 1 "):
        documents = list(read_documents(str(path)))
    assert documents == ["caf\ufffd \ufffd ok", "fine \ufffd"]


def test_missing_files_and_empty_corpus_raise(tmp_path):
    with pytest.raises(ValueError, match=r"No file matches .*missing\*\.txt"):
        next(read_documents(str(tmp_path / "missing*.txt")))
    (tmp_path / "empty.txt").write_text("\n  \n")
    with pytest.raises(ValueError, match=r"Empty corpus.*empty\.txt"):
        text_dataset(str(tmp_path / "empty.txt"))


def test_validation_split_is_a_stable_two_percent():
    assert len(embedded_corpus_files()) == 4
    documents = list(read_documents(embedded_corpus_files()))
    held_out = [text for text in documents if is_validation_document(text)]
    assert len(documents) == 2086
    assert len(held_out) == 44  # 2.1%
    validation = [
        text.decode()
        for text in embedded_documents("validation").as_numpy_iterator()
    ]
    assert validation == held_out
    # The graph version agrees with the Python one.
    train = split_documents(
        tf.data.Dataset.from_tensor_slices(documents), "train"
    )
    assert train.reduce(0, lambda count, _: count + 1).numpy() == 2086 - 44
    with pytest.raises(ValueError, match="Unknown split 'dev'"):
        split_documents(train, "dev")


def _tf_fingerprints(strings):
    """TensorFlow's 64-bit `Fingerprint64` of each string: `tf.fingerprint`
    gives its 8 little-endian bytes."""
    rows = tf.fingerprint(tf.constant(strings)).numpy()
    return [int.from_bytes(row.tobytes(), "little") for row in rows]


def test_fingerprint64_equals_tensorflows():
    rng = random.Random(0)
    # Code points from every UTF-8 width (1 to 4 bytes), no surrogates.
    alphabet = (
        [chr(c) for c in range(32, 127)]
        + [chr(c) for c in range(0xA0, 0x800, 7)]
        + [chr(c) for c in range(0x800, 0xD800, 97)]
        + [chr(c) for c in range(0x10000, 0x10FFFF, 4099)]
    )
    texts = [
        "".join(rng.choices(alphabet, k=length)) for length in range(301)
    ]
    texts += ["".join(rng.choices(alphabet, k=k)) for k in (1000, 2500, 4096)]
    # Random bytes of every length 0..300, and around 64-byte block ends.
    raw = [rng.randbytes(length) for length in range(301)]
    raw += [rng.randbytes(length) for length in (511, 512, 513, 4095, 8193)]
    encoded = [text.encode("utf-8") for text in texts]
    expected = _tf_fingerprints(encoded + raw)
    assert [fingerprint64(data) for data in encoded + raw] == expected
    # The buckets `tf.strings.to_hash_bucket_fast` picks, for str input.
    for num_buckets in (VALIDATION_BUCKETS, 2**31 - 1, 2**63 - 1):
        buckets = tf.strings.to_hash_bucket_fast(texts, num_buckets).numpy()
        assert [hash_bucket(text, num_buckets) for text in texts] == (
            buckets.tolist()
        )


def test_str_and_tensor_validation_split_agree_on_the_embedded_corpus():
    documents = list(read_documents(embedded_corpus_files()))
    in_python = [is_validation_document(text) for text in documents]
    assert all(type(held_out) is bool for held_out in in_python)
    in_graph = is_validation_document(tf.constant(documents)).numpy()
    np.testing.assert_array_equal(in_python, in_graph)
    assert sum(in_python) == 44
    encoded = [text.encode("utf-8") for text in documents]
    assert [fingerprint64(data) for data in encoded] == _tf_fingerprints(
        encoded
    )
