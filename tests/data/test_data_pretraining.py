import keras_hub
import numpy as np
import pytest

import tokdrop_keras
from tokdrop_keras.data import bert_tokenizer
from tokdrop_keras.data import load_vocabulary
from tokdrop_keras.data import pretraining_dataset

CLS, SEP, PAD, MASK = 2, 3, 0, 4


def write_corpus(path, num_documents, words_per_document, seed=0):
    """Documents of whole-word tokens of the shipped vocabulary, so that each
    word is one token; returns the token ids of each document."""
    vocabulary = load_vocabulary()
    words = [token for token in vocabulary[100:2000] if token.isalpha()]
    rng = np.random.default_rng(seed)
    documents = [
        list(rng.choice(words, size))
        for size in words_per_document(rng, num_documents)
    ]
    path.write_text("".join(" ".join(words) + "\n" for words in documents))
    return [
        [vocabulary.index(word) for word in document] for document in documents
    ]


def unmasked(x, mask_ids, mask_weights):
    """The token ids before masking."""
    token_ids = np.array(x["token_ids"])
    for row, positions in enumerate(np.array(x["mask_positions"])):
        kept = np.array(mask_weights[row]) > 0
        token_ids[row, positions[kept]] = np.array(mask_ids[row])[kept]
    return token_ids


def test_packing_conserves_every_token_in_order(tmp_path):
    documents = write_corpus(
        tmp_path / "corpus.txt", 30, lambda rng, n: rng.integers(1, 40, n)
    )
    dataset = pretraining_dataset(
        str(tmp_path / "corpus.txt"),
        split="all",
        sequence_length=16,
        batch_size=1,
        repeat=False,
        shuffle=False,
    )
    sequences = [unmasked(*batch)[0] for batch in dataset.as_numpy_iterator()]
    assert all(s[0] == CLS for s in sequences)
    content = [s[1 : list(s).index(SEP)] for s in sequences]
    assert all(len(c) == 14 for c in content[:-1])
    # Everything after [SEP] is padding.
    assert all((s[list(s).index(SEP) + 1 :] == PAD).all() for s in sequences)
    tokens_in = [token for document in documents for token in document]
    assert list(np.concatenate(content)) == tokens_in
    assert len(tokens_in) == sum(len(d) for d in documents) > 300


def test_batches_have_the_model_format_and_train(tmp_path):
    write_corpus(tmp_path / "corpus.txt", 20, lambda rng, n: [50] * n)
    dataset = pretraining_dataset(
        str(tmp_path / "corpus.txt"),
        split="all",
        sequence_length=32,
        batch_size=4,
    )
    x_spec, y_spec, w_spec = dataset.element_spec
    assert sorted(x_spec) == [
        "mask_positions",
        "padding_mask",
        "segment_ids",
        "token_ids",
    ]
    for name in ("token_ids", "segment_ids", "padding_mask"):
        assert x_spec[name].shape == (4, 32) and x_spec[name].dtype == "int32"
    assert x_spec["mask_positions"].shape == (4, 5)  # round(0.15 * 32)
    assert y_spec.shape == (4, 5) and y_spec.dtype == "int32"
    assert w_spec.shape == (4, 5) and w_spec.dtype == "float32"
    x, _, _ = next(dataset.as_numpy_iterator())
    assert (x["segment_ids"] == 0).all()

    tokenizer = bert_tokenizer()
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=2,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=32,
    )
    model = tokdrop_keras.TokenDropBertMaskedLM(
        backbone, **tokdrop_keras.special_token_ids(tokenizer)
    )
    model.compile()
    history = model.fit(dataset, steps_per_epoch=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_masking_rate_and_never_special_tokens(tmp_path):
    write_corpus(
        tmp_path / "corpus.txt", 200, lambda rng, n: rng.integers(5, 300, n)
    )
    dataset = pretraining_dataset(
        str(tmp_path / "corpus.txt"),
        split="all",
        sequence_length=128,
        batch_size=16,
    )
    selected = eligible = masked = 0
    for x, mask_ids, mask_weights in dataset.take(30).as_numpy_iterator():
        original = unmasked(x, mask_ids, mask_weights)
        chosen = mask_weights > 0
        positions = x["mask_positions"][chosen]
        rows = np.nonzero(chosen)[0]
        # Never a special token nor padding.
        assert not np.isin(
            original[rows, positions], [CLS, SEP, PAD, MASK]
        ).any()
        assert (x["padding_mask"][rows, positions] == 1).all()
        # Unselected tokens are unchanged.
        changed = x["token_ids"] != original
        changed[rows, positions] = False
        assert not changed.any()
        selected += chosen.sum()
        eligible += (~np.isin(original, [CLS, SEP, PAD, MASK])).sum()
        masked += (x["token_ids"][rows, positions] == MASK).sum()
    # tensorflow-text selects ceil(0.15 * n) of n tokens: 19 of 126 here.
    assert abs(selected / eligible - 0.15) < 0.01
    assert abs(masked / selected - 0.8) < 0.03


def test_masks_are_seeded_and_fresh_each_epoch(tmp_path):
    # 8 documents of 14 tokens: each epoch is exactly 8 sequences of 16.
    write_corpus(tmp_path / "corpus.txt", 8, lambda rng, n: [14] * n)

    def batches(seed):
        dataset = pretraining_dataset(
            str(tmp_path / "corpus.txt"),
            split="all",
            sequence_length=16,
            batch_size=8,
            seed=seed,
            shuffle=False,
        )
        return list(dataset.take(2).as_numpy_iterator())

    first, second = batches(seed=0), batches(seed=0)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a[0]["token_ids"], b[0]["token_ids"])
        np.testing.assert_array_equal(
            a[0]["mask_positions"], b[0]["mask_positions"]
        )
    epoch_1, epoch_2 = first
    np.testing.assert_array_equal(unmasked(*epoch_1), unmasked(*epoch_2))
    assert (epoch_1[0]["mask_positions"] != epoch_2[0]["mask_positions"]).any()
    other_seed = batches(seed=1)[0]
    assert (
        other_seed[0]["mask_positions"] != epoch_1[0]["mask_positions"]
    ).any()


def test_bad_arguments_raise(tmp_path):
    with pytest.raises(
        ValueError, match="above the backbone's max_sequence_length=512"
    ):
        pretraining_dataset(sequence_length=1024, max_sequence_length=512)
    with pytest.raises(ValueError, match="use at least 3"):
        pretraining_dataset(sequence_length=2)
    with pytest.raises(ValueError, match=r"No file matches .*nothing\*"):
        pretraining_dataset(str(tmp_path / "nothing*"))
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n")
    with pytest.raises(
        ValueError, match=r"vocab\.txt.*missing reserved tokens \['\[MASK\]'\]"
    ):
        pretraining_dataset(vocabulary=str(tmp_path / "vocab.txt"))
