"""Tokenizing documents and packing them into fixed-length sequences."""

import tensorflow as tf

# Documents per tokenizer call: large enough to amortize the call, small
# enough to keep the parallel map's buffers modest.
DOCUMENTS_PER_CALL = 64


def tokenize_documents(documents, tokenizer):
    """Tokenizes a dataset of documents, a batch of documents at a time.

    Args:
        documents: a `tf.data.Dataset` of string scalars.
        tokenizer: a keras-hub tokenizer with ragged outputs.

    Returns:
        A `tf.data.Dataset` of int32 `tf.RaggedTensor`s `[documents, None]`:
        the token ids of each document, in order.

    Example:
    ```python
    from tokdrop_keras.data import tokenize_documents
    documents = tf.data.Dataset.from_tensor_slices(
        ["The whale!", "Call me Ishmael."]
    )
    token_ids = tokenize_documents(
        documents, tokdrop_keras.data.bert_tokenizer()
    )
    batch = next(iter(token_ids))  # up to 64 documents per batch
    assert batch.to_list() == [[76, 362, 5], [543, 131, 4663, 17]]
    ```
    """
    return documents.batch(DOCUMENTS_PER_CALL).map(
        tokenizer, num_parallel_calls=tf.data.AUTOTUNE
    )


def pack_token_ids(documents_token_ids, sequence_length, separator_id=None):
    """Packs documents into sequences of `sequence_length - 2` token ids.

    As Model Garden's `wiki_books_pretrain_sequence_pack`: the documents are
    concatenated and cut into pieces that fill a `[CLS] ... [SEP]` sequence
    of `sequence_length` tokens; the last piece may be shorter. Every token
    is kept, in order. With `separator_id` (RoBERTa's FULL-SENTENCES
    packing, `</s>`), that token follows each document, so that sequences
    that cross a document boundary mark it.

    Args:
        documents_token_ids: a `tf.data.Dataset` of int32
            `tf.RaggedTensor`s `[documents, None]`, as `tokenize_documents`
            returns.
        sequence_length: int. The length of the model's sequences.
        separator_id: int or `None`. A token added after each document.

    Returns:
        A `tf.data.Dataset` of int32 vectors of at most
        `sequence_length - 2` token ids, without special tokens.

    Example:
    ```python
    from tokdrop_keras.data import pack_token_ids
    pieces = pack_token_ids(tf.data.Dataset.from_tensors(
        tf.ragged.constant([[5, 6, 7], [8, 9]])), sequence_length=4)
    assert [p.tolist() for p in pieces.as_numpy_iterator()] == [
        [5, 6], [7, 8], [9]
    ]
    # RoBERTa's packing: `</s>` (here 2) after each document.
    pieces = pack_token_ids(tf.data.Dataset.from_tensors(
        tf.ragged.constant([[5, 6, 7], [8, 9]])), sequence_length=5,
        separator_id=2)
    assert [p.tolist() for p in pieces.as_numpy_iterator()] == [
        [5, 6, 7], [2, 8, 9], [2]
    ]
    ```
    """

    def flatten(token_ids):
        token_ids = tf.cast(token_ids, tf.int32)
        if separator_id is not None:
            separators = tf.fill([token_ids.nrows(), 1], separator_id)
            token_ids = tf.concat([token_ids, separators], axis=1)
        return token_ids.flat_values

    return (
        documents_token_ids.map(flatten)
        .unbatch()
        .batch(sequence_length - 2)
    )
