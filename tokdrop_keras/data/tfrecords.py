"""TFRecords of tokenized documents: written once, packed and masked at read.

Each record is a `tf.train.Example` with one feature, `token_ids`
(`int64_list`): the WordPiece ids of one document, without special tokens.
Packing into sequences happens at read time, so the same records serve any
sequence length (128, then 512).
"""

import os

import keras
import numpy as np
import tensorflow as tf

from tokdrop_keras.data.corpus import match_files
from tokdrop_keras.data.corpus import text_dataset
from tokdrop_keras.data.packing import tokenize_documents
from tokdrop_keras.data.vocabulary import bert_tokenizer

TOKEN_IDS_FEATURE = "token_ids"


def read_first_example(path):
    """Parses the first record of a TFRecord file as a `tf.train.Example`.

    Args:
        path: a TFRecord file.

    Raises:
        ValueError: naming the file if it holds no record or is not a file of
            `tf.train.Example`s.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data.tfrecords import read_first_example
    path = os.path.join(tempfile.mkdtemp(), "train-00000-of-00001.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(tf.train.Example(features=tf.train.Features(feature={
            "token_ids": tf.train.Feature(
                int64_list=tf.train.Int64List(value=[76, 362, 5])
            ),
        })).SerializeToString())
    example = read_first_example(path)
    assert example.features.feature["token_ids"].int64_list.value == [76, 362, 5]
    ```
    """
    try:
        records = list(
            tf.data.TFRecordDataset(path).take(1).as_numpy_iterator()
        )
    except tf.errors.OpError as error:
        raise ValueError(f"{path}: not a TFRecord file ({error.message}).")
    if not records:
        raise ValueError(f"{path}: the TFRecord file holds no record.")
    try:
        return tf.train.Example.FromString(records[0])
    except Exception as error:  # protobuf's DecodeError
        raise ValueError(f"{path}: not a tf.train.Example record ({error}).")


def find_unreadable_record(file_patterns):
    """The first record that cannot be read, as `(file, index, error)`, or
    `None` when every record of every file reads.

    TensorFlow's reader names neither the file nor the record when a
    TFRecord file is truncated or corrupted; this reads each file on its own
    to find them (called after such a failure, so a healthy run pays
    nothing).

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data.tfrecords import find_unreadable_record
    path = os.path.join(tempfile.mkdtemp(), "a.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for _ in range(3):
            writer.write(b"x" * 100)
    assert find_unreadable_record(path) is None
    with open(path, "r+b") as file:
        file.truncate(250)  # cut into the third record
    file_name, index, _ = find_unreadable_record(path)
    assert (file_name, index) == (path, 2)
    ```
    """
    for path in match_files(file_patterns):
        index = 0
        try:
            for _ in tf.data.TFRecordDataset(path):
                index += 1
        except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as error:
            return path, index, error.message.splitlines()[0]
    return None


def _check_token_id_records(files):
    for path in files:
        features = read_first_example(path).features.feature
        if TOKEN_IDS_FEATURE not in features:
            hint = (
                " These look like Model Garden records: use the source "
                f"'model_garden:{path}'."
                if "input_word_ids" in features
                else ""
            )
            raise ValueError(
                f"{path}: records have features {sorted(features)}, expected "
                f"{TOKEN_IDS_FEATURE!r} (int64 token ids of a document).{hint}"
            )
        if features[TOKEN_IDS_FEATURE].WhichOneof("kind") != "int64_list":
            raise ValueError(
                f"{path}: feature {TOKEN_IDS_FEATURE!r} must be an "
                "int64_list of token ids."
            )


def token_id_records(file_patterns):
    """The serialized records of token-id TFRecord files.

    Args:
        file_patterns: a file name or glob, or a list of them.

    Returns:
        A `tf.data.Dataset` of serialized records; parse batches of them
        with `TokenIdParser`.

    Raises:
        ValueError: now, naming the file, if a pattern matches no file or a
            file does not hold token-id records.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data import token_id_records
    from tokdrop_keras.data import write_pretraining_tfrecords
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "corpus.txt"), "w") as file:
        file.write("The whale!\\nCall me Ishmael.\\n")
    write_pretraining_tfrecords(
        os.path.join(folder, "corpus.txt"), os.path.join(folder, "train"),
        num_shards=2, verbose=False,
    )
    records = token_id_records(os.path.join(folder, "train-*.tfrecord"))
    assert len(list(records)) == 2  # one serialized record per document
    ```
    """
    files = match_files(file_patterns)
    _check_token_id_records(files)
    return tf.data.TFRecordDataset(files, num_parallel_reads=min(len(files), 4))


class TokenIdParser:
    """Parses batches of token-id records into ragged int32 token ids.

    Args:
        vocabulary_size: int. Ids must be below it; records written with a
            larger vocabulary fail with a message naming `source`.
        source: what to name in that message (e.g. the file pattern).

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data import token_id_records
    from tokdrop_keras.data import write_pretraining_tfrecords
    from tokdrop_keras.data.tfrecords import TokenIdParser
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "corpus.txt"), "w") as file:
        file.write("The whale!\\nCall me Ishmael.\\n")
    write_pretraining_tfrecords(
        os.path.join(folder, "corpus.txt"), os.path.join(folder, "data"),
        num_shards=1, verbose=False,
    )
    pattern = os.path.join(folder, "data-*.tfrecord")
    parse = TokenIdParser(vocabulary_size=7954, source=pattern)  # shipped
    token_ids = token_id_records(pattern).batch(64).map(parse)
    assert next(iter(token_ids)).to_list() == [
        [76, 362, 5], [543, 131, 4663, 17]
    ]
    ```
    """

    def __init__(self, vocabulary_size, source):
        self.vocabulary_size = vocabulary_size
        self.source = source

    def __call__(self, serialized):
        token_ids = tf.io.parse_example(
            serialized, {TOKEN_IDS_FEATURE: tf.io.RaggedFeature(tf.int64)}
        )[TOKEN_IDS_FEATURE]
        check = tf.debugging.assert_less(
            token_ids.flat_values,
            tf.constant(self.vocabulary_size, tf.int64),
            message=(
                f"{self.source}: token ids of the records are not below the "
                f"vocabulary size {self.vocabulary_size}; were they written "
                "with another vocabulary?"
            ),
        )
        with tf.control_dependencies([check]):
            return tf.cast(token_ids, "int32")


def _token_ids_example(token_ids):
    feature = tf.train.Feature(int64_list=tf.train.Int64List(value=token_ids))
    return tf.train.Example(
        features=tf.train.Features(feature={TOKEN_IDS_FEATURE: feature})
    ).SerializeToString()


def write_pretraining_tfrecords(
    file_patterns,
    output_prefix,
    vocabulary=None,
    num_shards=8,
    split="all",
    sequence_length=128,
    verbose=True,
):
    """Tokenizes text files into sharded TFRecords of token ids.

    One record per document (see the module docstring); documents go to the
    shards in turn. Read them back with
    `pretraining_dataset(source="tfrecord:<output_prefix>-*")`, which packs
    and masks them.

    Args:
        file_patterns: text files or globs, one document per line (see
            `read_documents`).
        output_prefix: path prefix of the shards, written as
            `{output_prefix}-00000-of-00008.tfrecord` and so on.
        vocabulary: list of tokens or vocabulary file; `None` is the
            shipped vocabulary.
        num_shards: int. Number of output files.
        split: `"train"`, `"validation"` or `"all"` documents (see
            `is_validation_document`).
        sequence_length: int. Only used to count the packed sequences in
            the summary.
        verbose: bool. Show a progress bar and print the summary.

    Returns:
        A dict: `files`, `documents`, `sequences`, `tokens`,
        `unknown_tokens`, `unknown_rate`.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data import pretraining_dataset
    from tokdrop_keras.data import write_pretraining_tfrecords
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "corpus.txt"), "w") as file:
        file.write("The whale!\\nCall me Ishmael.\\nIt is a truth.\\n")
    summary = write_pretraining_tfrecords(
        os.path.join(folder, "*.txt"), os.path.join(folder, "records", "train"),
        num_shards=2, sequence_length=8, verbose=False,
    )
    assert (summary["documents"], summary["tokens"]) == (3, 12)
    assert summary["sequences"] == 2  # 12 tokens, 6 per sequence of 8
    assert [os.path.basename(path) for path in summary["files"]] == [
        "train-00000-of-00002.tfrecord", "train-00001-of-00002.tfrecord"
    ]
    dataset = pretraining_dataset(
        source="tfrecord:" + os.path.join(folder, "records", "train-*"),
        sequence_length=8, batch_size=2, shuffle=False,
    )
    x, mask_ids, mask_weights = next(iter(dataset))
    assert x["token_ids"].shape == (2, 8)
    ```
    """
    tokenizer = bert_tokenizer(vocabulary)
    unknown_id = tokenizer.token_to_id(tokenizer.oov_token)
    documents = text_dataset(file_patterns, split)
    files = [
        f"{output_prefix}-{shard:05d}-of-{num_shards:05d}.tfrecord"
        for shard in range(num_shards)
    ]
    output_dir = os.path.dirname(output_prefix)
    if output_dir:
        tf.io.gfile.makedirs(output_dir)
    progress = keras.utils.Progbar(None, unit_name="document", verbose=verbose)
    writers = [tf.io.TFRecordWriter(path) for path in files]
    num_documents = num_tokens = num_unknown = 0
    try:
        for batch in tokenize_documents(documents, tokenizer):
            for token_ids in batch.numpy():
                writers[num_documents % num_shards].write(
                    _token_ids_example(token_ids)
                )
                num_documents += 1
                num_tokens += len(token_ids)
                num_unknown += int(np.sum(token_ids == unknown_id))
            progress.update(num_documents)
    finally:
        for writer in writers:
            writer.close()
    summary = {
        "files": files,
        "documents": num_documents,
        "sequences": -(-num_tokens // (sequence_length - 2)),
        "tokens": num_tokens,
        "unknown_tokens": num_unknown,
        "unknown_rate": num_unknown / max(num_tokens, 1),
    }
    if verbose:
        print(
            f"\nWrote {num_documents:,} documents, {num_tokens:,} tokens "
            f"({summary['sequences']:,} sequences of {sequence_length}; "
            f"unknown-token rate {summary['unknown_rate']:.4%}) to "
            f"{num_shards} files {output_prefix}-*."
        )
    return summary
