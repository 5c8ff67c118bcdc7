"""Tiny BERT configs and inputs shared by the tests."""

import keras
import keras_hub
import numpy as np

PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4
SPECIAL_IDS = {"always_keep_ids": [CLS, SEP, MASK, UNK], "always_drop_ids": [PAD]}
VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [
    f"w{i}" for i in range(45)
]


def tiny_backbone(num_layers=4, sequence_length=16, dropout=0.0, seed=0):
    keras.utils.set_random_seed(seed)
    return keras_hub.models.BertBackbone(
        vocabulary_size=len(VOCABULARY),
        num_layers=num_layers,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=sequence_length,
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
        "token_ids": masked_token_ids.astype("int32"),
        "segment_ids": np.zeros((batch_size, sequence_length), "int32"),
        "padding_mask": padding_mask.astype("int32"),
        "mask_positions": mask_positions.astype("int32"),
    }
    return x, mask_ids.astype("int32"), mask_weights
