"""From packed token ids to the masked-LM model's inputs."""

import keras_hub
import tensorflow as tf

from tokdrop_keras.inputs import BERT_BACKBONE_INPUTS
from tokdrop_keras.inputs import MASK_POSITIONS
from tokdrop_keras.inputs import PADDING_MASK
from tokdrop_keras.inputs import SEGMENT_IDS
from tokdrop_keras.inputs import TOKEN_IDS
from tokdrop_keras.inputs import MASK_RATE
from tokdrop_keras.data.numpy_masking import max_predictions_for
from tokdrop_keras.special_tokens import special_token_roles


class MaskedLMInputs:
    """Turns batches of packed token ids into masked-LM model inputs.

    Adds the tokenizer's start and end tokens (`[CLS]`/`[SEP]`, `<s>`/`</s>`)
    and padding (keras-hub `StartEndPacker`), then masks with keras-hub's
    `MaskedLMMaskGenerator`: `mask_rate` of the tokens (rounded up per
    sequence, at most `max_predictions`), 80% the tokenizer's mask token,
    10% random token, 10% unchanged; special tokens (start, end, padding,
    mask, unknown) are never selected. All ids come from the tokenizer.

    `pack` is stateless and may run in a parallel map; `mask` draws random
    numbers, so it must run in a sequential map: its op seeds are fixed by
    `seed` when traced, which makes the masks a deterministic stream that
    goes on (fresh masks) from one epoch to the next.

    Args:
        tokenizer: a keras-hub tokenizer (`BertTokenizer`,
            `DistilBertTokenizer`, `RobertaTokenizer`,
            `XLMRobertaTokenizer`).
        sequence_length: int. Length of the sequences, specials included.
        mask_rate: float. Fraction of the tokens to predict.
        max_predictions: int or `None` (`round(mask_rate * sequence_length)`).
        seed: int. Seed of the masks.
        input_keys: the backbone's inputs (`segment_ids`, all 0, only
            where they are among them, as for BERT).

    Example:
    ```python
    from tokdrop_keras.data import MaskedLMInputs
    tokenizer = tokdrop_keras.data.bert_tokenizer()
    inputs = MaskedLMInputs(tokenizer, sequence_length=16, max_predictions=3)
    packed = tf.data.Dataset.from_tensor_slices(
        tf.ragged.constant([[76, 362, 5], [543, 131, 4663, 17]])
    )
    batches = packed.ragged_batch(2).map(inputs.pack).map(inputs.mask)
    x, mask_ids, mask_weights = next(iter(batches))
    assert x["token_ids"].shape == (2, 16) and mask_ids.shape == (2, 3)
    assert x["padding_mask"].numpy().sum(axis=1).tolist() == [5, 6]
    # 15% of 3 and 4 tokens, rounded up: one prediction per sequence.
    assert mask_weights.numpy().sum(axis=1).tolist() == [1.0, 1.0]
    ```
    """

    def __init__(
        self,
        tokenizer,
        sequence_length,
        mask_rate=MASK_RATE,
        max_predictions=None,
        seed=0,
        input_keys=BERT_BACKBONE_INPUTS,
    ):
        if max_predictions is None:
            max_predictions = max_predictions_for(sequence_length, mask_rate)
        roles = special_token_roles(tokenizer)  # raises naming a missing token
        self.sequence_length = sequence_length
        self.max_predictions = max_predictions
        self.seed = seed
        self.input_keys = tuple(input_keys)
        self.packer = keras_hub.layers.StartEndPacker(
            sequence_length=sequence_length,
            start_value=roles["start"],
            end_value=roles["end"],
            pad_value=roles["padding"],
        )
        self.masker = keras_hub.layers.MaskedLMMaskGenerator(
            vocabulary_size=tokenizer.vocabulary_size(),
            mask_selection_rate=mask_rate,
            mask_token_id=roles["mask"],
            mask_selection_length=max_predictions,
            unselectable_token_ids=sorted(
                {i for i in roles.values() if i is not None}
            ),
        )

    def pack(self, token_ids):
        """`[batch, None]` packed ids → `[batch, sequence_length]` ids."""
        return tf.cast(self.packer(token_ids), "int32")

    def mask(self, token_ids):
        """Masks `[batch, sequence_length]` ids; returns `(x, y, weights)`."""
        # Inside a `tf.data` function this seeds only that function's graph.
        tf.random.set_seed(self.seed)
        # One sequence at a time: on a batch, the generator's item selector
        # shuffles the rows in a parallel `map_fn`, which hands out the
        # random numbers to the rows in a racy order.
        masked = tf.map_fn(
            self.masker,
            token_ids,
            parallel_iterations=1,
            fn_output_signature={
                "token_ids": tf.int32,
                "mask_positions": tf.int64,
                "mask_ids": tf.int32,
                "mask_weights": tf.float32,
            },
        )
        batch_size = token_ids.shape[0]
        sequence_shape = [batch_size, self.sequence_length]
        predictions_shape = [batch_size, self.max_predictions]
        x = {
            TOKEN_IDS: tf.ensure_shape(
                tf.cast(masked["token_ids"], "int32"), sequence_shape
            ),
            SEGMENT_IDS: tf.zeros_like(token_ids),
            PADDING_MASK: tf.cast(
                tf.not_equal(token_ids, self.packer.pad_value), "int32"
            ),
            MASK_POSITIONS: tf.ensure_shape(
                tf.cast(masked["mask_positions"], "int32"), predictions_shape
            ),
        }
        x = {
            key: value
            for key, value in x.items()
            if key in self.input_keys or key == MASK_POSITIONS
        }
        mask_ids = tf.ensure_shape(
            tf.cast(masked["mask_ids"], "int32"), predictions_shape
        )
        mask_weights = tf.ensure_shape(
            tf.cast(masked["mask_weights"], "float32"), predictions_shape
        )
        return x, mask_ids, mask_weights
