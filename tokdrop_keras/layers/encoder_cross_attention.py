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
