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
    with pytest.raises(ValueError, match="needs TensorFlow.*data_pipeline='grain'"):
        tokdrop_keras.pretrain(tokdrop_keras.PretrainConfig(data_pipeline="tf.data"))
    with pytest.raises(ValueError, match="tf.data pipeline only"):
        tokdrop_keras.PretrainConfig(data="tfds:tokdrop_corpus").validate()
    with pytest.raises(ImportError, match="grain_pretraining_dataset"):
        tokdrop_keras.data.pretraining_dataset
    with pytest.raises(ValueError, match="gs://.*Use a local path"):
        tokdrop_keras.filesystem.exists("gs://bucket/run")


# The whole run without TensorFlow: Grain data, checkpoints, resume,
# evaluation, export (preset, hf/, importance.tsv), fine-tuning, init_from.
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_RUN = dict(
    size="nano", num_layers=4, hidden_dim=32, num_heads=2, intermediate_dim=64,
    seq_length=32, batch_size=4, eval_steps=1, log_every=1, dropout=0.1,
    steps=4, checkpoint_every=2,
)
KILLED_RUN = r"""
import os, signal, sys
import keras
import tokdrop_keras

class KillAfterStep3(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) == 3:
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup of any kind

config = tokdrop_keras.PretrainConfig.from_dict(eval(sys.argv[1]))
tokdrop_keras.pretrain(config, callbacks=[KillAfterStep3()])
"""


def run_script(script, *flags):
    import subprocess
    import sys

    process = subprocess.run(
        [sys.executable, os.path.join(REPOSITORY, "experiments", script), *flags],
        capture_output=True, text=True, timeout=600, cwd=REPOSITORY,
        env={**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": REPOSITORY},
    )
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    return process.stdout


@no_tensorflow_only
def test_pretrain_then_finetune_through_the_scripts(tmp_path):
    export_dir = str(tmp_path / "export")
    output = run_script(
        "pretrain.py", "--backend", "jax", "--size", "nano", "--num_layers", "2",
        "--seq_length", "32", "--batch_size", "4", "--steps", "4",
        "--checkpoint_every", "2", "--eval_steps", "1",
        "--model_dir", str(tmp_path / "run"), "--export_dir", export_dir,
    )
    assert '"data_pipeline": "grain"' in output
    assert "SavedModel skipped" in output and "saved_model_from_preset" in output
    assert '"eval_loss"' in output
    assert sorted(os.listdir(export_dir)) == ["hf", "importance.tsv", "preset"]
    summary_file = tmp_path / "finetune.json"
    run_script(
        "finetune.py", "--export_dir", export_dir, "--seq_length", "32",
        "--epochs", "1", "--steps_per_epoch", "2", "--batch_size", "8",
        "--output_file", str(summary_file),
    )
    import json

    summary = json.loads(summary_file.read_text())
    assert summary["epochs_run"] == 1 and 0.0 <= summary["test_accuracy"] <= 1.0
    # Continued pretraining from the Hugging Face checkpoint of the export.
    result = tokdrop_keras.pretrain(tokdrop_keras.PretrainConfig(
        init_from=os.path.join(export_dir, "hf"), seq_length=32, batch_size=4,
        steps=2, checkpoint_every=2, eval_steps=1,
    ))
    assert result.summary["steps"] == 2 and np.isfinite(result.eval_loss)


@no_tensorflow_only
def test_the_ablation_arms_run_through_their_script(tmp_path):
    # The arms whose train step differs from the importance run's: random
    # selection and ScTD's consistency loss.
    run_script(
        "ablation.py", "--arms", "random,sctd", "--tasks", "sentiment",
        "--size", "nano", "--num_layers", "4", "--seq_length", "32",
        "--batch_size", "4", "--steps", "2", "--evaluations", "1",
        "--eval_steps", "1", "--finetune_steps", "1",
        "--finetune_seq_length", "32", "--finetune_batch_size", "4",
        "--output_dir", str(tmp_path),
    )
    import json

    for arm in ("random", "sctd"):
        result = json.loads((tmp_path / arm / "seed0" / "result.json").read_text())
        assert result["pretrain"]["config"]["data_pipeline"] == "grain"
        assert result["pretrain"]["steps"] == 2
        assert np.isfinite(result["pretrain"]["eval_loss"])
        # Fine-tuned once, on the one task asked for.
        assert list(result["finetune"]) == ["sentiment"]
        assert [run["finetune_seed"] for run in result["finetune"]["sentiment"]["runs"]] == [0]


def final_state(result):
    model = result.model
    return (
        [keras.ops.convert_to_numpy(w) for w in model.backbone.weights],
        keras.ops.convert_to_numpy(model.importance_tracker.importance),
    )


@no_tensorflow_only
def test_kill_9_then_resume_equals_an_uninterrupted_run_bit_for_bit(tmp_path):
    import signal
    import subprocess
    import sys

    config = tokdrop_keras.PretrainConfig(**TINY_RUN)
    uninterrupted = tokdrop_keras.pretrain(
        config.replace(model_dir=str(tmp_path / "uninterrupted"))
    )
    killed = config.replace(model_dir=str(tmp_path / "killed"))
    process = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, repr(killed.to_dict())],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": REPOSITORY},
    )
    assert process.returncode == -signal.SIGKILL, process.stderr[-2000:]
    resumed = tokdrop_keras.pretrain(killed)
    assert resumed.summary["resumed_from_step"] == 2
    # The data read on from its recorded position, not by re-reading.
    assert resumed.summary["resumed_data_from"] == "recorded position"
    assert sorted(os.listdir(tmp_path / "killed" / "data_state")) == [
        "step2.shards0-0of1.json", "step4.shards0-0of1.json"
    ]
    assert resumed.summary["steps"] == 4
    weights, table = final_state(resumed)
    expected_weights, expected_table = final_state(uninterrupted)
    np.testing.assert_array_equal(table, expected_table)
    for weight, expected in zip(weights, expected_weights):
        np.testing.assert_array_equal(weight, expected)
    assert not np.array_equal(table, 10.0)  # the table did move
