"""TokenDropMaskedLM on every supported keras-hub encoder: training,
saving, and the MLM head as keras-hub's own masked LM builds it.

(BERT's versions of the first two are in test_token_drop_masked_lm.py.)
"""

import os

import keras
import numpy as np
import pytest
from backends import jax_backend_only
from backends import tensorflow_backend_only
from tiny_encoders import ARCHITECTURES
from tiny_encoders import VOCABULARY_SIZE
from tiny_encoders import special_ids
from tiny_encoders import tiny_backbone
from tiny_encoders import tiny_inputs

from tokdrop_keras import TokenDropMaskedLM
from tokdrop_keras.models import architecture_of
from tokdrop_keras.models.numerics import KERAS_HUB_MLM_HEAD

NON_BERT = [a for a in ARCHITECTURES if a != "bert"]


def tiny_masked_lm(architecture, **kwargs):
    return TokenDropMaskedLM(
        tiny_backbone(architecture), seed=1, **special_ids(architecture),
        **kwargs,
    )


def fit(model, data, jit_compile, epochs):
    x, y, w = data
    model.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=jit_compile)
    return model.fit(
        x, y, sample_weight=w, batch_size=4, epochs=epochs, shuffle=False,
        verbose=0,
    ).history


# XLA compiles take ~20-30 s each on TensorFlow's CPU: the TensorFlow suite
# runs these without XLA, the JAX suite (`make test`'s second half) with it.
# (BERT's XLA run on TensorFlow is in test_token_drop_masked_lm.py.)
@pytest.mark.parametrize(
    "architecture, jit_compile",
    [
        pytest.param(architecture, False, marks=tensorflow_backend_only)
        for architecture in NON_BERT
    ]
    + [
        pytest.param(architecture, True, marks=jax_backend_only)
        for architecture in NON_BERT
    ],
)
def test_fit_lowers_the_loss_and_moves_the_table_at_predicted_ids_only(
    architecture, jit_compile
):
    data = tiny_inputs(architecture, batch_size=8, num_predictions=4)
    model = tiny_masked_lm(architecture)
    history = fit(model, data, jit_compile, epochs=6)
    assert history["loss"][-1] < 0.9 * history["loss"][0]
    # Every prediction here is a mask token, which is always kept.
    assert history["kept_mask_fraction"] == [1.0] * 6

    _, mask_ids, mask_weights = data
    predicted = np.unique(mask_ids[mask_weights > 0])
    table = np.asarray(model.importance_tracker.importance)
    np.testing.assert_array_equal(np.flatnonzero(table != 10.0), predicted)
    counts = np.bincount(mask_ids[mask_weights > 0], minlength=VOCABULARY_SIZE)
    np.testing.assert_array_equal(
        np.asarray(model.importance_tracker.prediction_counts), 6 * counts
    )


@pytest.mark.parametrize("architecture", NON_BERT)
def test_keras_file_round_trip_restores_logits_and_table(architecture, tmp_path):
    x, _, _ = tiny_inputs(architecture)
    model = tiny_masked_lm(architecture, keep_fraction=0.25)
    table = np.random.default_rng(0).uniform(0, 5, VOCABULARY_SIZE)
    model.importance_tracker.importance.assign(table.astype("float32"))
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.backbone) is type(model.backbone)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(
        loaded.importance_tracker.importance, model.importance_tracker.importance
    )
    np.testing.assert_allclose(loaded(x), model(x), rtol=0, atol=1e-6)
    # The token-drop path too (the table decides what it keeps).
    np.testing.assert_allclose(
        loaded(x, training=True)["logits"], model(x, training=True)["logits"],
        rtol=0, atol=1e-6,
    )


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_the_head_is_keras_hubs_and_the_full_model_its_masked_lm(architecture):
    backbone = tiny_backbone(architecture)
    # By default the head has transformers' numbers for this architecture
    # (so that the model exports to transformers exactly); with keras-hub's
    # (gelu, 1e-5) it is keras-hub's masked LM.
    default = TokenDropMaskedLM(backbone, **special_ids(architecture))
    assert (default.mlm_head_activation, default.mlm_head_layer_norm_epsilon) == {
        "bert": ("gelu_new", 1e-12),
        "roberta": ("gelu", 1e-5),
        "xlm_roberta": ("gelu", 1e-5),
        "distil_bert": ("gelu", 1e-12),
    }[architecture]
    model = TokenDropMaskedLM(
        backbone, **special_ids(architecture), **KERAS_HUB_MLM_HEAD
    )
    masked_lm_class = architecture_of(backbone).masked_lm_class
    reference = masked_lm_class(backbone=backbone, preprocessor=None)
    # keras-hub's head, its weights set to ours: the same layer, so the
    # same logits; the weights are tied to the token embedding in both.
    assert [w.shape for w in reference.masked_lm_head.weights] == [
        w.shape for w in model.masked_lm_head.weights
    ]
    reference.masked_lm_head.set_weights(model.masked_lm_head.get_weights())
    assert model.masked_lm_head.token_embedding is backbone.token_embedding
    x, _, _ = tiny_inputs(architecture)
    np.testing.assert_allclose(
        model(x), reference(x), rtol=0, atol=1e-6
    )
