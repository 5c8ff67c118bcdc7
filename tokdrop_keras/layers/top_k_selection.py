"""Top-k selection without sorting: a bitwise search for the k-th value.

`ops.top_k` lowers to a sort under XLA, and on XLA:CPU with its fusion
emitters on (TensorFlow's default; `tokdrop_keras.backend`) a sort
anywhere in a train step made every stateless-RNG dropout in it about 10x
slower. Selecting by threshold avoids sorts altogether: 32
compare-and-count passes over `[batch, seq]` find each row's k-th largest
key, and the selected positions come out in sequence order. Written in
`keras.ops` only, so every backend selects the same tokens from the same
scores and tie keys.
"""

import keras
import numpy as np
from keras import ops

import tokdrop_keras.backend as backend

INT32_MIN = np.int32(np.iinfo(np.int32).min)
INT32_MAX = np.int32(np.iinfo(np.int32).max)


def sortable_keys(values):
    """Maps float32 values to int32 keys with the same order (-0 < +0).

    Example:
    ```python
    from tokdrop_keras.layers.top_k_selection import sortable_keys
    values = np.array([-np.inf, -2.5, -0.0, 0.0, 1e-30, 3.0, np.inf], "float32")
    keys = keras.ops.convert_to_numpy(sortable_keys(values))
    assert keys.dtype == np.int32
    assert (np.diff(keys) > 0).all()  # strictly increasing, as the values
    ```
    """
    bits = ops.view(ops.cast(values, "float32"), "int32")
    return ops.where(bits < 0, ops.bitwise_xor(bits, INT32_MAX), bits)


def _kth_largest(keys, candidates, k):
    """Per row, the largest `t` with `count(candidates & keys >= t) >= k`.

    Built bit by bit from the most significant one, in the unsigned view
    `key ^ INT32_MIN` where the sign bit sorts first.
    """
    threshold = ops.zeros_like(k)
    for bit in range(31, -1, -1):
        bit_value = np.array(1 << bit, np.uint32).view(np.int32)
        trial = ops.bitwise_or(threshold, bit_value)
        count = ops.sum(
            ops.cast(
                ops.logical_and(
                    candidates, keys >= ops.bitwise_xor(trial, INT32_MIN)
                ),
                "int32",
            ),
            axis=1,
            keepdims=True,
        )
        threshold = ops.where(count >= k, trial, threshold)
    return ops.bitwise_xor(threshold, INT32_MIN)


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
    keys = np.array([[5, 1, 7, 3, 7], [2, 2, 2, 9, 0]], "int32")
    mask = keras.ops.convert_to_numpy(top_k_mask(keys, 2))
    assert mask.tolist() == [
        [False, False, True, False, True],
        [True, False, False, True, False],  # tie at 2: the earlier position
    ]
    # Only from the candidates; tie_keys break the tie at the cut.
    mask = top_k_mask(
        keys, 2,
        candidates=np.array([[True] * 5, [True, True, True, False, True]]),
        tie_keys=np.array([[0] * 5, [0, 4, 1, 0, 0]], "int32"),
    )
    assert keras.ops.convert_to_numpy(mask).tolist() == [
        [False, False, True, False, True],
        [False, True, True, False, False],
    ]
    ```
    """
    keys = ops.convert_to_tensor(keys, "int32")
    if candidates is None:
        candidates = ops.ones_like(keys, dtype="bool")
    candidates = ops.convert_to_tensor(candidates, "bool")
    k = ops.broadcast_to(
        ops.cast(ops.convert_to_tensor(k), "int32"), (ops.shape(keys)[0], 1)
    )
    kth = _kth_largest(keys, candidates, k)
    above = ops.logical_and(candidates, keys > kth)
    ties = ops.logical_and(candidates, keys == kth)
    needed = k - ops.sum(ops.cast(above, "int32"), axis=1, keepdims=True)
    if tie_keys is None:
        first_ties = ops.cumsum(ops.cast(ties, "int32"), axis=1) <= needed
        return ops.logical_or(above, ops.logical_and(ties, first_ties))
    return ops.logical_or(
        above, top_k_mask(tie_keys, needed, candidates=ties)
    )


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
    mask = np.array([[True, False, True, True, False],
                     [False, True, True, False, True]])
    positions = keras.ops.convert_to_numpy(mask_to_positions(mask, 3))
    assert positions.tolist() == [[0, 2, 3], [1, 2, 4]]
    ```
    """
    mask = ops.convert_to_tensor(mask, "bool")
    batch_size, sequence_length = ops.shape(mask)[0], ops.shape(mask)[1]
    # Slot of each kept position; dropped ones go to a spare slot `k`.
    slots = ops.where(mask, ops.cumsum(ops.cast(mask, "int32"), axis=1) - 1, k)
    rows = ops.broadcast_to(
        ops.arange(batch_size, dtype="int32")[:, None],
        (batch_size, sequence_length),
    )
    positions = ops.broadcast_to(
        ops.arange(sequence_length, dtype="int32")[None, :],
        (batch_size, sequence_length),
    )
    scattered = ops.scatter(
        ops.reshape(ops.stack([rows, slots], axis=-1), (-1, 2)),
        ops.reshape(ops.where(mask, positions, 0), (-1,)),
        (batch_size, k + 1),
    )
    return scattered[:, :k]


def top_k_positions_by_sorting(keys, k, tie_keys=None):
    """`mask_to_positions(top_k_mask(keys, k, tie_keys=tie_keys), k)` by
    sorting: `ops.top_k` (after a stable `argsort` by `tie_keys`), then a
    sort of the `k` positions.

    The same selection as the bitwise search, ties included, where the
    backend's `argsort` is stable (JAX's is). `benchmarks/top_k_selection.py`
    measures both; `select_positions` uses the faster.

    Args:
        keys: int32 tensor `[batch, seq]`.
        k: int.
        tie_keys: optional int32 tensor `[batch, seq]` of values in
            `[0, 2**31 - 1)`.

    Returns:
        An int32 tensor `[batch, k]`, increasing along each row.

    Example:
    ```python
    from tokdrop_keras.layers.top_k_selection import top_k_positions_by_sorting
    keys = np.array([[5, 1, 7, 3, 7], [2, 2, 2, 9, 0]], "int32")
    positions = top_k_positions_by_sorting(keys, 2)
    assert keras.ops.convert_to_numpy(positions).tolist() == [[2, 4], [0, 3]]
    ```
    """
    keys = ops.convert_to_tensor(keys, "int32")
    if tie_keys is None:
        _, positions = ops.top_k(keys, k, sorted=False)
    else:
        order = ops.argsort(-ops.convert_to_tensor(tie_keys, "int32"), axis=1)
        _, ranks = ops.top_k(
            ops.take_along_axis(keys, order, axis=1), k, sorted=False
        )
        positions = ops.take_along_axis(order, ranks, axis=1)
    return ops.sort(ops.cast(positions, "int32"), axis=1)


# How each (backend, platform) selects; unlisted ones search. On the CPU, by
# measurement (benchmarks/top_k_selection.py): on TensorFlow's XLA:CPU a sort
# in the step slows its dropout (see above); on JAX's XLA:CPU the search
# alone takes 0.59 / 0.36 ms against the sort's 1.13 / 1.07 ms (B32 S128 /
# B8 S512), and in a whole train step the two are within noise (1.385 vs
# 1.295 s). On a GPU the search is 64 dependent count-and-compare passes
# (32 for the keys, 32 for the random tie keys), each a kernel launch of its
# own, where the sort is three kernels; JAX's argsort is stable, so both
# keep the same tokens (benchmarks/gpu_step_time.py --profile shows the
# machinery's share of the step).
SELECTION_BY_PLATFORM = {("jax", "gpu"): "sort"}


def default_selection_method():
    """The selection method of this backend and platform
    (`SELECTION_BY_PLATFORM`, else `"search"`).

    Example:
    ```python
    from tokdrop_keras.layers.top_k_selection import default_selection_method
    assert default_selection_method() in ("search", "sort")
    ```
    """
    platform = backend.accelerator_platform()
    return SELECTION_BY_PLATFORM.get(
        (keras.backend.backend(), platform), "search"
    )


def select_positions(keys, k, tie_keys=None, method=None):
    """The positions of each row's `k` largest keys, in increasing order.

    Equal keys at the cut go to the larger `tie_keys`, then to the earlier
    positions, whichever the method.

    Args:
        keys: int32 tensor `[batch, seq]`.
        k: int.
        tie_keys: optional int32 tensor `[batch, seq]`.
        method: `"search"` (`top_k_mask`, no sort), `"sort"`
            (`top_k_positions_by_sorting`), or `None`: this backend and
            platform's (`default_selection_method`).

    Example:
    ```python
    from tokdrop_keras.layers.top_k_selection import select_positions
    keys = np.array([[5, 1, 7, 3, 7]], "int32")
    for method in ("search", "sort"):
        positions = select_positions(keys, 3, method=method)
        assert keras.ops.convert_to_numpy(positions).tolist() == [[0, 2, 4]]
    ```
    """
    if method is None:
        method = default_selection_method()
    if method == "sort":
        return top_k_positions_by_sorting(keys, k, tie_keys=tie_keys)
    if method != "search":
        raise ValueError(f"Unknown selection method {method!r}.")
    return mask_to_positions(top_k_mask(keys, k, tie_keys=tie_keys), k)
