"""The masked-LM pretraining `tf.data` pipeline."""

import tensorflow as tf
import tensorflow_datasets as tfds

from tokdrop_keras.data.corpus import EMBEDDED_CORPUS_PATTERN
from tokdrop_keras.data.corpus import text_dataset
from tokdrop_keras.data.masking import MaskedLMInputs
from tokdrop_keras.data.masking import max_predictions_for
from tokdrop_keras.data.model_garden import model_garden_dataset
from tokdrop_keras.data.packing import pack_token_ids
from tokdrop_keras.data.pipelines import SINGLE_SPLIT_PREFIXES
from tokdrop_keras.data.pipelines import has_validation_split  # noqa: F401
from tokdrop_keras.data.packing import tokenize_documents
from tokdrop_keras.data.tfds_builders import tfds_builder
from tokdrop_keras.data.tfrecords import TokenIdParser
from tokdrop_keras.data.tfrecords import token_id_records
from tokdrop_keras.data.tokenizers import load_tokenizer
from tokdrop_keras.models.architectures import get_architecture
from tokdrop_keras.inputs import MASK_RATE
from tokdrop_keras.special_tokens import special_token_roles

DOCUMENT_SHUFFLE_BUFFER = 1_000
SEQUENCE_SHUFFLE_BUFFER = 10_000
RECORDS_PER_PARSE = 64


def record_pattern(source):
    """The file pattern of a record source (`"tfrecord:"` /
    `"model_garden:"`), or `None` for text and TFDS sources.

    Example:
    ```python
    from tokdrop_keras.data.pretraining import record_pattern
    assert record_pattern("tfrecord:records/train-*") == "records/train-*"
    assert record_pattern("embedded") is None
    ```
    """
    for prefix in SINGLE_SPLIT_PREFIXES:
        if source.startswith(prefix):
            return source[len(prefix):]
    return None


def _documents(source, split, data_dir, seed, shuffle):
    """The documents (strings) of a text or TFDS source."""
    if source.startswith("tfds:"):
        name = source[len("tfds:") :]
        builder = tfds_builder(name, data_dir=data_dir)
        if "text" not in builder.info.features:
            raise ValueError(
                f"TFDS dataset {name!r} has no 'text' feature (it has "
                f"{sorted(builder.info.features)}); pretraining needs one "
                "document per example in 'text'."
            )
        documents = builder.as_dataset(
            split=split,
            shuffle_files=shuffle,
            read_config=tfds.ReadConfig(shuffle_seed=seed),
        )
        return documents.map(lambda example: example["text"])
    pattern = EMBEDDED_CORPUS_PATTERN if source == "embedded" else source
    return text_dataset(pattern, split)


# At most this many documents, 8 at a time until one holds a token, are
# read at construction to check that the text tokenizes to something.
DOCUMENTS_CHECKED = 256


def _fresh_sentencepiece(tokenizer):
    """A new copy of a SentencePiece tokenizer, other tokenizers as they are.

    keras-hub builds a SentencePiece tokenizer's tf-text model when it is
    constructed, as a kernel in TensorFlow's kernel cache, which
    `tf.random.set_seed` (and so `keras.utils.set_random_seed`, building a
    model) clears: its datasets would then fail with "Resource ...
    SentencepieceOp ... does not exist". A copy made here lives as long as
    the kernel cache is not cleared again (seed first, then build data).
    """
    proto = getattr(tokenizer, "proto", None)
    if proto is None:
        return tokenizer
    return type(tokenizer)(proto=proto, sequence_length=tokenizer.sequence_length)


def check_documents_tokenize(documents, tokenizer, source):
    """Raises unless the first documents of `source` hold a token.

    Without it, a corpus that tokenizes to nothing (control characters,
    a vocabulary of another script) would make the repeated pipeline loop
    forever looking for a first sequence.

    Example:
    ```python
    from tokdrop_keras.data.pretraining import check_documents_tokenize
    tokenizer = tokdrop_keras.data.load_tokenizer("bert")
    documents = tf.data.Dataset.from_tensor_slices(["\x01\x02", "\x03"])
    try:
        check_documents_tokenize(documents, tokenizer, "control.txt")
        raise AssertionError("a corpus without tokens was accepted")
    except ValueError as error:
        assert "tokenize to nothing" in str(error)
    ```
    """
    checked = 0
    # Tokenized eagerly, outside tf.data: keras-hub builds a tokenizer's
    # TensorFlow ops in the first tf.data function that calls it, and a
    # SentencePiece model built in this check's function would vanish with
    # it, failing the training pipeline's calls.
    for batch in documents.take(DOCUMENTS_CHECKED).batch(8):
        texts = [text.decode("utf-8") for text in batch.numpy()]
        token_ids = tokenizer(texts)
        if hasattr(token_ids, "flat_values"):
            tokens = int(tf.size(token_ids.flat_values))
        else:  # keras-hub's Python tokenizers return lists
            tokens = sum(len(ids) for ids in token_ids)
        if tokens > 0:
            return
        checked += len(texts)
    raise ValueError(
        f"The documents of {source!r} tokenize to nothing with "
        f"{type(tokenizer).__name__} (the first {checked} checked): no "
        "token to pretrain on. Is it the right file and vocabulary?"
    )


def pretraining_dataset(
    source="embedded",
    split="train",
    sequence_length=128,
    batch_size=32,
    vocabulary=None,
    seed=0,
    repeat=True,
    mask_rate=MASK_RATE,
    max_predictions=None,
    max_sequence_length=None,
    shuffle=True,
    data_dir=None,
    architecture="bert",
    tokenizer=None,
):
    """Masked-LM batches for `TokenDropMaskedLM` (or keras-hub's masked LM)
    of an architecture.

    Documents are tokenized with the architecture's tokenizer (`tokenizer`,
    or `load_tokenizer(architecture, vocabulary)`: lowercase WordPiece for
    BERT and DistilBERT, byte-level BPE for RoBERTa, SentencePiece for
    XLM-R) and packed as the architecture was pretrained
    (`pack_token_ids`): BERT and DistilBERT concatenate the documents and
    cut `[CLS] ... [SEP]` sequences of `sequence_length` tokens (segment
    ids 0, no next-sentence task, as Model Garden's token-dropping
    records); RoBERTa and XLM-R pack FULL-SENTENCES, documents joined by an
    extra `</s>`, into `<s> ... </s>` sequences. Then masked dynamically
    with the tokenizer's mask token (`MaskedLMInputs`): fresh masks every
    epoch, the same stream for the same `seed`.

    Yields `(x, mask_ids, mask_weights)` with `x` the architecture's
    masked-LM inputs (BERT: `{"token_ids", "segment_ids", "padding_mask",
    "mask_positions"}`; the others have no `segment_ids`): int32
    `[batch_size, sequence_length]` (and `[batch_size, max_predictions]`
    for `mask_positions`); `mask_ids` int32 and `mask_weights` float32
    `[batch_size, max_predictions]`.

    Args:
        source: where the documents come from:
            `"embedded"`: the embedded corpus;
            a text file, glob or `gs://` path, one document per line
            (`.gz` read transparently);
            `"tfrecord:<glob>"`: token-id records of
            `write_pretraining_tfrecords` (their files are the split:
            `split` is not used);
            `"model_garden:<glob>"`: Model Garden pretraining records, with
            the masks written in them (see `model_garden_dataset`; `split`,
            `vocabulary` and the masking options are not used);
            `"tfds:<name>"`: a TFDS dataset with a `text` feature, e.g.
            `"tfds:tokdrop_corpus"` or `"tfds:wikipedia/20230601.en"`.
        split: for text sources `"train"` (98% of documents),
            `"validation"` (the held-out 2%, see `is_validation_document`)
            or `"all"`; for TFDS, a TFDS split.
        sequence_length: int. Tokens per sequence, `[CLS]` and `[SEP]`
            included.
        batch_size: int. Incomplete last batches are dropped.
        vocabulary: list of tokens or vocabulary file; `None` is the shipped
            vocabulary.
        seed: int. Seeds the shuffles and the masks.
        repeat: bool. Repeat forever (documents are reshuffled and masks
            drawn afresh each pass).
        mask_rate: float. Fraction of the tokens to predict.
        max_predictions: int or `None` (`round(mask_rate * sequence_length)`).
        max_sequence_length: int or `None`: the backbone's maximum sequence
            length, checked now.
        shuffle: bool. Shuffle documents and sequences.
        data_dir: TFDS data directory for `"tfds:"` sources.
        architecture: one of `tokdrop_keras.models.ARCHITECTURE_NAMES`.
        tokenizer: a keras-hub tokenizer of the architecture; overrides
            `vocabulary`. (The dataset uses a copy of a SentencePiece
            tokenizer, whose tf-text model lives in TensorFlow's kernel
            cache: `tf.random.set_seed` and `keras.utils.set_random_seed`
            clear it, so seed before building the dataset, as `pretrain`
            does.)

    Raises:
        ValueError: now (not in `fit`) for missing files, an empty corpus, a
            vocabulary without the reserved tokens, `sequence_length` above
            `max_sequence_length`, or records with wrong features.

    Example:
    ```python
    from tokdrop_keras.data import pretraining_dataset
    dataset = pretraining_dataset(
        sequence_length=32, batch_size=4, shuffle=False
    )
    x, mask_ids, mask_weights = next(iter(dataset))
    assert x["token_ids"].shape == (4, 32)
    assert x["mask_positions"].shape == mask_ids.shape == (4, 5)  # 15% of 32
    tokenizer = tokdrop_keras.data.bert_tokenizer()
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(), num_layers=2,
        num_heads=2, hidden_dim=16, intermediate_dim=32,
        max_sequence_length=32,
    )
    model = tokdrop_keras.TokenDropBertMaskedLM(
        backbone, **tokdrop_keras.special_token_ids(tokenizer)
    )
    logits = model(x)
    assert logits.shape == (4, 5, tokenizer.vocabulary_size())
    # model.compile(); model.fit(dataset, steps_per_epoch=1000) pretrains it.
    ```
    """
    if sequence_length < 3:
        raise ValueError(
            f"sequence_length={sequence_length} leaves no room for tokens "
            "between [CLS] and [SEP]; use at least 3."
        )
    if (
        max_sequence_length is not None
        and sequence_length > max_sequence_length
    ):
        raise ValueError(
            f"sequence_length={sequence_length} is above the backbone's "
            f"max_sequence_length={max_sequence_length}."
        )
    predictions = (
        max_predictions
        if max_predictions is not None
        else max_predictions_for(sequence_length, mask_rate)
    )
    if predictions < 1:
        raise ValueError(
            f"sequence_length={sequence_length} with mask_rate={mask_rate} "
            "masks no token (max_predictions rounds to 0): nothing to learn."
        )
    architecture_spec = get_architecture(architecture)
    if source.startswith("model_garden:"):
        if architecture != "bert":
            raise ValueError(
                "Model Garden's pretraining records are BERT's (WordPiece "
                f"ids, segment ids); architecture={architecture!r} reads "
                "text, TFDS or `tfrecord:` sources."
            )
        return model_garden_dataset(
            source[len("model_garden:") :],
            batch_size=batch_size,
            sequence_length=sequence_length,
            max_sequence_length=max_sequence_length,
            seed=seed,
            shuffle=shuffle,
            repeat=repeat,
        )
    if tokenizer is None:
        tokenizer = load_tokenizer(architecture, vocabulary)
    tokenizer = _fresh_sentencepiece(tokenizer)
    if source.startswith("tfrecord:"):
        pattern = source[len("tfrecord:") :]
        documents = token_id_records(pattern)
        to_token_ids = TokenIdParser(tokenizer.vocabulary_size(), pattern)
    else:
        documents = _documents(source, split, data_dir, seed, shuffle)
        check_documents_tokenize(documents, tokenizer, source)
        to_token_ids = None
    if shuffle:
        documents = documents.shuffle(DOCUMENT_SHUFFLE_BUFFER, seed=seed)
    if repeat:
        documents = documents.repeat()
    if to_token_ids is None:
        token_ids = tokenize_documents(documents, tokenizer)
    else:
        token_ids = documents.batch(RECORDS_PER_PARSE).map(
            to_token_ids, num_parallel_calls=tf.data.AUTOTUNE
        )
    separator_id = None
    if architecture_spec.packing == "full_sentences":
        separator_id = special_token_roles(tokenizer)["end"]
    sequences = pack_token_ids(token_ids, sequence_length, separator_id)
    if shuffle:
        sequences = sequences.shuffle(SEQUENCE_SHUFFLE_BUFFER, seed=seed)
    inputs = MaskedLMInputs(
        tokenizer,
        sequence_length,
        mask_rate,
        max_predictions,
        seed,
        input_keys=architecture_spec.input_keys,
    )
    return (
        sequences.ragged_batch(batch_size, drop_remainder=True)
        .map(inputs.pack, num_parallel_calls=tf.data.AUTOTUNE)
        # Sequential: the masks' random stream must not depend on timing.
        .map(inputs.mask)
        .prefetch(tf.data.AUTOTUNE)
    )
