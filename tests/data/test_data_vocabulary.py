import pytest
import tensorflow as tf

import tokdrop_keras
from tokdrop_keras.special_tokens import BERT_RESERVED_TOKENS
from tokdrop_keras.data import bert_tokenizer
from tokdrop_keras.data import load_vocabulary
from tokdrop_keras.data import train_vocabulary


def test_shipped_vocabulary_has_the_reserved_ids():
    vocabulary = load_vocabulary()
    assert len(vocabulary) == 7954
    assert vocabulary[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert len(set(vocabulary)) == len(vocabulary)
    tokenizer = bert_tokenizer()
    assert tokdrop_keras.special_token_ids(tokenizer) == {
        "always_keep_ids": [2, 3, 4, 1],
        "always_drop_ids": [0],
    }
    # Lowercase WordPiece.
    ids = list(tokenizer("The WHALE!"))
    assert [vocabulary[i] for i in ids] == ["the", "whale", "!"]


def test_train_vocabulary_from_files_and_datasets(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("The cat sat on the mat.\nA bat sat on a cat!\n" * 20)
    output = tmp_path / "vocab.txt"
    vocabulary = train_vocabulary(
        str(corpus), vocabulary_size=40, vocabulary_output_file=str(output)
    )
    assert vocabulary[:5] == list(BERT_RESERVED_TOKENS)
    assert "cat" in vocabulary and "The" not in vocabulary
    assert load_vocabulary(str(output)) == vocabulary
    documents = tf.data.Dataset.from_tensor_slices(["The cat sat on the mat."])
    assert (
        train_vocabulary(documents, vocabulary_size=40)[:5] == list(BERT_RESERVED_TOKENS)
    )


def test_bad_vocabularies_raise(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\n")
    with pytest.raises(ValueError, match=r"vocab\.txt.*missing .*\[MASK\]"):
        load_vocabulary(str(path))
    path.write_text("[UNK]\n[PAD]\n[CLS]\n[SEP]\n[MASK]\n")
    with pytest.raises(ValueError, match=r"vocab\.txt.*id 0 must be \[PAD\]"):
        load_vocabulary(str(path))
    with pytest.raises(ValueError, match="does not exist"):
        load_vocabulary(str(tmp_path / "nope.txt"))
    with pytest.raises(ValueError, match=r"missing .*\[CLS\]"):
        bert_tokenizer(["[PAD]", "[UNK]", "[SEP]", "[MASK]", "a"])
    with pytest.raises(ValueError, match="No file matches"):
        train_vocabulary(str(tmp_path / "no_corpus*.txt"))
