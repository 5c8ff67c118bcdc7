import keras_hub
from keras import ops

# The sublayers of keras-hub's `TransformerEncoder`, by their layer names.
SUBLAYER_NAMES = (
    "self_attention_layer",
    "self_attention_layer_norm",
    "self_attention_dropout",
    "feedforward_layer_norm",
    "feedforward_intermediate_dense",
    "feedforward_output_dense",
    "feedforward_dropout",
)


def encoder_sublayers(encoder):
    """The built sublayers of a keras-hub `TransformerEncoder`, by name.

    Args:
        encoder: a built `keras_hub.layers.TransformerEncoder` (not a
            subclass with its own `call`).

    Returns:
        A dict from each of `SUBLAYER_NAMES` to the layer.

    Example:
    ```python
    from tokdrop_keras.layers.encoder_cross_attention import encoder_sublayers
    encoder = keras_hub.layers.TransformerEncoder(
        intermediate_dim=32, num_heads=2
    )
    encoder(np.zeros((1, 4, 16), "float32"))  # builds it
    layers = encoder_sublayers(encoder)
    assert layers["feedforward_intermediate_dense"].units == 32
    ```
    """
    encoder_class = keras_hub.layers.TransformerEncoder
    if (
        not isinstance(encoder, encoder_class)
        or type(encoder).call is not encoder_class.call
    ):
        raise ValueError(
            "Token dropping's boundary layer runs keras-hub's "
            "`TransformerEncoder` forward pass with separate queries; "
            f"received {type(encoder).__name__}, which computes its own."
        )
    if not encoder.built:
        raise ValueError(f"The encoder {encoder.name!r} is not built yet.")
    layers = {
        layer.name: layer
        for layer in encoder._flatten_layers(include_self=False, recursive=False)
    }
    missing = [name for name in SUBLAYER_NAMES if name not in layers]
    if missing:
        raise ValueError(
            f"The encoder {encoder.name!r} has no sublayers {missing}; this "
            "keras-hub version's `TransformerEncoder` is not the one "
            "tokdrop_keras was written for (keras-hub 0.32)."
        )
    return {name: layers[name] for name in SUBLAYER_NAMES}


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

    keras-hub has no public way to run a `TransformerEncoder` with separate
    queries, so this reads its seven sublayers, by the names keras-hub gives
    them (also their weight paths in every keras-hub preset, so keras-hub
    cannot rename them without breaking its own files), through one lookup
    (`encoder_sublayers`); subclasses with their own `call` are refused.

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
    layers = encoder_sublayers(encoder)
    attention_mask = ops.broadcast_to(
        ops.cast(value_padding_mask, "bool")[:, None, :],
        (ops.shape(query)[0], ops.shape(query)[1], ops.shape(value)[1]),
    )
    residual = query
    if encoder.normalize_first:
        query = layers["self_attention_layer_norm"](query)
        value = layers["self_attention_layer_norm"](value)
    x = layers["self_attention_layer"](
        query=query,
        value=value,
        attention_mask=attention_mask,
        training=training,
    )
    x = layers["self_attention_dropout"](x, training=training)
    x = x + residual
    if not encoder.normalize_first:
        x = layers["self_attention_layer_norm"](x)

    residual = x
    if encoder.normalize_first:
        x = layers["feedforward_layer_norm"](x)
    x = layers["feedforward_intermediate_dense"](x)
    x = layers["feedforward_output_dense"](x)
    x = layers["feedforward_dropout"](x, training=training)
    x = x + residual
    if not encoder.normalize_first:
        x = layers["feedforward_layer_norm"](x)
    return x
