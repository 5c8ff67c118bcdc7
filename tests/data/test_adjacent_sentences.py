"""The adjacent-sentences task built from the embedded corpus."""

import pytest

from tokdrop_keras.data import adjacent_sentences as task
from tokdrop_keras.data.corpus import embedded_corpus_files
from tokdrop_keras.data.corpus import is_validation_document
from tokdrop_keras.data.corpus import read_documents


@pytest.fixture(scope="module")
def splits():
    return {split: task.adjacent_sentence_pairs(split) for split in task.ADJACENT_SENTENCES_SPLITS}


@pytest.fixture(scope="module")
def documents():
    by_split = {"held_out": [], "trained": []}
    for text in read_documents(embedded_corpus_files()):
        key = "held_out" if is_validation_document(text) else "trained"
        by_split[key].append(task.split_sentences(text))
    return by_split


def test_sizes_and_balance(splits):
    assert len(splits["train"]) == task.MAX_TRAIN_EXAMPLES
    assert 850 <= len(splits["dev"]) <= 1050 and 700 <= len(splits["test"]) <= 850
    for examples in splits.values():
        positive = sum(label for _, _, label in examples) / len(examples)
        assert abs(positive - 0.5) < 0.01


def test_labels_say_whether_b_follows_a(splits, documents):
    next_sentence = {}
    document_of = {}
    for key, docs in documents.items():
        for index, sentences in enumerate(docs):
            for a, b in zip(sentences, sentences[1:]):
                next_sentence.setdefault(a, set()).add(b)
            for sentence in sentences:
                document_of.setdefault(sentence, set()).add((key, index))
    for split, examples in splits.items():
        for a, b, label in examples[:400]:
            if label == 1:
                assert b in next_sentence[a]
            else:
                # From another document: not a's document's next sentence.
                assert b not in next_sentence.get(a, ())
                assert not (document_of[a] & document_of[b]), (split, a, b)


def test_dev_and_test_hold_text_pretraining_never_sees(splits, documents):
    held_out = {s for sentences in documents["held_out"] for s in sentences}
    trained = {s for sentences in documents["trained"] for s in sentences}
    for split in ("dev", "test"):
        texts = {s for a, b, _ in splits[split] for s in (a, b)}
        assert texts <= held_out
        # A few short stock sentences ("And it was so.") occur in both.
        assert len(texts & trained) < 0.01 * len(texts)
    dev = {s for a, b, _ in splits["dev"] for s in (a, b)}
    test = {s for a, b, _ in splits["test"] for s in (a, b)}
    assert len(dev & test) < 0.01 * len(dev)


def test_the_same_seed_gives_the_same_examples(splits):
    assert task.adjacent_sentence_pairs("dev") == splits["dev"]
    other = task.adjacent_sentence_pairs("dev", seed=1)
    assert other != splits["dev"] and len(other) == len(splits["dev"])


def test_an_unknown_split_is_named():
    with pytest.raises(ValueError, match="Unknown split 'validation'"):
        task.adjacent_sentence_pairs("validation")
