"""Gathering the kept tokens' rows and putting them back, two ways.

`"take"`: an index gather (`take_along_axis`) and a scatter. Cheap on a
CPU; on a GPU the gather's gradient is a scatter-add, and XLA's GPU
gathers and scatters with per-row index vectors are slow kernels.
`"one_hot"`: a batched matmul by the `[batch, keep, seq]` one-hot matrix of
the kept positions, and by its transpose to put them back: no gather or
scatter in the step, forward or backward, at `2 * batch * keep * seq *
hidden` FLOPs a matmul (6.4 GFLOP at B32 S512 K256 H768, microseconds on a
GPU or TPU, a second on a CPU). Both give the same values, exactly: each
output is one input times 1.0 plus zeros. Which one a platform runs is
`tokdrop_keras.backend.gather_method`.
"""

from keras import ops

import tokdrop_keras.backend as backend


def _method(x, method):
    return backend.gather_method(x.dtype) if method is None else method


def gather_rows(x, positions, method=None):
    """The rows `positions` of each sequence of `x`.

    Args:
        x: tensor `[batch, seq, hidden]`.
        positions: int tensor `[batch, keep]`, distinct within a row.
        method: `"take"`, `"one_hot"`, or `None` for the platform's
            (`tokdrop_keras.backend.gather_method`).

    Returns:
        A tensor `[batch, keep, hidden]`.

    Example:
    ```python
    from tokdrop_keras.layers.kept_rows import gather_rows
    x = np.arange(12, dtype="float32").reshape(1, 6, 2)
    for method in ("take", "one_hot"):
        rows = gather_rows(x, np.array([[0, 2, 5]]), method=method)
        assert keras.ops.convert_to_numpy(rows).tolist() == [
            [[0.0, 1.0], [4.0, 5.0], [10.0, 11.0]]
        ]
    ```
    """
    positions = ops.cast(positions, "int32")
    if _method(x, method) == "take":
        return ops.take_along_axis(x, positions[:, :, None], axis=1)
    one_hot = ops.one_hot(positions, ops.shape(x)[1], dtype=x.dtype)
    return ops.einsum("bks,bsh->bkh", one_hot, x)


def scatter_rows(x, rows, positions, method=None):
    """`x` with the rows `positions` of each sequence replaced by `rows`.

    Args:
        x: tensor `[batch, seq, hidden]`.
        rows: tensor `[batch, keep, hidden]`.
        positions: int tensor `[batch, keep]`, distinct within a row.
        method: `"take"`, `"one_hot"`, or `None` for the platform's.

    Returns:
        A tensor `[batch, seq, hidden]` of `x`'s dtype.

    Example:
    ```python
    from tokdrop_keras.layers.kept_rows import scatter_rows
    x = np.zeros((1, 4, 2), "float32")
    rows = np.ones((1, 2, 2), "float32")
    for method in ("take", "one_hot"):
        out = scatter_rows(x, rows, np.array([[1, 3]]), method=method)
        assert keras.ops.convert_to_numpy(out)[0, :, 0].tolist() == [
            0.0, 1.0, 0.0, 1.0
        ]
    ```
    """
    positions = ops.cast(positions, "int32")
    rows = ops.cast(rows, x.dtype)
    if _method(x, method) == "take":
        batch_index = ops.broadcast_to(
            ops.arange(ops.shape(positions)[0], dtype="int32")[:, None],
            ops.shape(positions),
        )
        indices = ops.reshape(
            ops.stack([batch_index, positions], axis=-1), (-1, 2)
        )
        return ops.scatter_update(
            x, indices, ops.reshape(rows, (-1, ops.shape(x)[-1]))
        )
    one_hot = ops.one_hot(positions, ops.shape(x)[1], dtype=x.dtype)
    dropped = 1 - ops.sum(one_hot, axis=1)  # [batch, seq]: 1 where not kept
    return x * dropped[:, :, None] + ops.einsum("bks,bkh->bsh", one_hot, rows)
