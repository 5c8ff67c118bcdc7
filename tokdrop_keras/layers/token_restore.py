import keras

from tokdrop_keras.layers.kept_rows import scatter_rows


@keras.saving.register_keras_serializable(package="tokdrop_keras")
class TokenRestore(keras.layers.Layer):
    """Puts kept tokens' hidden states back at their sequence positions.

    The inverse of `TokenDrop` for the layers after the dropped ones: rows at
    `kept_positions` are replaced by `kept_hidden_states`; every other
    (dropped) row of `hidden_states` is returned unchanged.

    Args:
        **kwargs: keyword arguments of `keras.layers.Layer`.

    Call arguments:
        hidden_states: float tensor `[batch, seq, hidden]`, the full-length
            states the dropped tokens keep.
        kept_hidden_states: float tensor `[batch, keep, hidden]`.
        kept_positions: int tensor `[batch, keep]`, distinct positions per
            row (as returned by `TokenDrop`).

    Returns:
        A float tensor `[batch, seq, hidden]`.

    Example:
    ```python
    hidden = np.zeros((1, 4, 2), "float32")
    kept = np.ones((1, 2, 2), "float32")
    tokdrop_keras.TokenRestore()(hidden, kept, np.array([[1, 3]]))
    # rows 1 and 3 are ones, rows 0 and 2 zeros
    ```
    """

    def call(self, hidden_states, kept_hidden_states, kept_positions):
        batch_size, _, hidden_dim = hidden_states.shape
        if (
            tuple(kept_hidden_states.shape[::2]) != (batch_size, hidden_dim)
            or tuple(kept_positions.shape) != tuple(kept_hidden_states.shape[:2])
        ):
            raise ValueError(
                "Expected `kept_hidden_states` `[batch, keep, hidden]` and "
                "`kept_positions` `[batch, keep]` matching `hidden_states` "
                f"{tuple(hidden_states.shape)}. Received: "
                f"kept_hidden_states.shape={tuple(kept_hidden_states.shape)}, "
                f"kept_positions.shape={tuple(kept_positions.shape)}"
            )
        return scatter_rows(hidden_states, kept_hidden_states, kept_positions)

    def compute_output_spec(
        self, hidden_states, kept_hidden_states, kept_positions
    ):
        return keras.KerasTensor(hidden_states.shape, dtype=hidden_states.dtype)
