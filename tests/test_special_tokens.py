import keras_hub
import pytest

import tokdrop_keras
from tokdrop_keras.special_tokens import BERT_RESERVED_TOKENS


def test_ids_come_from_the_tokenizer_not_from_fixed_positions():
    tokenizer = keras_hub.models.BertTokenizer(
        vocabulary=list(BERT_RESERVED_TOKENS) + ["the"]
    )
    assert tokdrop_keras.special_token_ids(tokenizer) == {
        "always_keep_ids": [2, 3, 4, 1],
        "always_drop_ids": [0],
    }
    # The same tokens elsewhere in the vocabulary: the ids follow them.
    unusual = ["[PAD]"] + [f"[unused{i}]" for i in range(7)] + [
        "[UNK]", "the", "[CLS]", "[SEP]", "[MASK]",
    ]
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=unusual)
    assert tokdrop_keras.special_token_ids(tokenizer) == {
        "always_keep_ids": [10, 11, 12, 8],
        "always_drop_ids": [0],
    }


def test_a_tokenizer_without_a_mask_token_is_named():
    no_mask = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the"]
    )
    with pytest.raises(ValueError, match="has no start token"):
        tokdrop_keras.special_token_ids(no_mask)
