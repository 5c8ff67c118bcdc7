"""A sentence-pair task built from the held-out pretraining documents:
does sentence B follow sentence A?

Built at run time from the embedded corpus, nothing downloaded or shipped
apart from it. Each document is split into sentences; every pair of
consecutive sentences `(a, b)` gives one example: label 1 with the true
next sentence, or label 0 with `b` replaced by a sentence from another
document of the same split (alternately, seeded, so that half the labels
are 1). Dev and test come from the documents the masked LM holds out
(`is_validation_document`, about 2%; alternate documents to each), so no
pretraining run has seen their text; train comes from every 8th training
document, at most `MAX_TRAIN_EXAMPLES` pairs.

Unlike the sentiment set (one short sentence, a polarity), this task reads
two segments (`[CLS] a [SEP] b [SEP]`, segment ids included) and asks how
they relate: continuity of topic, names and discourse across a sentence
boundary, which is what masked-LM context beyond a sentence gives.
"""

import functools
import random
import re

from tokdrop_keras.data.corpus import embedded_corpus_files
from tokdrop_keras.data.corpus import is_validation_document
from tokdrop_keras.data.corpus import read_documents

ADJACENT_SENTENCES_TASK = "adjacent_sentences"
ADJACENT_SENTENCES_SPLITS = ("train", "dev", "test")
MAX_TRAIN_EXAMPLES = 8000
TRAIN_DOCUMENT_STRIDE = 8
# Sentences shorter than this many words (headings, "Amen.") are skipped.
MIN_WORDS = 4
MAX_WORDS = 40
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'A-Z])")


def split_sentences(document):
    """Splits a document into sentences, at `.`, `!` or `?` followed by a
    space and a capital letter (or a quote).

    Example:
    ```python
    from tokdrop_keras.data.adjacent_sentences import split_sentences
    assert split_sentences("Call me Ishmael. Some years ago! Never mind.") == [
        "Call me Ishmael.", "Some years ago!", "Never mind.",
    ]
    ```
    """
    return [s.strip() for s in _SENTENCE_END.split(document) if s.strip()]


@functools.lru_cache(maxsize=None)
def _split_sentences():
    """The sentences of each document of each split, in corpus order."""
    documents = {split: [] for split in ADJACENT_SENTENCES_SPLITS}
    held_out = trained = 0
    for text in read_documents(embedded_corpus_files()):
        if is_validation_document(text):
            split = ("dev", "test")[held_out % 2]
            held_out += 1
        else:
            trained += 1
            if (trained - 1) % TRAIN_DOCUMENT_STRIDE:
                continue
            split = "train"
        sentences = split_sentences(text)
        if len(sentences) >= 2:
            documents[split].append(sentences)
    return documents


def _usable(sentence):
    return MIN_WORDS <= len(sentence.split()) <= MAX_WORDS


def adjacent_sentence_pairs(split="train", seed=0):
    """The examples of a split: `(sentence_a, sentence_b, label)` triples.

    Args:
        split: `"train"`, `"dev"` or `"test"`.
        seed: int. Which negatives are drawn (the examples are the same
            pairs of consecutive sentences for every seed).

    Returns:
        A list of `(str, str, int)`; label 1 when `b` follows `a`.

    Example:
    ```python
    from tokdrop_keras.data.adjacent_sentences import adjacent_sentence_pairs
    dev = adjacent_sentence_pairs("dev")
    assert 500 < len(dev) < 2000
    assert abs(sum(label for _, _, label in dev) / len(dev) - 0.5) < 0.01
    ```
    """
    if split not in ADJACENT_SENTENCES_SPLITS:
        raise ValueError(
            f"Unknown split {split!r}; expected one of "
            f"{ADJACENT_SENTENCES_SPLITS}."
        )
    documents = _split_sentences()[split]
    usable = [[s for s in sentences if _usable(s)] for sentences in documents]
    rng = random.Random(f"{split}/{seed}")
    examples = []
    for index, sentences in enumerate(documents):
        # Consecutive in the document (none skipped), both of usable length.
        for a, b in zip(sentences, sentences[1:]):
            if not (_usable(a) and _usable(b)):
                continue
            if len(examples) % 2 == 0:
                examples.append((a, b, 1))
                continue
            other = index
            while other == index or not usable[other]:  # another document
                other = rng.randrange(len(documents))
            examples.append((a, rng.choice(usable[other]), 0))
    rng.shuffle(examples)
    if split == "train":
        examples = examples[:MAX_TRAIN_EXAMPLES]
    return examples


def adjacent_sentences_dataset(split="train"):
    """The adjacent-sentences task as a `tf.data.Dataset` of
    `((sentence_a, sentence_b), label)`, as keras-hub's text classifiers
    consume sentence pairs.

    Example:
    ```python
    from tokdrop_keras.data import adjacent_sentences_dataset
    (a, b), label = next(iter(adjacent_sentences_dataset("dev")))
    assert a.dtype == tf.string and label.dtype == tf.int32
    ```
    """
    import tensorflow as tf

    a, b, labels = zip(*adjacent_sentence_pairs(split))
    return tf.data.Dataset.from_tensor_slices(
        ((tf.constant(a), tf.constant(b)), tf.constant(labels, "int32"))
    )
