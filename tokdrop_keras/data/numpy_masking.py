"""From packed token ids to the masked-LM model's inputs, in NumPy: the
Grain pipeline's counterpart of `MaskedLMInputs` (which runs keras-hub's
tf-text layers), with the same rules and the same outputs."""

import numpy as np

from tokdrop_keras.inputs import BERT_BACKBONE_INPUTS
from tokdrop_keras.inputs import MASK_POSITIONS
from tokdrop_keras.inputs import MASK_RATE
from tokdrop_keras.inputs import PADDING_MASK
from tokdrop_keras.inputs import SEGMENT_IDS
from tokdrop_keras.inputs import TOKEN_IDS
from tokdrop_keras.special_tokens import special_token_roles

# keras-hub's `MaskedLMMaskGenerator` defaults (BERT's 80/10/10).
MASK_TOKEN_RATE = 0.8
RANDOM_TOKEN_RATE = 0.1


def max_predictions_for(sequence_length, mask_rate=MASK_RATE):
    """The number of prediction slots per sequence: `round(rate * length)`.

    Example:
    ```python
    from tokdrop_keras.data import max_predictions_for
    assert max_predictions_for(128) == 19  # round(0.15 * 128)
    assert max_predictions_for(512, mask_rate=0.2) == 102
    ```
    """
    return int(round(mask_rate * sequence_length))


class NumpyMaskedLMInputs:
    """Turns packed token ids into masked-LM model inputs, in NumPy.

    `pack` adds the tokenizer's start and end tokens and padding;
    `mask` selects `mask_rate` of each sequence's tokens (rounded up, at
    most `max_predictions`; never a special token: start, end, padding,
    mask, unknown), then puts the mask token in 80% of them, a random id
    (uniform over the vocabulary) in 10% and leaves 10% unchanged:
    keras-hub's `MaskedLMMaskGenerator`, as `MaskedLMInputs` runs it on
    tf.data. The positions are in sequence order, unused slots 0 with
    weight 0. Every id comes from the tokenizer.

    Args:
        tokenizer: a keras-hub tokenizer of one of the architectures.
        sequence_length: int. Length of the sequences, specials included.
        mask_rate: float. Fraction of the tokens to predict.
        max_predictions: int or `None` (`round(mask_rate * sequence_length)`).
        input_keys: the backbone's inputs (`segment_ids`, all 0, only
            where they are among them, as for BERT).

    Example:
    ```python
    from tokdrop_keras.data.numpy_masking import NumpyMaskedLMInputs
    tokenizer = tokdrop_keras.data.load_tokenizer("bert")
    inputs = NumpyMaskedLMInputs(tokenizer, sequence_length=16, max_predictions=3)
    token_ids = inputs.pack([[76, 362, 5], [543, 131, 4663, 17]])
    assert token_ids[1, :7].tolist() == [2, 543, 131, 4663, 17, 3, 0]
    x, mask_ids, mask_weights = inputs.mask(token_ids, np.random.default_rng(0))
    assert x["token_ids"].shape == (2, 16) and mask_ids.shape == (2, 3)
    assert x["padding_mask"].sum(axis=1).tolist() == [5, 6]
    # 15% of 3 and 4 tokens, rounded up: one prediction per sequence.
    assert mask_weights.sum(axis=1).tolist() == [1.0, 1.0]
    ```
    """

    def __init__(
        self,
        tokenizer,
        sequence_length,
        mask_rate=MASK_RATE,
        max_predictions=None,
        input_keys=BERT_BACKBONE_INPUTS,
    ):
        if max_predictions is None:
            max_predictions = max_predictions_for(sequence_length, mask_rate)
        roles = special_token_roles(tokenizer)  # raises naming a missing token
        self.sequence_length = sequence_length
        self.mask_rate = mask_rate
        self.max_predictions = max_predictions
        self.input_keys = tuple(input_keys)
        self.vocabulary_size = tokenizer.vocabulary_size()
        self.start_id = roles["start"]
        self.end_id = roles["end"]
        self.pad_id = roles["padding"]
        self.mask_id = roles["mask"]
        self.unselectable_ids = np.array(
            sorted({i for i in roles.values() if i is not None}), np.int32
        )

    def pack(self, pieces):
        """Pieces of at most `sequence_length - 2` ids → int32
        `[len(pieces), sequence_length]`: start, the piece, end, padding."""
        token_ids = np.full(
            (len(pieces), self.sequence_length), self.pad_id, np.int32
        )
        for row, piece in enumerate(pieces):
            length = len(piece)
            token_ids[row, 0] = self.start_id
            token_ids[row, 1 : length + 1] = piece
            token_ids[row, length + 1] = self.end_id
        return token_ids

    def mask(self, token_ids, rng):
        """Masks `[batch, sequence_length]` ids with the random generator
        `rng`; returns `(x, mask_ids, mask_weights)`."""
        batch_size, length = token_ids.shape
        predictions = self.max_predictions
        selectable = ~np.isin(token_ids, self.unselectable_ids)
        # float32, as tf-text's `RandomItemSelector` rounds.
        wanted = np.ceil(
            selectable.sum(axis=1).astype(np.float32) * np.float32(self.mask_rate)
        ).astype(np.int64)
        wanted = np.minimum(wanted, predictions)
        keys = rng.random((batch_size, length))
        keys[~selectable] = 2.0  # after every selectable position
        candidates = np.argsort(keys, axis=1, kind="stable")[:, :predictions]
        taken = np.arange(predictions)[None, :] < wanted[:, None]
        positions = np.sort(np.where(taken, candidates, length), axis=1)
        weights = positions < length
        positions = np.where(weights, positions, 0)
        rows = np.arange(batch_size)[:, None]
        mask_ids = np.where(weights, token_ids[rows, positions], 0)
        draw = rng.random((batch_size, predictions))
        random_ids = rng.integers(0, self.vocabulary_size, (batch_size, predictions))
        replacements = np.where(
            draw < MASK_TOKEN_RATE,
            self.mask_id,
            np.where(draw < MASK_TOKEN_RATE + RANDOM_TOKEN_RATE, random_ids, mask_ids),
        )
        masked = token_ids.copy()
        masked_rows = np.broadcast_to(rows, positions.shape)[weights]
        masked[masked_rows, positions[weights]] = replacements[weights]
        x = {
            TOKEN_IDS: masked.astype(np.int32),
            SEGMENT_IDS: np.zeros_like(token_ids, dtype=np.int32),
            PADDING_MASK: (token_ids != self.pad_id).astype(np.int32),
            MASK_POSITIONS: positions.astype(np.int32),
        }
        x = {
            key: value
            for key, value in x.items()
            if key in self.input_keys or key == MASK_POSITIONS
        }
        return x, mask_ids.astype(np.int32), weights.astype(np.float32)
