"""Tiny BERT configs and inputs shared by the tests."""

import numpy as np

import tokdrop_keras
from tokdrop_keras.inputs import MASK_POSITIONS
from tokdrop_keras.inputs import PADDING_MASK
from tokdrop_keras.inputs import SEGMENT_IDS
from tokdrop_keras.inputs import TOKEN_IDS
from tokdrop_keras.models import backbone_for_size
from tokdrop_keras.special_tokens import BERT_RESERVED_TOKENS

VOCABULARY = list(BERT_RESERVED_TOKENS) + [f"w{i}" for i in range(45)]
PAD, UNK, CLS, SEP, MASK = (VOCABULARY.index(t) for t in BERT_RESERVED_TOKENS)


def tiny_tokenizer():
    import keras_hub

    return keras_hub.models.BertTokenizer(vocabulary=VOCABULARY)


SPECIAL_IDS = tokdrop_keras.special_token_ids(tiny_tokenizer())


def tiny_backbone(num_layers=4, sequence_length=16, dropout=0.0, seed=0):
    """The `nano` size, narrowed to hidden 16 so that tests run in seconds."""
    return backbone_for_size(
        "nano",
        vocabulary_size=len(VOCABULARY),
        max_sequence_length=sequence_length,
        seed=seed,
        num_layers=num_layers,
        hidden_dim=16,
        intermediate_dim=32,
        dropout=dropout,
    )


def tiny_inputs(batch_size=4, sequence_length=16, num_predictions=3, seed=0):
    """MLM inputs `[CLS] w.. [SEP] [PAD]..`, with some padding, as
    `(x, mask_ids, mask_weights)`; the last prediction slot of the first row
    is padding (weight 0)."""
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(5, len(VOCABULARY), (batch_size, sequence_length))
    lengths = rng.integers(sequence_length // 2, sequence_length + 1, batch_size)
    lengths[0] = sequence_length
    padding_mask = np.arange(sequence_length)[None, :] < lengths[:, None]
    token_ids[:, 0] = CLS
    token_ids[np.arange(batch_size), lengths - 1] = SEP
    token_ids[~padding_mask] = PAD
    mask_positions = np.stack(
        [
            rng.choice(np.arange(1, n - 1), num_predictions, replace=False)
            for n in lengths
        ]
    )
    mask_ids = np.take_along_axis(token_ids, mask_positions, axis=1)
    masked_token_ids = token_ids.copy()
    np.put_along_axis(masked_token_ids, mask_positions, MASK, axis=1)
    mask_weights = np.ones((batch_size, num_predictions), "float32")
    mask_weights[0, -1] = 0.0
    x = {
        TOKEN_IDS: masked_token_ids.astype("int32"),
        SEGMENT_IDS: np.zeros((batch_size, sequence_length), "int32"),
        PADDING_MASK: padding_mask.astype("int32"),
        MASK_POSITIONS: mask_positions.astype("int32"),
    }
    return x, mask_ids.astype("int32"), mask_weights


def backbone_inputs(**kwargs):
    """`tiny_inputs`' features without `mask_positions`."""
    x, _, _ = tiny_inputs(**kwargs)
    del x[MASK_POSITIONS]
    return x
