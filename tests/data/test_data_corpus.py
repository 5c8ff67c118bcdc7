import gzip

import pytest
import tensorflow as tf

from tokdrop_keras.data import embedded_corpus_files
from tokdrop_keras.data import embedded_documents
from tokdrop_keras.data import is_validation_document
from tokdrop_keras.data import read_documents
from tokdrop_keras.data import split_documents
from tokdrop_keras.data import text_dataset


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
