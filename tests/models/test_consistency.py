"""ScTD-style consistency steps: the full-length forward on the same batch,
its MLM loss and the KL term, every `consistency_every` steps."""

import keras
import numpy as np
import pytest
from tiny_bert import SPECIAL_IDS
from tiny_bert import tiny_backbone
from tiny_bert import tiny_inputs

from tokdrop_keras import TokenDropMaskedLM
from tokdrop_keras.models.token_drop_masked_lm import FULL_LOGITS
from tokdrop_keras.models.token_drop_masked_lm import LOGITS


def consistency_model(**kwargs):
    backbone = tiny_backbone()
    # Larger weights than the initializer's (std 0.02): predictions far
    # from uniform, so that the two models' distributions differ.
    for variable in backbone.trainable_variables:
        variable.assign(variable * 20.0)
    return TokenDropMaskedLM(
        backbone, seed=1, keep_fraction=0.25, **SPECIAL_IDS, **kwargs
    )


def log_softmax(logits):
    logits = np.asarray(logits, "float64")
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def test_the_consistency_loss_by_hand():
    x, y, w = tiny_inputs(batch_size=4, num_predictions=3)
    x = dict(x, mask_positions=np.array([[2, 5, 7]] * 4, "int32"))
    w = w * np.array([1.0, 2.0, 0.5])
    model = consistency_model(consistency_weight=0.5)
    model.compile()
    model.use_train_step(consistency_step=True)
    outputs = model(x, training=True)
    # Dropout 0: the full-length logits are those of evaluation.
    np.testing.assert_allclose(outputs[FULL_LOGITS], model(x), atol=1e-5)
    loss = model.compute_loss(x, y, outputs, w, training=False)

    def mlm(logits):
        nll = -np.take_along_axis(log_softmax(logits), y[:, :, None], 2)[:, :, 0]
        return (nll * w).sum() / w.sum()

    drop, full = log_softmax(outputs[LOGITS]), log_softmax(outputs[FULL_LOGITS])
    kl = ((np.exp(full) * (full - drop)).sum(-1) * w).sum() / w.sum()
    assert kl > 1e-3  # a quarter of the tokens: the two models differ
    expected = mlm(outputs[LOGITS]) + mlm(outputs[FULL_LOGITS]) + 0.5 * kl
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_no_gradient_flows_through_the_full_model_target():
    x, y, w = tiny_inputs(batch_size=2, num_predictions=3)
    tf = pytest.importorskip("tensorflow")

    model = consistency_model(consistency_weight=1.0)
    model.use_train_step(consistency_step=True)
    outputs = model(x, training=True)
    full = keras.ops.convert_to_tensor(outputs[FULL_LOGITS])
    with tf.GradientTape() as tape:
        tape.watch(full)
        outputs = dict(outputs, **{FULL_LOGITS: full})
        loss = model.compute_loss(x, y, outputs, w, training=False)
    gradient = tape.gradient(loss, full).numpy()
    # Only the full model's own MLM loss reaches its logits: softmax minus
    # one-hot, per weighted prediction.
    probabilities = np.exp(log_softmax(full))
    one_hot = np.eye(probabilities.shape[-1])[y]
    expected = (probabilities - one_hot) * (w / w.sum())[:, :, None]
    np.testing.assert_allclose(gradient, expected, atol=1e-6)


class ConsistencySteps(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.steps = []

    def on_train_batch_begin(self, batch, logs=None):
        self.steps.append(self.model._consistency_step)


def test_fit_runs_a_consistency_step_every_n_steps():
    x, y, w = tiny_inputs(batch_size=2, num_predictions=3)
    model = consistency_model(consistency_weight=1.0, consistency_every=3)
    model.compile(jit_compile=False)
    seen = ConsistencySteps()
    history = model.fit(
        x, y, sample_weight=w, batch_size=2, epochs=7, verbose=0, callbacks=[seen]
    ).history
    assert seen.steps == [True, False, False, True, False, False, True]
    consistency = history["consistency_loss"]
    assert all(consistency[i] > 0 for i in (0, 3, 6))
    assert all(consistency[i] == 0 for i in (1, 2, 4, 5))  # reset, not updated
    assert len(model._train_functions) == 2


def test_weight_zero_never_runs_the_full_model():
    model = consistency_model()
    model.use_train_step(consistency_step=True)
    x, _, _ = tiny_inputs(batch_size=2)
    assert FULL_LOGITS not in model(x, training=True)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(consistency_weight=-0.1), "`consistency_weight` must be a number >= 0"),
        (dict(consistency_weight=1.0, consistency_every=0), "`consistency_every` must be an int >= 1"),
        (dict(consistency_weight=1.0, token_drop=False), "the baseline"),
    ],
)
def test_bad_consistency_options_are_named(kwargs, message):
    with pytest.raises(ValueError) as error:
        consistency_model(**kwargs)
    assert message in str(error.value)
