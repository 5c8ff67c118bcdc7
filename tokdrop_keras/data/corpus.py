"""Text corpora: one document per line, and the embedded corpus."""

import gzip
import os
import warnings

import tokdrop_keras.filesystem as filesystem

from tokdrop_keras.data.fingerprint import hash_bucket

ASSETS_DIR = os.path.join(os.path.dirname(__file__), "assets")
EMBEDDED_CORPUS_PATTERN = os.path.join(ASSETS_DIR, "pretrain", "*.txt.gz")
# 1 document in 50 (2%) is held out, chosen by a fingerprint of its text:
# stable across runs, machines and TensorFlow versions, and the same in
# Python and inside a `tf.data` graph.
VALIDATION_BUCKETS = 50
SPLITS = ("train", "validation", "all")


def _as_list(file_patterns):
    if isinstance(file_patterns, (str, os.PathLike)):
        return [os.fspath(file_patterns)]
    return [os.fspath(pattern) for pattern in file_patterns]


def match_files(file_patterns):
    """Expands file patterns (globs, `gs://` paths) into sorted file names.

    Args:
        file_patterns: a file name or glob, or a list of them.

    Returns:
        The sorted list of matching files.

    Raises:
        ValueError: if a pattern matches no file.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data import match_files
    folder = tempfile.mkdtemp()
    for name in ("b.txt.gz", "a.txt.gz", "notes.md"):
        open(os.path.join(folder, name), "w").close()
    files = match_files(os.path.join(folder, "*.txt.gz"))
    assert [os.path.basename(path) for path in files] == [
        "a.txt.gz", "b.txt.gz"
    ]
    try:
        match_files(os.path.join(folder, "*.csv"))
        raise AssertionError("a pattern without a file was accepted")
    except ValueError as error:
        assert "No file matches" in str(error)
    ```
    """
    files = []
    for pattern in _as_list(file_patterns):
        matches = filesystem.glob(pattern)
        if not matches:
            raise ValueError(f"No file matches {pattern!r}.")
        files.extend(matches)
    return files


def _open(path):
    handle = filesystem.open_file(path, "rb")
    if path.endswith(".gz"):
        return gzip.GzipFile(fileobj=handle, mode="rb")
    return handle


def _read_file(path):
    bad_bytes = bad_lines = 0
    with _open(path) as lines:
        for line in lines:
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                text = line.decode("utf-8", errors="replace")
                # Count only the replacements, not U+FFFD already in the file.
                bad_bytes += text.count("\ufffd") - line.count(
                    "\ufffd".encode("utf-8")
                )
                bad_lines += 1
            text = text.strip()
            if text:
                yield text
    if bad_lines:
        warnings.warn(
            f"{path}: replaced {bad_bytes} undecodable bytes (not UTF-8) "
            f"with U+FFFD in {bad_lines} documents.",
            stacklevel=3,
        )


def read_documents(file_patterns):
    """Reads documents from text files, one document per line.

    `.gz` files are decompressed; paths go through `tf.io.gfile`, so
    `gs://` works. Blank lines are skipped. Bytes that are not UTF-8 are
    replaced with U+FFFD and counted in a warning per file.

    Args:
        file_patterns: a file name or glob, or a list of them.

    Yields:
        Each document, as a `str`.

    Raises:
        ValueError: if a pattern matches no file, or if the files hold no
            document (raised when the files are exhausted).

    Example:
    ```python
    import gzip
    import tempfile
    from tokdrop_keras.data import read_documents
    folder = tempfile.mkdtemp()
    with gzip.open(os.path.join(folder, "books.txt.gz"), "wt") as file:
        file.write("Call me Ishmael.\\n\\nIt is a truth universally "
                   "acknowledged.\\n")
    with open(os.path.join(folder, "wiki.txt"), "w") as file:
        file.write("Keras is a deep learning API.\\n")
    documents = list(read_documents([
        os.path.join(folder, "books.txt.gz"), os.path.join(folder, "*.txt"),
    ]))
    assert documents == [
        "Call me Ishmael.",
        "It is a truth universally acknowledged.",
        "Keras is a deep learning API.",
    ]
    ```
    """
    files = match_files(file_patterns)
    count = 0
    for path in files:
        for document in _read_file(path):
            count += 1
            yield document
    if not count:
        raise ValueError(
            f"Empty corpus: the files of {_as_list(file_patterns)} hold no "
            "document (expected one document per non-blank line)."
        )


def embedded_corpus_files():
    """Returns the files of the embedded, public-domain corpus.

    About 20 MB of English, one document per line: State of the Union
    addresses, Jane Austen's novels, Moby-Dick and the World English Bible
    (see `tokdrop_keras/data/assets/README.md`).

    Example:
    ```python
    files = tokdrop_keras.data.embedded_corpus_files()
    assert [os.path.basename(path) for path in files] == [
        "austen.txt.gz", "moby_dick.txt.gz", "state_of_the_union.txt.gz",
        "world_english_bible.txt.gz",
    ]
    ```
    """
    return match_files(EMBEDDED_CORPUS_PATTERN)


def is_validation_document(text):
    """Whether a document is in the held-out (MLM validation) split.

    About 2% of documents (1 in `VALIDATION_BUCKETS`), chosen by a
    fingerprint (FarmHash) of the document's text. Works on a Python string
    (computed without TensorFlow, by `fingerprint.hash_bucket`) and on
    string tensors, also inside `tf.data`.

    Args:
        text: a `str`, or a string tensor of documents.

    Returns:
        A `bool` for a `str`, else a boolean tensor of the same shape.

    Example:
    ```python
    from tokdrop_keras.data import is_validation_document
    assert is_validation_document("document 100")
    assert not is_validation_document("document 101")
    held_out = is_validation_document(tf.constant(["document 100", "document 101"]))
    assert held_out.numpy().tolist() == [True, False]
    ```
    """
    if isinstance(text, str):
        # The same bucket as the graph's, computed without TensorFlow.
        return hash_bucket(text, VALIDATION_BUCKETS) == 0
    import tensorflow as tf

    return tf.equal(
        tf.strings.to_hash_bucket_fast(text, VALIDATION_BUCKETS), 0
    )


def split_documents(documents, split):
    """Keeps the documents of a split of a `tf.data.Dataset` of documents.

    Args:
        documents: a `tf.data.Dataset` of string scalars.
        split: `"train"` (about 98%), `"validation"` (about 2%, see
            `is_validation_document`) or `"all"`.

    Example:
    ```python
    from tokdrop_keras.data import split_documents
    documents = tf.data.Dataset.from_tensor_slices(
        [f"document {i}" for i in range(200)]
    )
    validation = split_documents(documents, "validation")
    assert list(validation.as_numpy_iterator()) == [
        b"document 100", b"document 109", b"document 119"
    ]
    train = split_documents(documents, "train")
    assert len(list(train.as_numpy_iterator())) == 197
    ```
    """
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}; expected one of {SPLITS}.")
    import tensorflow as tf

    if split == "all":
        return documents
    held_out = split == "validation"
    return documents.filter(
        lambda text: tf.equal(is_validation_document(text), held_out)
    )


def text_dataset(file_patterns, split="all"):
    """A `tf.data.Dataset` of the documents of text files.

    Args:
        file_patterns: a file name or glob, or a list of them (see
            `read_documents`).
        split: `"train"`, `"validation"` or `"all"` (see
            `split_documents`).

    Raises:
        ValueError: now, not while iterating, if a pattern matches no file
            or the files hold no document.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data import text_dataset
    path = os.path.join(tempfile.mkdtemp(), "corpus.txt")
    with open(path, "w") as file:
        file.write("first document\\n\\nsecond document\\n")
    documents = text_dataset(path)
    assert list(documents.as_numpy_iterator()) == [
        b"first document", b"second document"
    ]
    ```
    """
    patterns = _as_list(file_patterns)
    # Fail here on missing files or an empty corpus, before any training.
    next(read_documents(patterns))
    import tensorflow as tf

    documents = tf.data.Dataset.from_generator(
        lambda: read_documents(patterns),
        output_signature=tf.TensorSpec([], tf.string),
    )
    documents = split_documents(documents, split)
    # A corpus whose split is empty would train on zero batches.
    if next(iter(documents.take(1)), None) is None:
        raise ValueError(
            f"The {split!r} split of {patterns} holds no document (2% of "
            "the documents, chosen by their text, are 'validation'; the "
            "rest 'train')."
        )
    return documents


def embedded_documents(split="train"):
    """The documents of the embedded corpus, as a `tf.data.Dataset`.

    Args:
        split: `"train"` (about 98% of documents), `"validation"` (the
            held-out 2%, see `is_validation_document`) or `"all"`.

    Example:
    ```python
    from tokdrop_keras.data import embedded_documents
    first = next(iter(embedded_documents("validation"))).numpy().decode()
    assert first.startswith("It is a truth universally acknowledged")
    assert tokdrop_keras.data.is_validation_document(first)
    ```
    """
    return text_dataset(embedded_corpus_files(), split)
