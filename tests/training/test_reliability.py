"""What a long run must survive: kills, NaNs, bad data; exact resume."""

import os
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import tokdrop_keras
from tokdrop_keras.training.callbacks import NonFiniteLossError
from tokdrop_keras.training.run_directory import CHECKPOINT_FILE

TINY = dict(
    size="nano", num_layers=4, hidden_dim=32, num_heads=2, intermediate_dim=64,
    seq_length=32, batch_size=4, eval_steps=1, log_every=1, dropout=0.1,
    steps=4, checkpoint_every=2,
)


def tiny_config(**changes):
    return tokdrop_keras.PretrainConfig(**{**TINY, **changes})


def final_state(result):
    model = result.model
    return (
        [np.asarray(w) for w in model.backbone.weights],
        model.importance_tracker.importance.numpy(),
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


def test_kill_9_then_resume_equals_an_uninterrupted_run_bit_for_bit(tmp_path):
    uninterrupted = tokdrop_keras.pretrain(
        tiny_config(model_dir=str(tmp_path / "uninterrupted"))
    )
    config = tiny_config(model_dir=str(tmp_path / "killed"))
    process = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, repr(config.to_dict())],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert process.returncode == -signal.SIGKILL, process.stderr[-2000:]
    resumed = tokdrop_keras.pretrain(config)
    assert resumed.summary["resumed_from_step"] == 2
    assert resumed.summary["steps"] == 4
    weights, table = final_state(resumed)
    expected_weights, expected_table = final_state(uninterrupted)
    np.testing.assert_array_equal(table, expected_table)
    for weight, expected in zip(weights, expected_weights):
        np.testing.assert_array_equal(weight, expected)
    assert not np.array_equal(table, 10.0)  # the table did move


class PoisonAfterStep(keras.callbacks.Callback):
    """Makes the next step's loss NaN, as a diverging run would."""

    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) == self.step:
            embeddings = self.model.backbone.token_embedding.embeddings
            embeddings.assign(np.full(embeddings.shape, np.nan, "float32"))


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    model_dir = str(tmp_path / "model")
    export_dir = str(tmp_path / "export")
    config = tiny_config(model_dir=model_dir, export_dir=export_dir)
    with pytest.raises(
        NonFiniteLossError,
        match=r"non-finite at step 4 .* last good checkpoint \(step 2\)",
    ):
        tokdrop_keras.pretrain(config, callbacks=[PoisonAfterStep(3)])
    assert not os.path.exists(export_dir)
    # The checkpoint holds step 2, finite, and the run can go on from it.
    model = tokdrop_keras.training.pretraining.build_masked_lm(
        config, tokdrop_keras.data.bert_tokenizer()
    )
    model.optimizer.build(model.trainable_variables)
    run = tokdrop_keras.training.RunDirectory(model_dir)
    assert run.restore(model) == 2
    assert np.all(np.isfinite(model.importance_tracker.importance.numpy()))
    assert all(np.all(np.isfinite(w)) for w in model.backbone.get_weights())


def test_a_finished_run_whose_export_was_lost_re_exports_without_training(tmp_path):
    config = tiny_config(
        model_dir=str(tmp_path / "model"), export_dir=str(tmp_path / "export"),
        saved_model=False,  # the preset is enough to show the re-export
    )
    first = tokdrop_keras.pretrain(config)
    stale = tmp_path / ".export.tmp-0badf00d"  # a killed export's leftovers
    stale.mkdir()
    again = tokdrop_keras.pretrain(config.replace(overwrite=True))
    assert again.summary["resumed_from_step"] == 4
    assert again.summary["loss_history"] == []  # no step trained
    assert again.summary["eval_loss"] == first.summary["eval_loss"]
    assert not stale.exists()
    assert os.path.exists(tmp_path / "model" / CHECKPOINT_FILE)


def test_a_corrupted_record_file_is_named(tmp_path):
    prefix = str(tmp_path / "records")
    tokdrop_keras.data.write_pretraining_tfrecords(
        tokdrop_keras.data.embedded_corpus_files(), prefix, num_shards=2,
        split="validation", verbose=False,
    )
    shard = sorted(tf.io.gfile.glob(prefix + "-*"))[1]
    data = bytearray(open(shard, "rb").read())
    middle = len(data) // 2
    data[middle : middle + 10] = b"\xff" * 10  # a record in the middle
    open(shard, "wb").write(bytes(data))
    with pytest.raises(ValueError, match=rf"{shard}, record \d+"):
        tokdrop_keras.pretrain(
            tiny_config(data=f"tfrecord:{prefix}-*", steps=2, checkpoint_every=1)
        )


def test_an_empty_split_and_a_sequence_too_short_to_mask_are_named(tmp_path):
    corpus = tmp_path / "one.txt"
    corpus.write_text("a single short document\n")
    is_validation = tokdrop_keras.data.is_validation_document(
        "a single short document"
    )
    split = "train" if is_validation else "validation"
    with pytest.raises(ValueError, match=f"'{split}' split .* holds no document"):
        tokdrop_keras.data.text_dataset(str(corpus), split)
    with pytest.raises(ValueError, match="masks no token"):
        tokdrop_keras.data.pretraining_dataset(sequence_length=3)


def test_fine_tuning_longer_than_the_export_is_refused(tmp_path):
    # An export as pretrain(seq_length=32) writes it (untrained: the check
    # reads the shapes only).
    export_dir = str(tmp_path / "export")
    tokenizer = tokdrop_keras.data.bert_tokenizer()
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=tokenizer.vocabulary_size(),
        max_sequence_length=32, num_layers=2,
    )
    tokdrop_keras.export.export_pretrained(
        tokdrop_keras.TokenDropMaskedLM(backbone), tokenizer, export_dir,
        sequence_length=32,
    )
    for encoder in ("preset", "saved_model"):
        with pytest.raises(ValueError, match=r"`seq_length` \(64\) is above the export's max_sequence_length \(32\)"):
            tokdrop_keras.finetune(
                tokdrop_keras.FinetuneConfig(
                    export_dir=export_dir, encoder=encoder, seq_length=64
                )
            )


def test_a_keras_file_continues_training_as_the_model_would(tmp_path):
    import sys as _sys

    _sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    from tiny_bert import SPECIAL_IDS, tiny_backbone, tiny_inputs

    model = tokdrop_keras.TokenDropMaskedLM(
        tiny_backbone(dropout=0.1), seed=1, **SPECIAL_IDS
    )
    model.compile()
    x, y, w = tiny_inputs()
    model.train_on_batch(x, y, sample_weight=w)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert len(loaded.random_state_variables) == 14  # dropout's and ties'
    for copy in (model, loaded):  # one more step each, dropout on
        copy.train_on_batch(x, y, sample_weight=w)
    for weight, expected in zip(loaded.weights, model.weights):
        np.testing.assert_array_equal(weight, expected)
