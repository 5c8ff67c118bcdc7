import keras
import numpy as np
import pytest

from tokdrop_keras.optimizers import WarmupLinearDecay
from tokdrop_keras.optimizers import bert_adamw


def test_warmup_then_linear_decay():
    schedule = WarmupLinearDecay(1e-3, total_steps=100, warmup_steps=10)
    rates = [float(schedule(step)) for step in (0, 5, 10, 55, 100, 120)]
    np.testing.assert_allclose(rates, [0, 5e-4, 1e-3, 5e-4, 0, 0], atol=1e-9)
    config = schedule.get_config()
    assert WarmupLinearDecay.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="warmup_steps=10, total_steps=10"):
        WarmupLinearDecay(1e-3, total_steps=10, warmup_steps=10)


@pytest.mark.parametrize("rebuilt", [False, True])
def test_no_weight_decay_on_layer_norm_and_biases(rebuilt):
    optimizer = bert_adamw(1e-2, total_steps=10, warmup_steps=0)
    if rebuilt:  # as a reloaded `.keras` model gets it
        optimizer = keras.optimizers.deserialize(
            keras.optimizers.serialize(optimizer)
        )
    dense = keras.layers.Dense(2, name="dense")
    norm = keras.layers.LayerNormalization(name="layer_normalization")
    dense.build((None, 2))
    norm.build((None, 2))
    variables = dense.weights + norm.weights
    for variable in variables:  # nonzero, so that decay would show
        variable.assign(np.ones(variable.shape))
    before = [v.numpy().copy() for v in variables]
    optimizer.build(variables)
    # Zero gradients: only weight decay can move a variable.
    optimizer.apply_gradients([(np.zeros(v.shape), v) for v in variables])
    moved = {v.path: not np.array_equal(v.numpy(), b) for v, b in zip(variables, before)}
    assert moved == {
        "dense/kernel": True,
        "dense/bias": False,
        "layer_normalization/gamma": False,
        "layer_normalization/beta": False,
    }
