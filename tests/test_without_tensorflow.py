"""What works without TensorFlow installed: layers, models, fit / evaluate /
predict on NumPy arrays and a `keras.utils.PyDataset`, `.keras` files, the
keras-hub preset export; and the errors for what needs TensorFlow.

`make test-no-tensorflow` runs this file (with tests/layers and
tests/models) on JAX in a virtualenv without tensorflow or tensorflow-text
(`requirements/no_tensorflow.txt`, `TOKDROP_EXPECT_NO_TENSORFLOW=1`). It runs
on JAX only: the TensorFlow suite covers these paths on TensorFlow.
"""

import importlib.util
import os

import keras
import keras_hub
import numpy as np
import pytest

import tokdrop_keras
from tiny_bert import SPECIAL_IDS
from tiny_bert import tiny_backbone
from tiny_bert import tiny_inputs
from tiny_bert import tiny_tokenizer
from tokdrop_keras.backend import tensorflow_installed
from tokdrop_keras.export import export_pretrained
from tokdrop_keras.export import find_export_part

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="the JAX (no-TensorFlow) run"
)
WITHOUT_TENSORFLOW = not tensorflow_installed()
no_tensorflow_only = pytest.mark.skipif(
    not WITHOUT_TENSORFLOW, reason="checks the errors without TensorFlow"
)


def test_the_environment_is_the_one_ci_asked_for():
    if os.environ.get("TOKDROP_EXPECT_NO_TENSORFLOW") == "1":
        assert importlib.util.find_spec("tensorflow") is None
        assert importlib.util.find_spec("tensorflow_text") is None
        assert keras.backend.backend() == "jax"


class Batches(keras.utils.PyDataset):
    """`tiny_inputs` batches, each drawn with its own seed."""

    def __init__(self, num_batches, **kwargs):
        super().__init__(**kwargs)
        self.batches = [tiny_inputs(seed=i) for i in range(num_batches)]

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        return self.batches[index]


def test_fit_evaluate_predict_and_save_on_arrays_and_a_py_dataset(tmp_path):
    model = tokdrop_keras.TokenDropMaskedLM(
        tiny_backbone(), keep_tokens=8, seed=0, **SPECIAL_IDS
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(Batches(4), epochs=3, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    # Every prediction's token is [MASK], which is always kept.
    assert history["kept_mask_fraction"] == [1.0, 1.0, 1.0]
    x, y, w = tiny_inputs(batch_size=8, seed=10)
    history = model.fit(x, y, sample_weight=w, batch_size=4, verbose=0)
    assert int(model.optimizer.iterations) == 14
    evaluation = model.evaluate(x, y, sample_weight=w, return_dict=True, verbose=0)
    assert np.isfinite(evaluation["loss"])
    logits = model.predict(x, verbose=0)
    assert logits.shape == (8, 3, model.backbone.vocabulary_size)
    counts = model.importance_tracker.prediction_counts.numpy()
    assert counts.sum() > 0 and counts[list(SPECIAL_IDS["always_keep_ids"])].sum() == 0

    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), logits, atol=1e-6)
    np.testing.assert_array_equal(
        loaded.importance_tracker.importance.numpy(),
        model.importance_tracker.importance.numpy(),
    )
    loaded.fit(x, y, sample_weight=w, batch_size=4, verbose=0)
    assert int(loaded.optimizer.iterations) == 16


def test_the_preset_export_reloads_with_the_same_encoder(tmp_path):
    model = tokdrop_keras.TokenDropMaskedLM(tiny_backbone(), **SPECIAL_IDS)
    export_dir = str(tmp_path / "export")
    export_pretrained(
        model, tiny_tokenizer(), export_dir, sequence_length=16,
        saved_model=False,
    )
    assert sorted(os.listdir(export_dir)) == ["hf", "importance.tsv", "preset"]
    backbone = keras_hub.models.BertBackbone.from_preset(
        find_export_part(export_dir, "preset")
    )
    x, _, _ = tiny_inputs()
    # The Hugging Face checkpoint reads back too (safetensors, no TF).
    again = tokdrop_keras.TokenDropMaskedLM.from_preset(
        find_export_part(export_dir, "transformers")
    )
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    del x["mask_positions"]
    np.testing.assert_allclose(
        backbone(x)["sequence_output"],
        model.backbone(x)["sequence_output"],
        atol=1e-6,
    )


@no_tensorflow_only
def test_tensorflow_features_name_the_alternative(tmp_path):
    model = tokdrop_keras.TokenDropMaskedLM(tiny_backbone(), **SPECIAL_IDS)
    with pytest.raises(ValueError, match="--nosaved_model"):
        export_pretrained(model, tiny_tokenizer(), str(tmp_path / "export"))
    assert not os.path.exists(tmp_path / "export")
    with pytest.raises(ImportError, match="TokenDropMaskedLM.fit on NumPy"):
        tokdrop_keras.pretrain(tokdrop_keras.PretrainConfig(steps=1))
    with pytest.raises(ImportError, match="tf.data"):
        tokdrop_keras.data.pretraining_dataset
    with pytest.raises(ValueError, match="gs://.*Use a local path"):
        tokdrop_keras.filesystem.exists("gs://bucket/run")
