from keras import ops


def encoder_cross_attention(
    encoder, query, value, value_padding_mask, training=None
):
    """Runs a keras-hub `TransformerEncoder` with queries from `query` only.

    The token-dropping boundary layer: the kept tokens (`query`,
    `[batch, keep, hidden]`) attend to all tokens (`value`,
    `[batch, seq, hidden]`). It uses the encoder's own sublayers and weights
    in the encoder's own order (pre- or post-norm). Each output row equals the
    encoder's full self-attention output at that query's position, at
    `keep / seq` of the query-side cost.

    Args:
        encoder: a built `keras_hub.layers.TransformerEncoder`.
        query: float tensor `[batch, keep, hidden]`, rows of `value`.
        value: float tensor `[batch, seq, hidden]`.
        value_padding_mask: tensor `[batch, seq]`, nonzero for real tokens.
        training: bool, for dropout.

    Returns:
        A float tensor `[batch, keep, hidden]`.

    Example:
    ```python
    from tokdrop_keras.layers.encoder_cross_attention import (
        encoder_cross_attention,
    )
    encoder = keras_hub.layers.TransformerEncoder(
        intermediate_dim=32, num_heads=2
    )
    value = np.random.default_rng(0).normal(size=(2, 6, 16)).astype("float32")
    padding_mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    full = encoder(value, padding_mask=padding_mask)  # builds it
    # All rows as queries: the encoder's own output.
    np.testing.assert_allclose(
        encoder_cross_attention(encoder, value, value, padding_mask),
        full, atol=1e-5,
    )
    # Some rows as queries: those rows of the encoder's output.
    kept = np.array([[0, 2, 5], [0, 1, 3]])
    query = np.take_along_axis(value, kept[:, :, None], axis=1)
    np.testing.assert_allclose(
        encoder_cross_attention(encoder, query, value, padding_mask),
        np.take_along_axis(np.asarray(full), kept[:, :, None], axis=1),
        atol=1e-5,
    )
    ```
    """
    attention_mask = ops.broadcast_to(
        ops.cast(value_padding_mask, "bool")[:, None, :],
        (ops.shape(query)[0], ops.shape(query)[1], ops.shape(value)[1]),
    )
    residual = query
    if encoder.normalize_first:
        query = encoder._self_attention_layer_norm(query)
        value = encoder._self_attention_layer_norm(value)
    x = encoder._self_attention_layer(
        query=query,
        value=value,
        attention_mask=attention_mask,
        training=training,
    )
    x = encoder._self_attention_dropout(x, training=training)
    x = x + residual
    if not encoder.normalize_first:
        x = encoder._self_attention_layer_norm(x)

    residual = x
    if encoder.normalize_first:
        x = encoder._feedforward_layer_norm(x)
    x = encoder._feedforward_intermediate_dense(x)
    x = encoder._feedforward_output_dense(x)
    x = encoder._feedforward_dropout(x, training=training)
    x = x + residual
    if not encoder.normalize_first:
        x = encoder._feedforward_layer_norm(x)
    return x
