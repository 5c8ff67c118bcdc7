"""The Grain pipeline beside the tf.data one: the same ids where the
tokenizers agree, the same packing, masking statistics within sampling
error, determinism, resume and sharding."""

import json

import numpy as np
import pytest
import tensorflow as tf

import tokdrop_keras
from tokdrop_keras.data import load_tokenizer
from tokdrop_keras.data.grain_pipeline import grain_pretraining_dataset
from tokdrop_keras.data.grain_pipeline import read_source_documents
from tokdrop_keras.data.masking import MaskedLMInputs
from tokdrop_keras.data.numpy_masking import NumpyMaskedLMInputs
from tokdrop_keras.data.packing import pack_token_ids
from tokdrop_keras.data.packing import tokenize_documents
from tokdrop_keras.data.text_encoders import text_encoder
from tokdrop_keras.special_tokens import special_token_roles

ARCHITECTURES = ("bert", "distil_bert", "roberta", "xlm_roberta")
# Share of documents whose ids equal keras-hub's tf-text tokenizer's, on
# every 20th document of the embedded corpus (measured 2026-12-05: WordPiece
# 104/105, a U+2010 hyphen the `tokenizers` normalizer leaves unknown;
# byte-level BPE 101/105, GPT-2's own split of " 'tis" where keras-hub's
# tf-text split differs; SentencePiece 105/105).
AGREEMENT = {"bert": 0.97, "distil_bert": 0.97, "roberta": 0.9, "xlm_roberta": 1.0}


@pytest.fixture(scope="module")
def sample_documents():
    return read_source_documents("embedded", "all")[::20]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_the_same_documents_give_the_same_ids_where_the_tokenizers_agree(
    architecture, sample_documents
):
    tokenizer = load_tokenizer(architecture)
    encoder = text_encoder(tokenizer)
    # keras-hub runs tf-text inside tf.data (eagerly, its Python code).
    theirs = [
        ids
        for batch in tokenize_documents(
            tf.data.Dataset.from_tensor_slices(sample_documents), tokenizer
        )
        for ids in batch.to_list()
    ]
    same = [
        encoder.encode(text).tolist() == ids
        for text, ids in zip(sample_documents, theirs)
    ]
    assert np.mean(same) >= AGREEMENT[architecture], np.mean(same)
    # Where they differ, they differ in a few tokens, not in the document.
    lengths = [
        abs(len(encoder.encode(text)) - len(ids)) / len(ids)
        for text, ids in zip(sample_documents, theirs)
    ]
    assert max(lengths) < 0.01


@pytest.mark.parametrize("architecture", ("bert", "roberta"))
def test_packing_equals_tf_data_on_the_same_ids(architecture):
    tokenizer = load_tokenizer(architecture)
    documents = ["Call me Ishmael.", "The whale, the whale!", "It is a truth."] * 7
    pipeline = grain_pretraining_dataset(
        "embedded", sequence_length=12, batch_size=2, shuffle=False,
        repeat=False, tokenizer=tokenizer, architecture=architecture,
        documents=documents,
    )
    roles = special_token_roles(tokenizer)
    separator = roles["end"] if architecture == "roberta" else None
    expected = [
        piece.tolist()
        for piece in pack_token_ids(
            tokenize_documents(tf.data.Dataset.from_tensor_slices(documents), tokenizer),
            12, separator,
        ).as_numpy_iterator()
    ]
    inputs = NumpyMaskedLMInputs(tokenizer, 12)
    packed = [
        row.tolist()
        for batch in iter(pipeline._parent)
        for row in batch
    ]
    assert packed == [row.tolist() for row in inputs.pack(expected[: len(packed)])]
    assert len(packed) == len(expected) // 2 * 2  # the last batch is dropped
    if separator is not None:  # FULL-SENTENCES: </s> between documents
        assert sum(row.count(separator) for row in packed) > len(packed)


def masking_statistics(x, mask_ids, mask_weights, token_ids, mask_id):
    weights = mask_weights.astype(bool)
    rows = np.arange(len(token_ids))[:, None]
    chosen = x["token_ids"][rows, x["mask_positions"]][weights]
    original = mask_ids[weights]
    return {
        "predicted": weights.sum() / (x["padding_mask"].sum() - 2 * len(token_ids)),
        "mask": np.mean(chosen == mask_id),
        "unchanged": np.mean(chosen == original),
    }


def test_masking_statistics_agree_with_keras_hubs_within_sampling_error():
    tokenizer = load_tokenizer("bert")
    roles = special_token_roles(tokenizer)
    rng = np.random.default_rng(0)
    lengths = rng.integers(20, 127, size=256)
    pieces = [rng.integers(10, tokenizer.vocabulary_size(), n) for n in lengths]
    ours = NumpyMaskedLMInputs(tokenizer, 128)
    token_ids = ours.pack(pieces)
    x, mask_ids, weights = ours.mask(token_ids, rng)
    theirs = MaskedLMInputs(tokenizer, 128, seed=1)
    tx, tmask_ids, tweights = next(iter(
        tf.data.Dataset.from_tensors(tf.ragged.constant([p.tolist() for p in pieces]))
        .map(theirs.pack).map(theirs.mask)
    ))
    tx = {key: value.numpy() for key, value in tx.items()}
    # The same number of predictions per sequence: ceil(15% of its tokens).
    np.testing.assert_array_equal(weights.sum(1), tweights.numpy().sum(1))
    np.testing.assert_array_equal(x["padding_mask"], tx["padding_mask"])
    ours_stats = masking_statistics(x, mask_ids, weights, token_ids, roles["mask"])
    theirs_stats = masking_statistics(
        tx, tmask_ids.numpy(), tweights.numpy(), token_ids, roles["mask"]
    )
    predictions = weights.sum()  # ~4,700
    for name, rate in (("mask", 0.8), ("unchanged", 0.1 + 0.1 / 8192)):
        sigma = np.sqrt(rate * (1 - rate) / predictions)
        assert abs(ours_stats[name] - rate) < 4 * sigma, (name, ours_stats)
        assert abs(theirs_stats[name] - rate) < 4 * sigma, (name, theirs_stats)
    assert 0.15 <= ours_stats["predicted"] < 0.16
    # Never a special token, positions in order and unique.
    positions = x["mask_positions"]
    special = np.isin(token_ids[np.arange(256)[:, None], positions], ours.unselectable_ids)
    assert not special[weights.astype(bool)].any()
    for row, count in zip(positions, weights.sum(1).astype(int)):
        assert (np.diff(row[:count]) > 0).all()


def first_batches(dataset, count):
    batches = iter(dataset)
    return [next(batches) for _ in range(count)]


def assert_same_batches(first, second):
    for (x, ids, weights), (y, other_ids, other_weights) in zip(first, second):
        for key in x:
            np.testing.assert_array_equal(x[key], y[key])
        np.testing.assert_array_equal(ids, other_ids)
        np.testing.assert_array_equal(weights, other_weights)


@pytest.fixture(scope="module")
def train_documents():
    return read_source_documents("embedded", "train")


def test_deterministic_from_the_seed_and_resumable_with_skip(train_documents):
    options = dict(sequence_length=32, batch_size=4, documents=train_documents)
    first = first_batches(grain_pretraining_dataset(seed=3, **options), 5)
    assert_same_batches(first, first_batches(grain_pretraining_dataset(seed=3, **options), 5))
    resumed = first_batches(grain_pretraining_dataset(seed=3, **options).skip(3), 2)
    assert_same_batches(first[3:], resumed)
    other = first_batches(grain_pretraining_dataset(seed=4, **options), 1)
    assert not np.array_equal(other[0][0]["token_ids"], first[0][0]["token_ids"])


def test_worker_processes_give_a_deterministic_resumable_stream(train_documents):
    options = dict(
        sequence_length=32, batch_size=4, documents=train_documents, workers=2
    )
    dataset = grain_pretraining_dataset(**options)
    first = first_batches(dataset, 4)
    assert_same_batches(first[2:], first_batches(grain_pretraining_dataset(**options).skip(2), 2))
    # The workers' recorded position too (each worker's own state).
    state = json.loads(json.dumps(dataset.state_at(2)))
    restored = grain_pretraining_dataset(**options).restored(state)
    assert_same_batches(first[2:], first_batches(restored, 2))


def test_a_recorded_position_resumes_across_shuffle_windows_reading_one_window(
    train_documents, monkeypatch
):
    import tokdrop_keras.data.grain_pipeline as grain_pipeline

    # Windows of 7 sequences: 60 batches of 2 per shard cross 17 of them;
    # short documents (about 15 tokens), so that 60 batches read hundreds.
    monkeypatch.setattr(grain_pipeline, "SEQUENCE_SHUFFLE_WINDOW", 7)
    documents = [document[:80] for document in train_documents]
    options = dict(
        sequence_length=32, batch_size=4, documents=documents, seed=5,
        shard_index=(0, 1), shard_count=2,
    )
    dataset = grain_pretraining_dataset(**options)
    first = first_batches(dataset, 64)
    assert dataset.state_at(64) is not None and dataset.state_at(99) is None
    state = json.loads(json.dumps(dataset.state_at(60)))  # as written to disk
    assert state["index"] == 60
    calls = []
    encode = grain_pipeline._TokenIds.__call__
    monkeypatch.setattr(
        grain_pipeline._TokenIds, "__call__",
        lambda self, document: calls.append(1) or encode(self, document),
    )
    restored = first_batches(grain_pretraining_dataset(**options).restored(state), 4)
    assert_same_batches(first[60:], restored)
    restore_reads, calls[:] = len(calls), []
    assert_same_batches(first[60:], first_batches(dataset.skip(60), 4))
    # Re-reading tokenizes every document before batch 60; the recorded
    # position, those of one window (and the prefetch's 64 read ahead).
    assert restore_reads < len(calls) / 2, (restore_reads, len(calls))
    with pytest.raises(ValueError, match="this process reads 1"):
        grain_pretraining_dataset(**{**options, "shard_index": 0}).restored(state)


def test_worker_buffers_stay_within_the_open_file_limit(monkeypatch):
    import resource

    from tokdrop_keras.data.grain_pipeline import worker_buffer_size

    monkeypatch.setattr(resource, "getrlimit", lambda kind: (1024, 1024))
    with pytest.warns(UserWarning, match="keep 8 batches ready each, not a shuffle window's 313"):
        # 15 workers x 8 batches x 2 descriptors <= a quarter of 1024.
        assert worker_buffer_size(32, 512, workers=15) == 8
    monkeypatch.setattr(resource, "getrlimit", lambda kind: (1 << 20, 1 << 20))
    assert worker_buffer_size(32, 128, workers=15) == 313  # a window


def test_each_process_reads_its_own_shard():
    tokenizer = load_tokenizer("bert")
    words = [w for w in tokenizer.get_vocabulary() if w.isalpha() and len(w) > 4][:40]
    documents = [f"{word} " * 20 for word in words]
    seen = []
    for index in range(2):
        dataset = grain_pretraining_dataset(
            sequence_length=16, batch_size=1, shuffle=False, repeat=False,
            documents=documents, shard_index=index, shard_count=2,
            tokenizer=tokenizer,
        )
        read = set()
        for x, _, _ in dataset:
            tokens = {tokenizer.id_to_token(int(i)) for i in x["token_ids"][0]}
            read |= tokens & set(words)
        seen.append(read)
    assert seen[0] == set(words[0::2]) and seen[1] == set(words[1::2])


def test_bad_sources_fail_early_naming_the_problem(tmp_path):
    with pytest.raises(ValueError, match="tf.data pipeline only"):
        grain_pretraining_dataset("tfds:tokdrop_corpus")
    control = tmp_path / "control.txt"
    control.write_text("\x01\x02\n\x03\n")
    with pytest.raises(ValueError, match="tokenize to nothing"):
        grain_pretraining_dataset(str(control), split="all")
    with pytest.raises(ValueError, match="holds no document"):
        grain_pretraining_dataset(str(control), split="validation")
    with pytest.raises(ValueError, match="No file matches"):
        grain_pretraining_dataset(str(tmp_path / "missing*.txt"))


def test_token_id_records_read_without_tensorflow_give_the_same_batches(tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("".join(f"Call me Ishmael, {i} times.\n" for i in range(200)))
    tokdrop_keras.data.write_pretraining_tfrecords(
        str(text), str(tmp_path / "records"), num_shards=1, verbose=False
    )
    options = dict(sequence_length=16, batch_size=4, shuffle=False, repeat=False)
    from_records = list(
        grain_pretraining_dataset(f"tfrecord:{tmp_path}/records-*", **options)
    )
    from_text = list(grain_pretraining_dataset(str(text), split="all", **options))
    assert len(from_records) == len(from_text) > 10
    assert_same_batches(from_records, from_text)
