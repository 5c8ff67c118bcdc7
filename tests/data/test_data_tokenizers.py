"""Each architecture's tokenizer and pretraining data: the shipped
vocabularies, ids checked against independent readers of the same files,
packing, masking with the tokenizer's own ids, and bad input."""

import json
import os

import keras_hub
import numpy as np
import pytest
import tensorflow as tf

import tokdrop_keras
from tokdrop_keras.data import load_tokenizer
from tokdrop_keras.data import pretraining_dataset
from tokdrop_keras.data import train_tokenizer
from tokdrop_keras.data.tokenizers import SHIPPED_VOCABULARIES
from tokdrop_keras.models import get_architecture

ARCHITECTURES = ("bert", "roberta", "xlm_roberta", "distil_bert")
MIXED_TEXT = "Café naïve 1234 emoji 🐳 unknownword Zürich — “quotes” 3.14"
TOKENIZER_CLASSES = {
    "bert": keras_hub.models.BertTokenizer,
    "roberta": keras_hub.models.RobertaTokenizer,
    "xlm_roberta": keras_hub.models.XLMRobertaTokenizer,
    "distil_bert": keras_hub.models.DistilBertTokenizer,
}


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_the_shipped_tokenizer_and_its_special_ids(architecture):
    tokenizer = load_tokenizer(architecture)
    assert type(tokenizer) is TOKENIZER_CLASSES[architecture]
    ids = tokdrop_keras.special_token_ids(tokenizer)
    if architecture in ("bert", "distil_bert"):
        assert tokenizer.vocabulary_size() == 7954
        assert ids == {"always_keep_ids": [2, 3, 4, 1], "always_drop_ids": [0]}
    else:  # fairseq's order, <mask> last; RoBERTa's BPE emits no <unk>
        assert tokenizer.vocabulary_size() == 8192
        unknown = [3] if architecture == "xlm_roberta" else []
        assert ids == {
            "always_keep_ids": [0, 2, 8191] + unknown, "always_drop_ids": [1]
        }


def test_byte_pair_ids_equal_the_tokenizers_library_on_the_same_files():
    import tokenizers

    folder = SHIPPED_VOCABULARIES["byte_pair"]
    with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as file:
        merges = [tuple(line.split()) for line in file.read().splitlines()[1:]]
    with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as file:
        vocabulary = json.load(file)
    reference = tokenizers.Tokenizer(
        tokenizers.models.BPE(vocab=vocabulary, merges=merges)
    )
    reference.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(
        add_prefix_space=False
    )
    tokenizer = load_tokenizer("roberta")
    texts = [MIXED_TEXT, "Call me Ishmael. Some years ago—never mind how long"]
    for text, ids in zip(texts, tokenizer(texts)):
        assert [int(i) for i in np.asarray(ids)] == reference.encode(text).ids
    # Byte-level: every text comes back exactly.
    assert tokenizer.detokenize(tokenizer([MIXED_TEXT])) == [MIXED_TEXT]


def test_sentencepiece_ids_are_the_model_s_in_fairseq_order():
    import sentencepiece

    model = sentencepiece.SentencePieceProcessor(
        model_file=SHIPPED_VOCABULARIES["sentencepiece"]
    )
    assert [model.id_to_piece(i) for i in range(3)] == ["<unk>", "<s>", "</s>"]
    tokenizer = load_tokenizer("xlm_roberta")
    pieces = model.encode(MIXED_TEXT)
    # fairseq: <s> <pad> </s> <unk> are 0-3; the other pieces move up one.
    expected = [3 if piece == model.unk_id() else piece + 1 for piece in pieces]
    assert [int(i) for i in np.asarray(tokenizer([MIXED_TEXT])[0])] == expected
    assert 3 in expected  # the emoji is unknown: <unk>, always kept


@pytest.mark.parametrize("kind, architecture", [
    ("wordpiece", "distil_bert"),
    ("byte_pair", "roberta"),
    ("sentencepiece", "xlm_roberta"),
])
def test_a_vocabulary_learned_from_a_corpus_loads(kind, architecture, tmp_path):
    corpus = os.path.join(tmp_path, "corpus.txt")
    with open(corpus, "w") as file:
        for i in range(200):
            file.write(f"The whale number {i} swam past the ship, said Ishmael.\n")
    output = os.path.join(
        tmp_path, "vocab.txt" if kind == "wordpiece" else kind
    )
    vocabulary = train_tokenizer(kind, corpus, 300, output)
    tokenizer = load_tokenizer(architecture, vocabulary)
    ids = tokdrop_keras.special_token_ids(tokenizer)
    assert ids["always_drop_ids"] == [tokenizer.pad_token_id]
    assert tokenizer.mask_token_id in ids["always_keep_ids"]
    tokens = np.asarray(tokenizer(["the whale"])[0])
    assert len(tokens) >= 2 and not set(tokens.tolist()) & set(
        ids["always_keep_ids"] + ids["always_drop_ids"]
    )


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_batches_are_the_architecture_s_masked_lm_inputs(architecture):
    spec = get_architecture(architecture)
    tokenizer = load_tokenizer(architecture)
    ids = tokdrop_keras.special_token_ids(tokenizer)
    start, end, mask = ids["always_keep_ids"][:3]
    x, mask_ids, mask_weights = next(iter(pretraining_dataset(
        sequence_length=64, batch_size=4, shuffle=False,
        architecture=architecture,
    )))
    # The keys of keras-hub's own masked-LM preprocessor for it.
    preprocessor = spec.masked_lm_preprocessor_class(
        tokenizer, sequence_length=64
    )
    reference, _, _ = preprocessor(tf.constant(["the whale"]))
    assert sorted(x) == sorted(reference)
    token_ids = x["token_ids"].numpy()
    assert (token_ids[:, 0] == start).all() and (token_ids[:, -1] == end).all()
    positions = x["mask_positions"].numpy()
    masked = np.take_along_axis(token_ids, positions, axis=1)
    predicted = mask_weights.numpy() > 0
    # 80/10/10: most predictions show the tokenizer's own mask token.
    assert 0.6 < (masked[predicted] == mask).mean() < 0.95
    assert not np.isin(mask_ids.numpy()[predicted], [start, end, mask]).any()


def test_roberta_packs_full_sentences_with_a_separator(tmp_path):
    corpus = os.path.join(tmp_path, "two.txt")
    with open(corpus, "w") as file:
        file.write("Call me Ishmael.\nThe whale!\n")
    tokenizer = load_tokenizer("roberta")
    x, _, _ = next(iter(pretraining_dataset(
        corpus, split="all", sequence_length=16, batch_size=1,
        shuffle=False, repeat=False, architecture="roberta", mask_rate=0.01,
        max_predictions=1,
    )))
    first, second = tokenizer(["Call me Ishmael.", "The whale!"])
    body = [int(i) for i in np.asarray(first)] + [2] + [
        int(i) for i in np.asarray(second)
    ] + [2]
    token_ids = x["token_ids"].numpy()[0]
    # <s> doc1 </s> doc2 </s>, the sequence's own </s>, then <pad>s.
    expected = [0] + body + [2]
    expected += [1] * (16 - len(expected))
    kept = token_ids != tokenizer.mask_token_id
    np.testing.assert_array_equal(token_ids[kept], np.array(expected)[kept])


def test_a_corpus_that_tokenizes_to_nothing_is_named(tmp_path):
    corpus = os.path.join(tmp_path, "control.txt")
    with open(corpus, "w") as file:
        file.write("\x01\x02\n\x03\n")
    with pytest.raises(ValueError, match="tokenize to nothing"):
        pretraining_dataset(corpus, split="all", architecture="bert")


def test_a_tokenizer_without_a_mask_token_is_named():
    # A WordPiece tokenizer that names its other special tokens only.
    tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the"]
    )
    tokenizer.pad_token_id, tokenizer.cls_token_id = 0, 2
    tokenizer.sep_token_id = 3
    with pytest.raises(ValueError, match="has no mask token"):
        pretraining_dataset(tokenizer=tokenizer, sequence_length=16)


def test_missing_vocabulary_files_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"missing .*merges.txt"):
        os.makedirs(tmp_path / "bpe")
        with open(tmp_path / "bpe" / "vocab.json", "w") as file:
            json.dump({"<s>": 0}, file)
        load_tokenizer("roberta", str(tmp_path / "bpe"))
    with pytest.raises(ValueError, match="sentencepiece.bpe.model"):
        load_tokenizer("xlm_roberta", str(tmp_path))
    with pytest.raises(ValueError, match="'albert' is neither an architecture"):
        load_tokenizer("albert")
