"""The one attention function every layer of the masked LM runs.

Padding is given as key lengths: keras-hub's packers pad on the right, and
`TokenDrop` returns the kept tokens in sequence order, so the valid keys of
every row (all tokens, or the kept ones) are a prefix of it. Each query row,
padded or not, attends to its row's first `key_lengths` keys: exactly what
keras-hub's `[batch, 1, seq]` padding mask computes.

Two paths, one result:
- the fused kernel, where the backend has one for the shapes and dtype
  (`tokdrop_keras.backend.fused_attention`: cuDNN's flash attention on JAX
  with a GPU, called with the lengths; one log line says why where it
  declines);
- Keras' own computation otherwise (CPU, TPU, TensorFlow, float32, and
  attention-probability dropout in training): `einsum`, softmax with the
  lengths' mask, the dropout of the `MultiHeadAttention` layer with its own
  seed generator, `einsum`. Bit for bit what `MultiHeadAttention` computes.
"""

import keras
from keras import ops

import tokdrop_keras.backend as backend

# What `keras.layers.Softmax` adds to masked logits (its float32 value).
LARGE_NEGATIVE = -1e9


def key_lengths(padding_mask):
    """The number of valid tokens of each row of a right-padded mask.

    Args:
        padding_mask: tensor `[batch, seq]`, nonzero for real tokens, the
            real tokens first.

    Returns:
        An int32 tensor `[batch]`.

    Example:
    ```python
    from tokdrop_keras.layers.attention import key_lengths
    lengths = key_lengths(np.array([[1, 1, 1, 0], [1, 1, 1, 1]]))
    assert keras.ops.convert_to_numpy(lengths).tolist() == [3, 4]
    ```
    """
    return ops.sum(ops.cast(ops.cast(padding_mask, "bool"), "int32"), axis=-1)


def length_mask(lengths, sequence_length):
    """The `[batch, seq]` boolean mask of each row's first `lengths` positions.

    Example:
    ```python
    from tokdrop_keras.layers.attention import length_mask
    mask = length_mask(np.array([1, 3], "int32"), 4)
    assert keras.ops.convert_to_numpy(mask).tolist() == [
        [True, False, False, False], [True, True, True, False]
    ]
    ```
    """
    positions = ops.arange(sequence_length, dtype="int32")
    return positions[None, :] < ops.cast(lengths, "int32")[:, None]


def dot_product_attention(
    query,
    key,
    value,
    key_lengths=None,
    scale=None,
    dropout_rate=0.0,
    seed_generator=None,
    training=None,
):
    """Multi-head attention of projected queries, keys and values.

    Args:
        query: float tensor `[batch, queries, heads, head_dim]`.
        key: float tensor `[batch, keys, heads, head_dim]`.
        value: float tensor `[batch, keys, heads, head_dim]`.
        key_lengths: int tensor `[batch]`: each row attends to its first
            `key_lengths` keys; `None` attends to all.
        scale: float multiplying the logits; `1 / sqrt(head_dim)` by default.
        dropout_rate: float in `[0, 1)`, dropout of the attention
            probabilities in training.
        seed_generator: the `keras.random.SeedGenerator` of that dropout
            (a `MultiHeadAttention`'s dropout layer's, to draw what it
            draws); required when dropout applies.
        training: bool.

    Returns:
        A tensor `[batch, queries, heads, head_dim]` of `query`'s dtype.

    Example:
    ```python
    from tokdrop_keras.layers.attention import dot_product_attention
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(2, 3, 2, 4)).astype("float32") for _ in "qkv")
    out = dot_product_attention(q, k, v, key_lengths=np.array([2, 3]))
    # Row 0 sees its first two keys only: the third changes nothing.
    k2, v2 = k.copy(), v.copy()
    k2[0, 2], v2[0, 2] = 9.0, 9.0
    np.testing.assert_allclose(
        out, dot_product_attention(q, k2, v2, key_lengths=np.array([2, 3])),
        atol=1e-6,
    )
    ```
    """
    # The scope names the attention's kernels in profiles and HLO dumps.
    with keras.name_scope("dot_product_attention"):
        return _attention(
            query, key, value, key_lengths, scale, dropout_rate,
            seed_generator, training,
        )


def _attention(
    query, key, value, key_lengths, scale, dropout_rate, seed_generator,
    training,
):
    head_dim = query.shape[-1]
    if scale is None:
        scale = 1.0 / float(head_dim) ** 0.5
    dropout = bool(training) and dropout_rate > 0.0
    if key_lengths is not None:
        key_lengths = ops.cast(key_lengths, "int32")
    fused = backend.fused_attention(
        query, key, value, key_lengths, scale, dropout_rate if dropout else 0.0
    )
    if fused is not None:
        return fused
    # `MultiHeadAttention`'s own computation (its `_compute_attention`).
    query = ops.multiply(query, ops.cast(scale, query.dtype))
    scores = ops.einsum("bsnh,btnh->bnts", key, query)
    if key_lengths is not None:
        mask = length_mask(key_lengths, ops.shape(key)[1])[:, None, None, :]
        scores = scores + ops.cast(
            ops.where(mask, 0.0, LARGE_NEGATIVE), scores.dtype
        )
    probabilities = ops.cast(
        ops.softmax(ops.cast(scores, "float32"), axis=-1), query.dtype
    )
    if dropout:
        if seed_generator is None:
            raise ValueError(
                "Attention dropout needs the `seed_generator` to draw from."
            )
        probabilities = keras.random.dropout(
            probabilities, dropout_rate, seed=seed_generator
        )
    return ops.einsum("bnts,bsnh->btnh", probabilities, value)
