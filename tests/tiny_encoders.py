"""Tiny backbones and masked-LM inputs of every supported architecture.

Each architecture's special tokens sit where its tokenizers put them:
BERT's WordPiece `[PAD] [UNK] [CLS] [SEP] [MASK]` first; RoBERTa's and
XLM-R's fairseq order `<s> <pad> </s> <unk>` with `<mask>` last; DistilBERT
with `[unused*]` tokens before `[UNK]` and `[PAD]` away from id 0 (as some
WordPiece files have them), so nothing may assume id 0 is padding.
"""

import numpy as np

from tokdrop_keras.inputs import MASK_POSITIONS
from tokdrop_keras.inputs import PADDING_MASK
from tokdrop_keras.inputs import SEGMENT_IDS
from tokdrop_keras.inputs import TOKEN_IDS
from tokdrop_keras.models import backbone_for_size
from tokdrop_keras.models import get_architecture

ARCHITECTURES = ("bert", "roberta", "xlm_roberta", "distil_bert")
VOCABULARY_SIZE = 50
# start, end, padding, mask, unknown ids of each architecture's tokenizers.
SPECIAL_TOKEN_LAYOUTS = {
    "bert": dict(start=2, end=3, pad=0, mask=4, unknown=1),
    "roberta": dict(start=0, end=2, pad=1, mask=VOCABULARY_SIZE - 1, unknown=3),
    "xlm_roberta": dict(
        start=0, end=2, pad=1, mask=VOCABULARY_SIZE - 1, unknown=3
    ),
    "distil_bert": dict(start=9, end=10, pad=12, mask=11, unknown=7),
}


def special_ids(architecture="bert"):
    """`special_token_ids`' output for the architecture's layout."""
    ids = SPECIAL_TOKEN_LAYOUTS[architecture]
    return {
        "always_keep_ids": [ids["start"], ids["end"], ids["mask"], ids["unknown"]],
        "always_drop_ids": [ids["pad"]],
    }


def word_ids(architecture="bert"):
    """The ids that are not special tokens."""
    special = set(SPECIAL_TOKEN_LAYOUTS[architecture].values())
    # DistilBERT's [unused*] tokens (ids 0..6) are not words either.
    first = 13 if architecture == "distil_bert" else 0
    return np.array(
        [i for i in range(first, VOCABULARY_SIZE) if i not in special]
    )


def tiny_backbone(
    architecture="bert", num_layers=4, sequence_length=16, dropout=0.0, seed=0
):
    """The `nano` size, narrowed to hidden 16 so that tests run in seconds."""
    return backbone_for_size(
        "nano",
        vocabulary_size=VOCABULARY_SIZE,
        max_sequence_length=sequence_length,
        seed=seed,
        architecture=architecture,
        num_layers=num_layers,
        hidden_dim=16,
        intermediate_dim=32,
        dropout=dropout,
    )


def tiny_inputs(
    architecture="bert",
    batch_size=4,
    sequence_length=16,
    num_predictions=3,
    seed=0,
):
    """MLM inputs `start w.. end pad..`, with some padding, as
    `(x, mask_ids, mask_weights)` with the architecture's input keys; the
    last prediction slot of the first row is padding (weight 0)."""
    ids = SPECIAL_TOKEN_LAYOUTS[architecture]
    rng = np.random.default_rng(seed)
    token_ids = rng.choice(word_ids(architecture), (batch_size, sequence_length))
    lengths = rng.integers(sequence_length // 2, sequence_length + 1, batch_size)
    lengths[0] = sequence_length
    padding_mask = np.arange(sequence_length)[None, :] < lengths[:, None]
    token_ids[:, 0] = ids["start"]
    token_ids[np.arange(batch_size), lengths - 1] = ids["end"]
    token_ids[~padding_mask] = ids["pad"]
    mask_positions = np.stack(
        [
            rng.choice(np.arange(1, n - 1), num_predictions, replace=False)
            for n in lengths
        ]
    )
    mask_ids = np.take_along_axis(token_ids, mask_positions, axis=1)
    masked_token_ids = token_ids.copy()
    np.put_along_axis(masked_token_ids, mask_positions, ids["mask"], axis=1)
    mask_weights = np.ones((batch_size, num_predictions), "float32")
    mask_weights[0, -1] = 0.0
    x = {
        TOKEN_IDS: masked_token_ids.astype("int32"),
        SEGMENT_IDS: np.zeros((batch_size, sequence_length), "int32"),
        PADDING_MASK: padding_mask.astype("int32"),
        MASK_POSITIONS: mask_positions.astype("int32"),
    }
    keys = get_architecture(architecture).input_keys + (MASK_POSITIONS,)
    x = {key: x[key] for key in keys}
    return x, mask_ids.astype("int32"), mask_weights


def backbone_inputs(architecture="bert", **kwargs):
    """`tiny_inputs`' features without `mask_positions`."""
    x, _, _ = tiny_inputs(architecture, **kwargs)
    del x[MASK_POSITIONS]
    return x


def embeddings(backbone, inputs):
    """The backbone's embeddings (before its first transformer layer),
    computed with its own layers, as keras-hub's backbones do."""
    token_ids = inputs[TOKEN_IDS]
    if SEGMENT_IDS in inputs:  # BERT: token + position + segment
        tokens = backbone.token_embedding(token_ids)
        x = backbone.embeddings_add(
            (
                tokens,
                backbone.position_embedding(tokens),
                backbone.segment_embedding(inputs[SEGMENT_IDS]),
            )
        )
    else:  # RoBERTa, XLM-R, DistilBERT: token + position
        x = backbone.embeddings(token_ids)
    return backbone.embeddings_layer_norm(x)
