"""Tokenizers of Hugging Face checkpoint folders (`load_tokenizer(path)`):
the ids transformers' tokenizers give, checked against the libraries they
are built on (`tokenizers`, `sentencepiece`) reading the same files."""

import json
import os
import shutil

import numpy as np
import pytest

import transformers_reference as reference
from tokdrop_keras import load_tokenizer
from tokdrop_keras.data.tokenizers import SHIPPED_VOCABULARIES

# Accents, capitals, digits, punctuation, an emoji, CJK, an unknown word.
MIXED_TEXT = (
    "Café naïve RÉSUMÉ: in 1851, 3.14 whales — Ishmael's qwzxv 🐳 鯨 sea-going!"
)


def _ids(tokenizer, text):
    return [int(i) for i in np.asarray(tokenizer([text])[0])]


def _wordpiece_folder(tmp_path, **settings):
    folder = str(tmp_path / "bert")
    os.makedirs(folder)
    shutil.copy(SHIPPED_VOCABULARIES["wordpiece"], os.path.join(folder, "vocab.txt"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as file:
        json.dump(settings, file)
    with open(os.path.join(folder, "config.json"), "w") as file:
        json.dump({"model_type": "bert"}, file)
    return folder


@pytest.mark.parametrize(
    "settings, lowercase, strip_accents",
    [
        ({"do_lower_case": True}, True, True),  # strip_accents follows
        ({"do_lower_case": False}, False, False),
        ({"do_lower_case": True, "strip_accents": False}, True, False),
    ],
)
def test_wordpiece_ids_are_transformers_bert_tokenizers(
    settings, lowercase, strip_accents, tmp_path
):
    import tokenizers

    folder = _wordpiece_folder(tmp_path, **settings)
    expected = tokenizers.BertWordPieceTokenizer(
        os.path.join(folder, "vocab.txt"), lowercase=lowercase,
        strip_accents=strip_accents, clean_text=True, handle_chinese_chars=True,
    ).encode(MIXED_TEXT, add_special_tokens=False).ids
    tokenizer = load_tokenizer(folder)
    assert _ids(tokenizer, MIXED_TEXT) == expected
    assert tokenizer.token_to_id("[UNK]") in expected  # the emoji
    if lowercase and strip_accents:  # "café" -> "cafe": known, not [UNK]
        assert expected.count(tokenizer.token_to_id("[UNK]")) < 6


def test_byte_pair_ids_are_transformers_roberta_tokenizers(tmp_path):
    import tokenizers

    folder = str(tmp_path / "roberta")
    reference.write_checkpoint("roberta", folder)
    expected = tokenizers.ByteLevelBPETokenizer(
        os.path.join(folder, "vocab.json"), os.path.join(folder, "merges.txt"),
        add_prefix_space=False,
    ).encode(MIXED_TEXT).ids
    tokenizer = load_tokenizer(folder)
    assert _ids(tokenizer, MIXED_TEXT) == expected
    assert tokenizer.detokenize([expected]) == [MIXED_TEXT]


def test_sentencepiece_ids_are_transformers_xlm_roberta_tokenizers(tmp_path):
    import sentencepiece

    folder = str(tmp_path / "xlm_roberta")
    reference.write_checkpoint("xlm_roberta", folder)
    model = sentencepiece.SentencePieceProcessor(
        model_file=os.path.join(folder, "sentencepiece.bpe.model")
    )
    # XLMRobertaTokenizer: fairseq's <s> <pad> </s> <unk> first, the
    # model's pieces one up, its <unk> at 3.
    expected = [
        3 if piece == model.unk_id() else piece + 1
        for piece in model.encode(MIXED_TEXT)
    ]
    assert 3 in expected
    assert _ids(load_tokenizer(folder), MIXED_TEXT) == expected


def test_a_path_that_is_no_checkpoint_names_the_architectures(tmp_path):
    with pytest.raises(ValueError, match="neither an architecture.*'roberta'"):
        load_tokenizer(str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="neither a Hugging Face checkpoint nor"):
        load_tokenizer(str(tmp_path))  # a folder, empty
