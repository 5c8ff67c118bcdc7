"""The WordPiece vocabulary: train, load, tokenize."""

import os

import keras_hub
import tokdrop_keras.filesystem as filesystem

from tokdrop_keras.data.corpus import ASSETS_DIR
from tokdrop_keras.data.corpus import read_documents
from tokdrop_keras.special_tokens import BERT_RESERVED_TOKENS

EMBEDDED_VOCABULARY_FILE = os.path.join(ASSETS_DIR, "vocab.txt")


def check_vocabulary(vocabulary, source="the vocabulary"):
    """Checks that a vocabulary holds BERT's reserved tokens.

    Args:
        vocabulary: list of tokens, in id order.
        source: what to name in the error (e.g. the file).

    Raises:
        ValueError: if `[PAD]` is not id 0, or `[UNK]`, `[CLS]`, `[SEP]` or
            `[MASK]` is missing.

    Example:
    ```python
    from tokdrop_keras.data import check_vocabulary
    check_vocabulary(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the"])
    try:
        check_vocabulary(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the"])
        raise AssertionError("a vocabulary without [MASK] was accepted")
    except ValueError as error:
        assert "missing reserved tokens ['[MASK]']" in str(error)
    ```
    """
    if not vocabulary or vocabulary[0] != BERT_RESERVED_TOKENS[0]:
        first = vocabulary[0] if vocabulary else None
        raise ValueError(
            f"{source}: token id 0 must be {BERT_RESERVED_TOKENS[0]} (keras-hub "
            "pads with id 0), "
            f"but it is {first!r}."
        )
    missing = [token for token in BERT_RESERVED_TOKENS if token not in vocabulary]
    if missing:
        raise ValueError(
            f"{source}: missing reserved tokens {missing}; a BERT vocabulary "
            f"needs all of {list(BERT_RESERVED_TOKENS)}."
        )


def load_vocabulary(path=None):
    """Loads a WordPiece vocabulary file (one token per line).

    Args:
        path: the file; `None` loads the vocabulary shipped for the
            embedded corpus (7,954 lowercase tokens, learned with a
            maximum of 8,192).

    Returns:
        The list of tokens, in id order.

    Raises:
        ValueError: if the file is missing or lacks the reserved tokens.

    Example:
    ```python
    from tokdrop_keras.data import load_vocabulary
    vocabulary = load_vocabulary()
    assert len(vocabulary) == 7954
    assert vocabulary[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    ```
    """
    path = EMBEDDED_VOCABULARY_FILE if path is None else os.fspath(path)
    if not filesystem.exists(path):
        raise ValueError(f"Vocabulary file {path!r} does not exist.")
    with filesystem.open_file(path, "r") as file:
        vocabulary = [line.rstrip("\n") for line in file]
    check_vocabulary(vocabulary, source=f"Vocabulary file {path!r}")
    return vocabulary


def bert_tokenizer(
    vocabulary=None,
    sequence_length=None,
    tokenizer_class=keras_hub.models.BertTokenizer,
):
    """A lowercase `keras_hub.models.BertTokenizer`.

    Args:
        vocabulary: list of tokens or a vocabulary file; `None` is the
            shipped vocabulary (`load_vocabulary()`).
        sequence_length: int or `None`. If set, outputs are padded or
            truncated to this length; else they are ragged.
        tokenizer_class: `keras_hub.models.BertTokenizer` or another
            WordPiece tokenizer class with its arguments
            (`DistilBertTokenizer`).

    Example:
    ```python
    from tokdrop_keras.data import bert_tokenizer
    tokenizer = bert_tokenizer()
    assert tokenizer(["The whale!"]) == [[76, 362, 5]]
    assert [tokenizer.id_to_token(i) for i in (76, 362, 5)] == [
        "the", "whale", "!"
    ]
    padded = bert_tokenizer(sequence_length=5)(["The whale!"])
    assert np.asarray(padded).tolist() == [[76, 362, 5, 0, 0]]
    ```
    """
    if vocabulary is None or isinstance(vocabulary, (str, os.PathLike)):
        vocabulary = load_vocabulary(vocabulary)
    else:
        check_vocabulary(list(vocabulary))
    return tokenizer_class(
        vocabulary=list(vocabulary),
        lowercase=True,
        sequence_length=sequence_length,
    )


def train_vocabulary(
    documents_or_files,
    vocabulary_size=8192,
    vocabulary_output_file=None,
    strip_accents=False,
):
    """Trains a lowercase BERT WordPiece vocabulary.

    Uses keras-hub's `compute_word_piece_vocabulary` (tensorflow-text's
    learner) with the reserved tokens `[PAD]` (id 0), `[UNK]`, `[CLS]`,
    `[SEP]` and `[MASK]` first.

    Args:
        documents_or_files: a `tf.data.Dataset` of documents (strings), or
            a file name, glob or list of them (read with `read_documents`:
            one document per line, `.gz` transparent).
        vocabulary_size: int. Maximum size of the vocabulary.
        vocabulary_output_file: optional file to write, one token per line.
        strip_accents: bool. Whether to strip accents as well.

    Returns:
        The list of tokens, in id order.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data import bert_tokenizer
    from tokdrop_keras.data import train_vocabulary
    path = os.path.join(tempfile.mkdtemp(), "corpus.txt")
    with open(path, "w") as file:
        file.write("The whale, the whale!\\nCall me Ishmael.\\n" * 20)
    vocabulary = train_vocabulary(path, vocabulary_size=64)
    assert vocabulary[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer = bert_tokenizer(vocabulary)
    tokens = tokenizer(["the whale"])[0]
    assert [tokenizer.id_to_token(i) for i in tokens] == ["the", "whale"]
    ```
    """
    documents = _documents_dataset(documents_or_files)
    vocabulary = keras_hub.tokenizers.compute_word_piece_vocabulary(
        documents.batch(256),
        vocabulary_size=vocabulary_size,
        lowercase=True,
        strip_accents=strip_accents,
        reserved_tokens=list(BERT_RESERVED_TOKENS),
    )
    check_vocabulary(vocabulary)
    if vocabulary_output_file is not None:
        with filesystem.open_file(vocabulary_output_file, "w") as file:
            file.write("".join(token + "\n" for token in vocabulary))
    return vocabulary


def _documents_dataset(documents_or_files):
    import tensorflow as tf  # keras-hub's WordPiece learner is tf-text's

    if isinstance(documents_or_files, tf.data.Dataset):
        return documents_or_files
    # Fail here on missing files or an empty corpus.
    next(read_documents(documents_or_files))
    return tf.data.Dataset.from_generator(
        lambda: read_documents(documents_or_files),
        output_signature=tf.TensorSpec([], tf.string),
    )
