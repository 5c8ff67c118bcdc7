"""Gather and restore of the kept rows: "take" and "one_hot" agree exactly."""

import keras
import numpy as np
import pytest

from tokdrop_keras import backend
from tokdrop_keras.layers.kept_rows import gather_rows
from tokdrop_keras.layers.kept_rows import scatter_rows

POSITIONS = np.array([[0, 2, 3, 7], [1, 4, 5, 6], [0, 1, 2, 3]], "int32")


def values(dtype, shape=(3, 8, 5), seed=0):
    x = np.random.default_rng(seed).normal(size=shape).astype("float32")
    return keras.ops.cast(x, dtype)


def as_float32(x):
    return keras.ops.convert_to_numpy(keras.ops.cast(x, "float32"))


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_both_methods_give_the_same_values_exactly(dtype):
    x, rows = values(dtype), values(dtype, (3, 4, 5), seed=1)
    taken = as_float32(gather_rows(x, POSITIONS, method="take"))
    np.testing.assert_array_equal(
        taken, as_float32(x)[np.arange(3)[:, None], POSITIONS]
    )
    np.testing.assert_array_equal(
        as_float32(gather_rows(x, POSITIONS, method="one_hot")), taken
    )
    restored = as_float32(scatter_rows(x, rows, POSITIONS, method="take"))
    expected = as_float32(x).copy()
    expected[np.arange(3)[:, None], POSITIONS] = as_float32(rows)
    np.testing.assert_array_equal(restored, expected)
    np.testing.assert_array_equal(
        as_float32(scatter_rows(x, rows, POSITIONS, method="one_hot")), restored
    )


def test_the_platform_choice():
    # float32 takes everywhere (a GPU's default matmul precision would
    # round it); 16-bit tensors follow the platform.
    assert backend.gather_method("float32") == "take"
    expected = backend.GATHER_BY_PLATFORM[backend.accelerator_platform()]
    assert backend.gather_method("bfloat16") == expected


def test_the_override_is_checked(monkeypatch):
    monkeypatch.setenv("TOKDROP_GATHER", "one_hot")
    assert backend.gather_method("float32") == "one_hot"
    monkeypatch.setenv("TOKDROP_GATHER", "sorted")
    with pytest.raises(ValueError, match="TOKDROP_GATHER='sorted'"):
        backend.gather_method("float32")


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="reads JAX's HLO")
def test_one_hot_leaves_no_gather_or_scatter_in_the_gradient():
    import re

    import jax

    x, rows = values("float32"), values("float32", (3, 4, 5), seed=1)

    def counts(method):
        def loss(x, rows):
            kept = gather_rows(x, POSITIONS, method=method) * 2.0 + rows
            return scatter_rows(x, kept, POSITIONS, method=method).sum()

        grads = jax.jit(jax.grad(loss, argnums=(0, 1)))
        text = grads.lower(x, rows).compile().as_text()
        return [
            len(re.findall(rf"= \S+ {op}\(", text)) for op in ("gather", "scatter")
        ]

    take, one_hot = counts("take"), counts("one_hot")
    assert sum(take) >= 2, take
    assert one_hot == [0, 0], one_hot
