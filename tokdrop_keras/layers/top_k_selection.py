"""Top-k selection without sorting: a bitwise search for the k-th value.

`ops.top_k` lowers to a sort under XLA, and on XLA:CPU with its fusion
emitters on (TensorFlow's default; `tokdrop_keras.xla_flags`) a sort
anywhere in a train step made every stateless-RNG dropout in it about 10x
slower. Selecting by threshold avoids sorts altogether: 32
compare-and-count passes over `[batch, seq]` find each row's k-th largest
key, and the selected positions come out in sequence order.
"""

import numpy as np
import tensorflow as tf

INT32_MIN = tf.int32.min


def sortable_keys(values):
    """Maps float32 values to int32 keys with the same order (-0 < +0).

    Example:
    ```python
    from tokdrop_keras.layers.top_k_selection import sortable_keys
    values = [-np.inf, -2.5, -0.0, 0.0, 1e-30, 3.0, np.inf]
    keys = sortable_keys(tf.constant(values)).numpy()
    assert keys.dtype == np.int32
    assert (np.diff(keys) > 0).all()  # strictly increasing, as the values
    ```
    """
    bits = tf.bitcast(tf.cast(values, tf.float32), tf.int32)
    return tf.where(bits < 0, tf.bitwise.bitwise_xor(bits, 0x7FFFFFFF), bits)


def _kth_largest(keys, candidates, k):
    """Per row, the largest `t` with `count(candidates & keys >= t) >= k`.

    Built bit by bit from the most significant one, in the unsigned view
    `key ^ INT32_MIN` where the sign bit sorts first.
    """
    threshold = tf.zeros_like(k)
    for bit in range(31, -1, -1):
        bit_value = np.array(1 << bit, np.uint32).view(np.int32)
        trial = tf.bitwise.bitwise_or(threshold, bit_value)
        count = tf.reduce_sum(
            tf.cast(
                candidates & (keys >= tf.bitwise.bitwise_xor(trial, INT32_MIN)),
                tf.int32,
            ),
            axis=1,
            keepdims=True,
        )
        threshold = tf.where(count >= k, trial, threshold)
    return tf.bitwise.bitwise_xor(threshold, INT32_MIN)


def top_k_mask(keys, k, candidates=None, tie_keys=None):
    """Marks, per row, the `k` candidates with the largest keys.

    Equal keys at the cut go to the larger `tie_keys`, then to the earlier
    positions.

    Args:
        keys: int32 tensor `[batch, seq]`.
        k: int, or int32 tensor `[batch, 1]`, at most the number of
            candidates in each row.
        candidates: bool tensor `[batch, seq]`, the positions to choose
            from; all by default.
        tie_keys: optional int32 tensor `[batch, seq]`, e.g. random, that
            ranks the candidates tied at the cut.

    Returns:
        A bool tensor `[batch, seq]` with exactly `k` True per row.

    Example:
    ```python
    from tokdrop_keras.layers.top_k_selection import top_k_mask
    keys = tf.constant([[5, 1, 7, 3, 7], [2, 2, 2, 9, 0]])
    mask = top_k_mask(keys, 2)
    assert mask.numpy().tolist() == [
        [False, False, True, False, True],
        [True, False, False, True, False],  # tie at 2: the earlier position
    ]
    # Only from the candidates; tie_keys break the tie at the cut.
    mask = top_k_mask(
        keys, 2,
        candidates=tf.constant([[True] * 5, [True, True, True, False, True]]),
        tie_keys=tf.constant([[0] * 5, [0, 4, 1, 0, 0]]),
    )
    assert mask.numpy().tolist() == [
        [False, False, True, False, True],
        [False, True, True, False, False],
    ]
    ```
    """
    if candidates is None:
        candidates = tf.ones_like(keys, dtype=tf.bool)
    k = tf.broadcast_to(tf.cast(k, tf.int32), [tf.shape(keys)[0], 1])
    kth = _kth_largest(keys, candidates, k)
    above = candidates & (keys > kth)
    ties = candidates & (keys == kth)
    needed = k - tf.reduce_sum(tf.cast(above, tf.int32), axis=1, keepdims=True)
    if tie_keys is None:
        return above | (
            ties & (tf.cumsum(tf.cast(ties, tf.int32), axis=1) <= needed)
        )
    return above | top_k_mask(tie_keys, needed, candidates=ties)


def mask_to_positions(mask, k):
    """The positions of a mask with `k` True per row, in increasing order.

    Args:
        mask: bool tensor `[batch, seq]` with exactly `k` True per row.
        k: int.

    Returns:
        An int32 tensor `[batch, k]`.

    Example:
    ```python
    from tokdrop_keras.layers.top_k_selection import mask_to_positions
    mask = tf.constant([[True, False, True, True, False],
                        [False, True, True, False, True]])
    positions = mask_to_positions(mask, 3)
    assert positions.numpy().tolist() == [[0, 2, 3], [1, 2, 4]]
    ```
    """
    batch_size, sequence_length = tf.shape(mask)[0], tf.shape(mask)[1]
    # Slot of each kept position; dropped ones go to a spare slot `k`.
    slots = tf.where(mask, tf.cumsum(tf.cast(mask, tf.int32), axis=1) - 1, k)
    rows = tf.broadcast_to(
        tf.range(batch_size)[:, None], [batch_size, sequence_length]
    )
    positions = tf.broadcast_to(
        tf.range(sequence_length)[None, :], [batch_size, sequence_length]
    )
    scattered = tf.scatter_nd(
        tf.stack([rows, slots], axis=-1),
        tf.where(mask, positions, 0),
        [batch_size, k + 1],
    )
    return scattered[:, :k]
