"""Tiny end-to-end runs of experiments/pretrain.py and finetune.py."""

import json
import os

import keras
import numpy as np
import pytest

import finetune
import pretrain

TINY = [
    "--preset", "tiny", "--num_layers", "2", "--hidden_dim", "32",
    "--num_heads", "2", "--intermediate_dim", "64", "--seq_length", "32",
    "--batch_size", "4", "--eval_steps", "2", "--log_every", "1",
]


def pretrain_args(*extra):
    return pretrain.build_parser().parse_args(TINY + list(extra))


def test_pretrain_export_finetune(tmp_path, capsys):
    export_dir = os.path.join(tmp_path, "export")
    model, tokenizer, summary = pretrain.pretrain(
        pretrain_args("--steps", "4", "--export_dir", export_dir)
    )
    assert summary["steps"] == 4
    assert np.isfinite(summary["eval_loss"])
    assert 0.0 <= summary["eval_accuracy"] <= 1.0
    assert [step for step, _, _ in summary["loss_history"]] == [1, 2, 3, 4]
    assert sorted(os.listdir(export_dir)) == [
        "importance.tsv", "preset", "saved_model"
    ]
    assert "step 4:" in capsys.readouterr().out  # not a TTY: one-line logs

    quick = ["--seq_length", "32", "--epochs", "1", "--steps_per_epoch", "3",
             "--batch_size", "8"]
    for encoder in ("preset", "saved_model"):
        result = finetune.finetune(
            finetune.build_parser().parse_args(
                ["--export_dir", export_dir, "--encoder", encoder] + quick
            )
        )
        assert 0.0 <= result["test_accuracy"] <= 1.0
        assert result["epochs_run"] == 1
        assert result["encoder"] == encoder

    # A bare SavedModel carries no vocabulary: --vocabulary must say it.
    saved_model = os.path.join(export_dir, "saved_model")
    vocabulary = os.path.join(export_dir, "preset", "assets", "tokenizer", "vocabulary.txt")
    with pytest.raises(ValueError, match="no keras-hub preset .* --vocabulary"):
        finetune.build_classifier(
            finetune.build_parser().parse_args(
                ["--export_dir", saved_model, "--encoder", "saved_model"]
            )
        )
    classifier = finetune.build_classifier(
        finetune.build_parser().parse_args(
            ["--export_dir", saved_model, "--encoder", "saved_model",
             "--vocabulary", vocabulary]
        )
    )
    assert classifier.preprocessor.tokenizer.vocabulary_size() == len(
        tokenizer.get_vocabulary()
    )

    wrong = os.path.join(tmp_path, "vocab.txt")
    with open(wrong, "w") as file:
        file.write("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a"]))
    with pytest.raises(ValueError, match="vocabulary .* differs"):
        finetune.finetune(
            finetune.build_parser().parse_args(
                ["--export_dir", export_dir, "--vocabulary", wrong]
            )
        )
    with pytest.raises(ValueError, match="SavedModel has .* token embeddings"):
        finetune.finetune(
            finetune.build_parser().parse_args(
                ["--export_dir", saved_model, "--encoder", "saved_model",
                 "--vocabulary", wrong]
            )
        )


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
    args = pretrain_args(
        "--steps", "6", "--checkpoint_every", "2",
        "--model_dir", os.path.join(tmp_path, "model"),
    )
    interrupted = StopAfter(steps=3)
    with pytest.raises(KeyboardInterrupt):
        pretrain.pretrain(args, callbacks=[interrupted])
    checkpointed_table = interrupted.tables[2]  # the state the step-2 save holds

    resumed = StopAfter(steps=-1)
    model, _, summary = pretrain.pretrain(args, callbacks=[resumed])
    assert min(resumed.tables) == 2  # resumed at step 2, not 0 or 3
    np.testing.assert_array_equal(resumed.tables[2], checkpointed_table)
    assert not np.array_equal(checkpointed_table, 10.0)
    assert summary["steps"] == 6
    with open(os.path.join(tmp_path, "model", "summary.json")) as file:
        assert json.load(file)["steps"] == 6


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--preset", "huge"], "Unknown --preset 'huge'"),
        (["--strategy", "gpus"], "Unknown --strategy 'gpus'"),
        (["--strategy", "tpu"], "needs --tpu"),
        (["--steps", "0"], "--steps must be positive"),
        (["--steps", "10", "--checkpoint_every", "4"], "multiple of --checkpoint_every 4"),
        (["--model_dir", "/proc/no_such_dir"], "not writable"),
    ],
)
def test_bad_flags_fail_before_training(flags, message):
    with pytest.raises(ValueError, match=message):
        pretrain.pretrain(pretrain_args(*flags))


def test_non_empty_export_dir_is_refused_unless_overwrite(tmp_path):
    open(os.path.join(tmp_path, "keep.txt"), "w").close()
    with pytest.raises(ValueError, match="exists and is not empty"):
        pretrain.validate(pretrain_args("--export_dir", str(tmp_path)))
    pretrain.validate(pretrain_args("--export_dir", str(tmp_path), "--overwrite"))
    assert os.listdir(tmp_path) == ["keep.txt"]


def test_scripts_explain_themselves():
    for module in (pretrain, finetune):
        with pytest.raises(SystemExit) as exit_info:
            module.build_parser().parse_args(["--help"])
        assert exit_info.value.code == 0
