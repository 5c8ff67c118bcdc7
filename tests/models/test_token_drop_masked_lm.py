import os

import keras
import keras_hub
import numpy as np
import pytest
from backends import tensorflow_backend_only
from tiny_bert import SPECIAL_IDS
from tiny_bert import VOCABULARY
from tiny_bert import tiny_backbone
from tiny_bert import tiny_inputs

from keras_test_case import KerasTestCase
from tiny_bert import backbone_inputs
from tiny_bert import tiny_tokenizer

from tokdrop_keras import TokenDropBertMaskedLM
from tokdrop_keras import TokenDropMaskedLM
from tokdrop_keras import special_token_ids
from tokdrop_keras.inputs import MASK_POSITIONS


def tiny_masked_lm(token_drop=True, seed=0, **kwargs):
    return TokenDropMaskedLM(
        tiny_backbone(seed=seed), token_drop=token_drop, seed=1, **SPECIAL_IDS,
        **kwargs,
    )


def fit(model, data, jit_compile, epochs, batch_size=4):
    x, y, w = data
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3), jit_compile=jit_compile
    )
    return model.fit(
        x, y, sample_weight=w, batch_size=batch_size, epochs=epochs,
        shuffle=False, verbose=0,
    ).history


@pytest.mark.parametrize(
    "jit_compile", [pytest.param(False, marks=tensorflow_backend_only), True]
)
def test_fit_lowers_the_loss_and_updates_the_table_where_predicted(jit_compile):
    data = tiny_inputs(batch_size=8, num_predictions=4)
    model = tiny_masked_lm()
    history = fit(model, data, jit_compile, epochs=8)
    assert history["loss"][-1] < 0.9 * history["loss"][0]
    # Every prediction here is a [MASK], which is always kept.
    assert history["kept_mask_fraction"] == [1.0] * 8

    _, mask_ids, mask_weights = data
    predicted = np.unique(mask_ids[mask_weights > 0])
    changed = np.flatnonzero(model.importance_tracker.importance.numpy() != 10.0)
    np.testing.assert_array_equal(changed, predicted)
    counts = np.bincount(
        mask_ids[mask_weights > 0], minlength=len(VOCABULARY)
    )
    np.testing.assert_array_equal(
        model.importance_tracker.prediction_counts.numpy(), 8 * counts
    )


@tensorflow_backend_only
def test_xla_and_eager_graph_agree_on_the_first_step():
    data = tiny_inputs(batch_size=8, num_predictions=4)
    histories = [
        fit(tiny_masked_lm(), data, jit_compile, epochs=1, batch_size=8)
        for jit_compile in (False, True)
    ]
    np.testing.assert_allclose(
        histories[0]["loss"], histories[1]["loss"], rtol=1e-5
    )


def test_baseline_runs_the_same_step_on_the_plain_backbone():
    data = tiny_inputs(batch_size=8, num_predictions=4)
    model = tiny_masked_lm(token_drop=False)
    fit(model, data, jit_compile=False, epochs=2)
    assert model.token_drop_backbone is None
    x, mask_ids, mask_weights = data
    logits = model.predict(x, verbose=0)
    expected = model.masked_lm_head(
        model.backbone(backbone_inputs(batch_size=8, num_predictions=4))[
            "sequence_output"
        ],
        x[MASK_POSITIONS],
    )
    np.testing.assert_allclose(logits, expected, atol=1e-6)
    assert np.any(model.importance_tracker.importance.numpy() != 10.0)


def test_loss_is_the_weighted_mean_of_prediction_losses():
    x, mask_ids, mask_weights = tiny_inputs(batch_size=4, num_predictions=3)
    mask_weights = mask_weights * np.array([1.0, 2.0, 0.5])
    model = tiny_masked_lm()
    model.compile()
    logits = model(x)
    loss = model.compute_loss(x, mask_ids, logits, mask_weights, training=False)
    log_probs = np.asarray(keras.ops.log_softmax(logits))
    nll = -np.take_along_axis(log_probs, mask_ids[:, :, None], 2)[:, :, 0]
    expected = (nll * mask_weights).sum() / mask_weights.sum()
    np.testing.assert_allclose(loss, expected, rtol=1e-6)
    # Evaluation (training=False) leaves the table alone.
    np.testing.assert_array_equal(model.importance_tracker.importance, 10.0)


def test_preprocessor_output_feeds_the_model_unchanged():
    tf = pytest.importorskip("tensorflow")  # tf.data (and tensorflow-text)
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=VOCABULARY)
    preprocessor = keras_hub.models.BertMaskedLMPreprocessor(
        tokenizer, sequence_length=16, mask_selection_rate=0.3,
        mask_selection_length=4,
    )
    texts = [" ".join(f"w{(i * 7 + j) % 45}" for j in range(12)) for i in range(8)]
    dataset = (
        tf.data.Dataset.from_tensor_slices(texts).map(preprocessor).batch(4)
    )
    model = TokenDropMaskedLM(tiny_backbone(), **special_token_ids(tokenizer))
    model.compile()
    history = model.fit(dataset, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"][0])
    # Predictions whose input is [MASK] are always kept; the ~20% the
    # preprocessor left as a (random or same) word compete for the kept
    # half, so some of them are dropped.
    x, _, weights = next(iter(dataset.unbatch().batch(8)))
    predicted = weights.numpy() > 0
    input_ids = np.take_along_axis(
        x["token_ids"].numpy(), x[MASK_POSITIONS].numpy(), axis=1
    )
    mask_share = (input_ids[predicted] == tokenizer.mask_token_id).mean()
    # [MASK] is always kept: the kept share of predictions is at least the
    # share of [MASK] inputs, and below 1 (others were dropped).
    assert mask_share <= history["kept_mask_fraction"][0] < 1.0


def test_save_and_load_restore_weights_and_table(tmp_path):
    data = tiny_inputs(batch_size=8, num_predictions=4)
    model = tiny_masked_lm(keep_fraction=0.25)
    fit(model, data, jit_compile=False, epochs=1)
    x = data[0]
    expected = model.predict(x, verbose=0)

    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, TokenDropMaskedLM)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(
        loaded.importance_tracker.importance, model.importance_tracker.importance
    )
    np.testing.assert_array_equal(
        loaded.importance_tracker.prediction_counts,
        model.importance_tracker.prediction_counts,
    )
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-6)
    # Compiled as saved, optimizer state included: training can go on.
    assert loaded.compiled
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations)
    for restored, saved in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(restored, saved)
    loaded.fit(x, data[1], sample_weight=data[2], batch_size=8, verbose=0)
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) + 1

    weights_path = os.path.join(tmp_path, "model.weights.h5")
    model.save_weights(weights_path)
    fresh = tiny_masked_lm(seed=1, keep_fraction=0.25)
    fresh.load_weights(weights_path)
    for restored, saved in zip(fresh.weights, model.weights):
        np.testing.assert_array_equal(restored, saved)
    # The table belongs to the pretraining model, not to the backbone.
    assert not any("importance" in w.path for w in model.backbone.weights)


def test_get_config_round_trips():
    model = tiny_masked_lm(keep_tokens=6, first_dropped_layer=1, name="mlm")
    config = model.get_config()
    restored = TokenDropMaskedLM.from_config(config)
    assert restored.get_config() == config
    assert restored.token_drop_backbone.keep_tokens == 6
    baseline = tiny_masked_lm(token_drop=False)
    assert (
        TokenDropMaskedLM.from_config(baseline.get_config()).get_config()
        == baseline.get_config()
    )


def test_pretrained_backbone_fine_tunes_in_a_text_classifier():
    # keras-hub's task models slice array inputs with tf.data (or grain).
    pytest.importorskip("tensorflow")
    data = tiny_inputs(batch_size=8, num_predictions=4)
    model = tiny_masked_lm()
    fit(model, data, jit_compile=False, epochs=1)
    x = {k: v for k, v in data[0].items() if k != "mask_positions"}
    labels = (x["token_ids"][:, 1] % 2).astype("int32")

    classifier = keras_hub.models.BertTextClassifier(
        backbone=model.backbone, num_classes=2, preprocessor=None, dropout=0.0
    )
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = classifier.fit(x, labels, epochs=15, verbose=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["accuracy"][-1] == 1.0


def test_mixed_precision_keeps_table_and_losses_in_float32():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = tiny_masked_lm()
        data = tiny_inputs(batch_size=8, num_predictions=4)
        history = fit(model, data, jit_compile=False, epochs=1)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert model.backbone.compute_dtype == "bfloat16"
    assert model.importance_tracker.importance.dtype == "float32"
    assert np.isfinite(history["loss"][0])
    values = model.importance_tracker.importance.numpy()
    # bfloat16 would round 0.995 * 10 + 0.005 * loss to a multiple of 1/16.
    assert np.any((values != 10.0) & (values * 16 != np.round(values * 16)))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="keep"):
        TokenDropMaskedLM(tiny_backbone(), keep=3)
    with pytest.raises(ValueError, match="keep_fraction=1.5"):
        TokenDropMaskedLM(tiny_backbone(), token_drop=False, keep_fraction=1.5)
    with pytest.raises(ValueError, match="supports the keras-hub backbones"):
        TokenDropMaskedLM(keras.Sequential())
    model = tiny_masked_lm()
    with pytest.raises(ValueError, match="do not pass `loss`"):
        model.compile(loss="mse")
    x, _, _ = tiny_inputs()
    del x["mask_positions"]
    with pytest.raises(ValueError, match=r"Missing inputs \['mask_positions'\]"):
        model(x)


def test_evaluation_and_prediction_run_the_full_length_backbone():
    x, mask_ids, mask_weights = tiny_inputs(batch_size=4, num_predictions=3)
    model = tiny_masked_lm(keep_tokens=4)
    full = TokenDropMaskedLM(model.backbone, token_drop=False)
    full.masked_lm_head.set_weights(model.masked_lm_head.get_weights())
    np.testing.assert_array_equal(model(x), full(x))
    dropped = model(x, training=True)
    assert sorted(dropped) == ["kept_mask", "logits"]
    assert np.abs(dropped["logits"] - full(x)).max() > 1e-3
    assert not np.all(dropped["kept_mask"])


class TestTokenDropMaskedLMModel(KerasTestCase):
    def test_serialization_and_saving(self, tmp_path):
        x, _, _ = tiny_inputs()
        for token_drop in (True, False):
            model = tiny_masked_lm(token_drop=token_drop, keep_tokens=6)
            self.run_serialization_test(model)
            self.run_model_saving_test(model, x, tmp_path)

    def test_symbolic_call_matches_the_eager_shapes(self):
        model = tiny_masked_lm()
        x, _, _ = tiny_inputs()
        symbolic = model(
            {k: keras.KerasTensor(v.shape, dtype="int32") for k, v in x.items()}
        )
        assert tuple(symbolic.shape) == tuple(model(x).shape) == (4, 3, 50)

    def test_mixed_bfloat16(self):
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            model = tiny_masked_lm()
            model.compile()
            x, y, w = tiny_inputs()
            loss = model.train_on_batch(x, y, sample_weight=w)
            # Graph mode: keras-hub's MaskedLMHead adds its float32 bias
            # without autocasting when called eagerly under this policy.
            logits = model.predict_on_batch(x)
        finally:
            keras.mixed_precision.set_global_policy("float32")
        assert model.masked_lm_head.compute_dtype == "bfloat16"
        assert np.all(np.isfinite(logits)) and np.all(np.isfinite(loss))
        assert model.importance_tracker.importance.dtype == "float32"


def test_a_file_saved_before_the_redesign_loads_and_predicts_the_same():
    here = os.path.join(os.path.dirname(__file__), "..", "assets")
    saved = np.load(os.path.join(here, "legacy_masked_lm.npz"))
    x = {key[2:]: saved[key] for key in saved.files if key.startswith("x_")}
    model = keras.saving.load_model(os.path.join(here, "legacy_masked_lm.keras"))
    assert isinstance(model, TokenDropBertMaskedLM)
    assert isinstance(model, TokenDropMaskedLM)
    # Saved on TensorFlow; another backend sums in another order.
    np.testing.assert_allclose(
        model.predict(x, verbose=0), saved["logits"], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_array_equal(
        model.importance_tracker.importance.numpy(), saved["importance"]
    )
    assert int(model.optimizer.iterations) == 3  # and it can train on
    assert model.keep_fraction == 0.5 and model.seed == 1


def test_the_bert_classes_accept_only_bert():
    assert isinstance(
        TokenDropBertMaskedLM(tiny_backbone(), token_drop=False),
        TokenDropMaskedLM,
    )
    with pytest.raises(ValueError, match="keras_hub.models.BertBackbone"):
        TokenDropBertMaskedLM(keras.Sequential())
