"""Checks of a masked-LM batch, run eagerly before training starts.

A bad id or position that reaches the compiled train step fails there with a
graph error that names neither the field nor the value (on CPU), or, on GPU
and TPU, does not fail at all: out-of-range gathers clamp and the run trains
on garbage. So `TokenDropMaskedLM.fit` (and with it `tokdrop_keras.pretrain`)
checks the first batch here, in NumPy, and names what is wrong.
"""

import numpy as np

from tokdrop_keras.inputs import MASK_POSITIONS
from tokdrop_keras.inputs import PADDING_MASK
from tokdrop_keras.inputs import TOKEN_IDS


def _as_numpy(value):
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value)


def _check_integers(name, value):
    if not np.issubdtype(value.dtype, np.integer):
        raise ValueError(
            f"Batch field `{name}` must hold integers; it is {value.dtype}."
        )


def _check_range(name, value, low, high, limit_name):
    if value.size == 0:
        return
    smallest, largest = int(value.min()), int(value.max())
    if smallest < low or largest >= high:
        bad = smallest if smallest < low else largest
        raise ValueError(
            f"Batch field `{name}` holds {bad}, outside [{low}, {high}) "
            f"({limit_name})."
        )


def check_masked_lm_batch(
    x, y, sample_weight, input_keys, vocabulary_size, max_sequence_length
):
    """Raises a `ValueError` naming the field, value and limit, unless one
    masked-LM batch `(x, y, sample_weight)` is one the model can train on.

    Checks: every input key is there; token ids, segment/padding inputs and
    mask positions are integer `[batch, seq]` / `[batch, predictions]`
    arrays; `seq <= max_sequence_length`; token ids and targets are in
    `[0, vocabulary_size)`; mask positions are in `[0, seq)`; targets and
    weights have the mask positions' shape; some prediction has weight > 0;
    each padding mask is 1s then 0s (padded on the right: attention takes
    padding as lengths).

    Args:
        x: dict of the model's inputs (arrays or tensors).
        y: the target ids `[batch, predictions]`.
        sample_weight: `[batch, predictions]` weights, or `None`.
        input_keys: the input names the model takes.
        vocabulary_size: int, rows of the token embedding.
        max_sequence_length: int, the backbone's position embedding length.

    Example:
    ```python
    from tokdrop_keras.models.batch_checks import check_masked_lm_batch
    x = {
        "token_ids": np.array([[2, 7, 4, 3]]),
        "segment_ids": np.zeros((1, 4), "int32"),
        "padding_mask": np.ones((1, 4), "int32"),
        "mask_positions": np.array([[2]]),
    }
    keys = tuple(x)
    check_masked_lm_batch(x, np.array([[9]]), np.ones((1, 1)), keys, 10, 8)
    x["mask_positions"] = np.array([[4]])
    try:
        check_masked_lm_batch(x, np.array([[9]]), np.ones((1, 1)), keys, 10, 8)
        raise AssertionError("accepted a position past the sequence")
    except ValueError as error:
        assert "`mask_positions` holds 4, outside [0, 4)" in str(error)
    ```
    """
    if not isinstance(x, dict):
        raise ValueError(
            f"Expected the inputs as a dict of {list(input_keys)}; got "
            f"{type(x).__name__}."
        )
    missing = [key for key in input_keys if key not in x]
    if missing:
        raise ValueError(
            f"The batch has no {missing}; the model takes {list(input_keys)}."
        )
    if y is None:
        raise ValueError("The batch has no targets `y` (the masked ids).")
    arrays = {key: _as_numpy(x[key]) for key in input_keys}
    token_ids = arrays[TOKEN_IDS]
    if token_ids.ndim != 2:
        raise ValueError(
            f"Batch field `{TOKEN_IDS}` must be [batch, seq]; its shape is "
            f"{token_ids.shape}."
        )
    sequence_length = token_ids.shape[1]
    for key, value in arrays.items():
        if not (key == PADDING_MASK and value.dtype == bool):
            _check_integers(key, value)
        expected = token_ids.shape if key != MASK_POSITIONS else None
        if expected is not None and value.shape != expected:
            raise ValueError(
                f"Batch field `{key}` has shape {value.shape}; "
                f"`{TOKEN_IDS}` has {token_ids.shape}."
            )
    if sequence_length > max_sequence_length:
        raise ValueError(
            f"The batch's sequences have {sequence_length} tokens, more than "
            f"the backbone's max_sequence_length={max_sequence_length}."
        )
    _check_range(TOKEN_IDS, token_ids, 0, vocabulary_size, "the vocabulary")
    positions = arrays[MASK_POSITIONS]
    _check_range(
        MASK_POSITIONS, positions, 0, sequence_length, "the sequence length"
    )
    targets = _as_numpy(y)
    _check_integers("y (mask ids)", targets)
    if targets.shape != positions.shape:
        raise ValueError(
            f"The targets have shape {targets.shape}; `{MASK_POSITIONS}` has "
            f"{positions.shape}."
        )
    weights = None if sample_weight is None else _as_numpy(sample_weight)
    predicted = np.ones(targets.shape, bool) if weights is None else weights > 0
    if weights is not None and weights.shape != targets.shape:
        raise ValueError(
            f"The sample weights have shape {weights.shape}; the targets "
            f"have {targets.shape}."
        )
    _check_range(
        "y (mask ids)", targets[predicted], 0, vocabulary_size, "the vocabulary"
    )
    if not predicted.any():
        raise ValueError(
            "The batch has no prediction with weight > 0: nothing to learn "
            "from (is the sequence length too short to mask anything?)."
        )
    if PADDING_MASK in arrays and not arrays[PADDING_MASK].any(axis=1).all():
        raise ValueError(
            f"A sequence of the batch is all padding (`{PADDING_MASK}` is 0 "
            "everywhere in it)."
        )
    if PADDING_MASK in arrays:
        # Attention takes padding as lengths: the real tokens first.
        real = arrays[PADDING_MASK].astype(bool)
        late = real[:, 1:] & ~real[:, :-1]
        if late.any():
            row, position = (int(i[0]) for i in np.nonzero(late))
            raise ValueError(
                f"Sequence {row} of the batch has a real token at position "
                f"{position + 1} after padding: pad on the right, as "
                f"keras-hub's packers do (`{PADDING_MASK}` must be 1s then 0s)."
            )
