"""Tiny end-to-end runs of `tokdrop_keras.pretrain`."""

import json
import os

import keras
import numpy as np
import pytest

import tokdrop_keras
from tokdrop_keras.export import EXPORT_CONTENTS
from tokdrop_keras.training.run_directory import CHECKPOINT_FILE
from tokdrop_keras.training.run_directory import PREVIOUS_CHECKPOINT_FILE
from tokdrop_keras.training.run_directory import RUN_CONFIG_FILE
from tokdrop_keras.training.run_directory import SUMMARY_FILE

TINY = dict(
    size="nano", num_layers=2, hidden_dim=32, num_heads=2, intermediate_dim=64,
    seq_length=32, batch_size=4, eval_steps=2, log_every=1,
)


def tiny_config(**changes):
    return tokdrop_keras.PretrainConfig(**{**TINY, **changes})


def test_pretrain_trains_evaluates_exports_and_summarizes(tmp_path, capsys):
    export_dir = os.path.join(tmp_path, "export")
    model_dir = os.path.join(tmp_path, "model")
    config = tiny_config(steps=4, export_dir=export_dir, model_dir=model_dir)
    result = tokdrop_keras.pretrain(config)
    summary = result.summary
    assert summary["steps"] == 4
    assert [step for step, _, _ in summary["loss_history"]] == [1, 2, 3, 4]
    # The held-out loss is the full model's, on the held-out split: evaluate
    # the returned model on it again and get the same number.
    eval_data = tokdrop_keras.data.pretraining_dataset(
        split="validation", sequence_length=32, batch_size=4, repeat=False,
        shuffle=False, max_sequence_length=32,
    ).take(2)
    again = result.model.evaluate(eval_data, return_dict=True, verbose=0)
    np.testing.assert_allclose(summary["eval_loss"], again["loss"], rtol=1e-6)
    assert summary["eval_loss"] < np.log(result.tokenizer.vocabulary_size())
    assert tuple(sorted(os.listdir(export_dir))) == EXPORT_CONTENTS
    assert "step 4:" in capsys.readouterr().out  # not a TTY: one-line logs

    # summary.json holds the whole config: the run can be repeated from it.
    with open(os.path.join(model_dir, SUMMARY_FILE)) as file:
        saved = json.load(file)
    assert tokdrop_keras.PretrainConfig.from_dict(saved["config"]) == config
    assert saved["steps"] == 4


class StopAfter(keras.callbacks.Callback):
    def __init__(self, steps):
        super().__init__()
        self.steps = steps
        self.tables = {}

    def on_train_batch_begin(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        self.tables.setdefault(
            step, self.model.importance_tracker.importance.numpy().copy()
        )

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) == self.steps:
            raise KeyboardInterrupt


def test_resume_continues_from_the_last_checkpoint(tmp_path):
    model_dir = os.path.join(tmp_path, "model")
    config = tiny_config(steps=6, checkpoint_every=2, model_dir=model_dir)
    interrupted = StopAfter(steps=3)
    with pytest.raises(KeyboardInterrupt):
        tokdrop_keras.pretrain(config, callbacks=[interrupted])
    checkpointed_table = interrupted.tables[2]  # the state the step-2 save holds
    assert {CHECKPOINT_FILE, RUN_CONFIG_FILE} <= set(os.listdir(model_dir))

    resumed = StopAfter(steps=-1)
    result = tokdrop_keras.pretrain(
        config.replace(log_every=2), callbacks=[resumed]  # logging may change
    )
    assert min(resumed.tables) == 2  # resumed at step 2, not 0 or 3
    np.testing.assert_array_equal(resumed.tables[2], checkpointed_table)
    assert not np.array_equal(checkpointed_table, 10.0)
    assert result.summary["steps"] == 6
    assert result.summary["resumed_from_step"] == 2


def test_a_torn_latest_checkpoint_falls_back_to_the_previous(tmp_path):
    model_dir = os.path.join(tmp_path, "model")
    config = tiny_config(steps=4, checkpoint_every=1, model_dir=model_dir)
    with pytest.raises(KeyboardInterrupt):
        tokdrop_keras.pretrain(config, callbacks=[StopAfter(steps=3)])
    assert PREVIOUS_CHECKPOINT_FILE in os.listdir(model_dir)
    with open(os.path.join(model_dir, CHECKPOINT_FILE), "wb") as file:
        file.write(b"half a checkpoint")
    resumed = StopAfter(steps=-1)
    with pytest.warns(UserWarning, match="Could not read the checkpoint"):
        result = tokdrop_keras.pretrain(config, callbacks=[resumed])
    assert min(resumed.tables) == 1  # the previous checkpoint: step 1
    assert result.summary["steps"] == 4


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"steps": 8}, "steps: 4 -> 8"),
        ({"hidden_dim": 64, "num_heads": 2}, "hidden_dim: 32 -> 64"),
        ({"checkpoint_every": 1}, "checkpoint_every: 2 -> 1"),
        ({"data": "embedded", "seed": 3}, "seed: 0 -> 3"),
    ],
)
def test_a_model_dir_of_another_run_is_refused_before_training(
    tmp_path, changes, message
):
    model_dir = os.path.join(tmp_path, "model")
    config = tiny_config(steps=4, checkpoint_every=2, model_dir=model_dir)
    tokdrop_keras.training.RunDirectory(model_dir).claim(config)
    before = sorted(os.listdir(model_dir))
    with pytest.raises(ValueError, match=message):
        tokdrop_keras.pretrain(config.replace(**changes))
    assert sorted(os.listdir(model_dir)) == before  # nothing written


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"size": "huge"}, "Unknown size 'huge'"),
        ({"strategy": "gpus"}, "Unknown strategy 'gpus'"),
        ({"strategy": "tpu"}, "needs `tpu`"),
        ({"steps": 0}, "`steps` must be positive"),
        ({"steps": 10, "checkpoint_every": 4}, r"multiple of `checkpoint_every` \(4\)"),
        ({"model_dir": "/proc/no_such_dir"}, "not writable"),
        ({"keep_fraction": 0.0}, "keep_fraction=0.0"),
        ({"first_dropped_layer": 2}, "first_dropped_layer=2"),
        ({"mixed_precision": "fp8"}, "Unknown mixed_precision 'fp8'"),
        ({"data_pipeline": "torch"}, "Unknown data_pipeline 'torch'"),
        ({"data_pipeline": "grain", "data": "model_garden:x/*"}, "tf.data pipeline only"),
        ({"data_pipeline": "grain", "strategy": "mirrored"}, "reads tf.data"),
        ({"data_workers": 2}, "`data_workers` is the Grain pipeline's"),
    ],
)
def test_bad_settings_fail_before_training(changes, message):
    with pytest.raises(ValueError, match=message):
        tokdrop_keras.pretrain(tiny_config(**changes))


def test_non_empty_export_dir_is_refused_unless_overwrite(tmp_path):
    open(os.path.join(tmp_path, "keep.txt"), "w").close()
    with pytest.raises(ValueError, match="exists and is not empty"):
        tokdrop_keras.pretrain(tiny_config(steps=1, export_dir=str(tmp_path)))
    assert os.listdir(tmp_path) == ["keep.txt"]


def test_the_grain_pipeline_trains_the_same_model_on_tensorflow(tmp_path):
    result = tokdrop_keras.pretrain(
        tiny_config(steps=2, checkpoint_every=2, data_pipeline="grain")
    )
    assert result.summary["steps"] == 2
    assert result.summary["config"]["data_pipeline"] == "grain"
    assert np.isfinite(result.eval_loss)
    # The step waited at least for the first shuffle window's fill.
    assert result.summary["data_wait_share"] > 0.0
