"""keras-hub's `TransformerEncoder`, run with our attention function.

Every layer of the masked LM runs through `encoder_layer`: the same seven
sublayers and weights, in the encoder's own order (pre- or post-norm), with
the attention of its `MultiHeadAttention` computed by
`tokdrop_keras.layers.attention.dot_product_attention` from key lengths
(the fused kernel where there is one) instead of a `[batch, seq, seq]` mask.
The queries may be a subset of the keys' rows: the token-dropping boundary
layer.
"""

import keras
import keras_hub

from tokdrop_keras.layers.attention import dot_product_attention

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
    from tokdrop_keras.layers.encoder_layer import encoder_sublayers
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


def self_attention(layer, query, value, value_lengths, training=None,
                   attention_dropout=None):
    """A `keras.layers.MultiHeadAttention` layer's output, its attention
    computed by `dot_product_attention` with key lengths.

    Args:
        layer: a built `MultiHeadAttention` with its default attention axes.
        query: `[batch, queries, hidden]`.
        value: `[batch, keys, hidden]` (also the keys).
        value_lengths: int `[batch]`, the valid keys of each row (a prefix).
        training: bool, for dropout.
        attention_dropout: the attention-probability dropout rate; `None`
            uses the layer's own `dropout`.

    Returns:
        `[batch, queries, hidden]`, what `layer(query, value,
        attention_mask=...)` returns for the lengths' mask.

    Example:
    ```python
    from tokdrop_keras.layers.encoder_layer import self_attention
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    expected = layer(x, x, attention_mask=mask[:, None, :])  # builds it
    np.testing.assert_allclose(
        self_attention(layer, x, x, np.array([5, 3])), expected, atol=1e-5
    )
    ```
    """
    rate = layer.dropout if attention_dropout is None else attention_dropout
    attended = dot_product_attention(
        layer.query_dense(query),
        layer.key_dense(value),
        layer.value_dense(value),
        key_lengths=value_lengths,
        scale=1.0 / float(layer.key_dim) ** 0.5,
        dropout_rate=rate,
        seed_generator=getattr(layer._dropout_layer, "seed_generator", None),
        training=training,
    )
    return layer.output_dense(attended)


def encoder_layer(
    encoder,
    query,
    value,
    value_lengths,
    training=None,
    attention_dropout=None,
):
    """Runs a keras-hub `TransformerEncoder` on `query`, attending to `value`.

    With `query` the same tensor as `value`, the encoder's own forward pass;
    with a subset of its rows (the kept tokens, `[batch, keep, hidden]`),
    the token-dropping boundary layer: each output row equals the encoder's
    full self-attention output at that query's position, at `keep / seq`
    of the query-side cost.

    keras-hub has no public way to run a `TransformerEncoder` with separate
    queries or key lengths, so this reads its seven sublayers, by the names
    keras-hub gives them (also their weight paths in every keras-hub preset,
    so keras-hub cannot rename them without breaking its own files), through
    one lookup (`encoder_sublayers`); subclasses with their own `call` are
    refused.

    Args:
        encoder: a built `keras_hub.layers.TransformerEncoder`.
        query: float tensor `[batch, queries, hidden]`, rows of `value`.
        value: float tensor `[batch, seq, hidden]`.
        value_lengths: int tensor `[batch]`, the number of valid (leading)
            tokens of each row of `value`; `tokdrop_keras.layers.attention.
            key_lengths(padding_mask)` of a right-padded mask.
        training: bool, for dropout.
        attention_dropout: attention-probability dropout rate; `None` is
            the encoder's own `dropout` (keras-hub's, and BERT's, recipe).

    Returns:
        A float tensor `[batch, queries, hidden]`.

    Example:
    ```python
    from tokdrop_keras.layers.attention import key_lengths
    from tokdrop_keras.layers.encoder_layer import encoder_layer
    encoder = keras_hub.layers.TransformerEncoder(
        intermediate_dim=32, num_heads=2
    )
    value = np.random.default_rng(0).normal(size=(2, 6, 16)).astype("float32")
    padding_mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    full = encoder(value, padding_mask=padding_mask)  # builds it
    lengths = key_lengths(padding_mask)
    # All rows as queries: the encoder's own output, padded rows included.
    np.testing.assert_allclose(
        encoder_layer(encoder, value, value, lengths), full, atol=1e-5
    )
    # Some rows as queries: those rows of the encoder's output.
    kept = np.array([[0, 2, 5], [0, 1, 3]])
    query = np.take_along_axis(value, kept[:, :, None], axis=1)
    np.testing.assert_allclose(
        encoder_layer(encoder, query, value, lengths),
        np.take_along_axis(np.asarray(full), kept[:, :, None], axis=1),
        atol=1e-5,
    )
    ```
    """
    layers = encoder_sublayers(encoder)
    # Under the encoder's name, as its own call: profiles and HLO dumps
    # tell the layers apart.
    with keras.name_scope(encoder.name):
        return _encoder_layer(
            encoder, layers, query, value, value_lengths, training,
            attention_dropout,
        )


def _encoder_layer(
    encoder, layers, query, value, value_lengths, training, attention_dropout
):
    residual = query
    if encoder.normalize_first:
        same = query is value
        query = layers["self_attention_layer_norm"](query)
        value = query if same else layers["self_attention_layer_norm"](value)
    x = self_attention(
        layers["self_attention_layer"],
        query,
        value,
        value_lengths,
        training=training,
        attention_dropout=attention_dropout,
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
