"""A FLOP model of token dropping: what the layout saves, on paper."""

from tokdrop_keras.inputs import MASK_RATE as DEFAULT_MASK_RATE
from tokdrop_keras.models.layout import token_drop_layout


def layer_flops(queries, keys, hidden_dim, intermediate_dim):
    """Forward FLOPs (2 x multiply-adds) of one encoder layer, per sequence.

    Example:
    ```python
    from tokdrop_keras.models.flops import layer_flops
    full = layer_flops(128, 128, hidden_dim=64, intermediate_dim=256)
    half = layer_flops(64, 64, hidden_dim=64, intermediate_dim=256)
    assert 2 * half < full  # attention is quadratic in the tokens
    ```
    """
    projections = 2 * hidden_dim * hidden_dim * (2 * queries + 2 * keys)
    attention = 2 * 2 * queries * keys * hidden_dim
    feedforward = 2 * 2 * queries * hidden_dim * intermediate_dim
    return projections + attention + feedforward


def encoder_flops(layout, hidden_dim, intermediate_dim):
    """Forward FLOPs of the encoder layers per sequence: `(baseline,
    token_drop)` for a `TokenDropLayout`.

    Example:
    ```python
    layout = tokdrop_keras.models.token_drop_layout(12, 128)
    baseline, token_drop = tokdrop_keras.models.encoder_flops(layout, 128, 512)
    assert 0.7 < token_drop / baseline < 0.8
    ```
    """
    full = layer_flops(
        layout.sequence_length, layout.sequence_length, hidden_dim,
        intermediate_dim,
    )
    token_drop = sum(
        layer_flops(*layout.tokens_seen(layer), hidden_dim, intermediate_dim)
        for layer in range(layout.num_layers)
    )
    return layout.num_layers * full, token_drop


def masked_lm_flop_ratio(
    num_layers,
    hidden_dim,
    intermediate_dim,
    vocabulary_size,
    sequence_length,
    mask_rate=DEFAULT_MASK_RATE,
    **layout_options,
):
    """Token-drop / baseline forward FLOPs of the encoder and MLM head
    (training multiplies both by about 3).

    Args:
        num_layers, hidden_dim, intermediate_dim, vocabulary_size,
        sequence_length: the model and input shape.
        mask_rate: share of tokens predicted (the MLM head's rows).
        **layout_options: `keep_fraction`, `keep_tokens`,
            `first_dropped_layer` (see `token_drop_layout`).

    Example:
    ```python
    ratio = tokdrop_keras.models.masked_lm_flop_ratio(
        num_layers=12, hidden_dim=256, intermediate_dim=1024,
        vocabulary_size=30522, sequence_length=512,
    )
    assert round(ratio, 3) == 0.752
    ```
    """
    layout = token_drop_layout(num_layers, sequence_length, **layout_options)
    predictions = round(mask_rate * sequence_length)
    head = 2 * predictions * hidden_dim * (hidden_dim + vocabulary_size)
    baseline, token_drop = encoder_flops(layout, hidden_dim, intermediate_dim)
    return (token_drop + head) / (baseline + head)
