"""Tiny runs of `tokdrop_keras.finetune` on exports of `pretrain`."""

import os

import numpy as np
import pytest

import tokdrop_keras
from tokdrop_keras.export.layout import PRESET_DIR
from tokdrop_keras.export.layout import SAVED_MODEL_DIR
from tokdrop_keras.special_tokens import BERT_RESERVED_TOKENS


# One worker runs this module (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("finetuning")


# Session scope: built once per worker even when xdist runs other modules'
# tests between this module's (a module fixture is torn down and rebuilt).
@pytest.fixture(scope="session")
def export_dir(tmp_path_factory):
    path = os.path.join(tmp_path_factory.mktemp("run"), "export")
    tokdrop_keras.pretrain(
        tokdrop_keras.PretrainConfig(
            size="nano", num_layers=2, seq_length=32, batch_size=8, steps=2,
            eval_steps=1, dropout=0.0, export_dir=path,
        )
    )
    return path


def finetune_config(export_dir, **changes):
    options = dict(
        export_dir=export_dir, seq_length=32, epochs=1, steps_per_epoch=3,
        batch_size=8,
    )
    return tokdrop_keras.FinetuneConfig(**{**options, **changes})


def test_fine_tuning_beats_the_majority_class(export_dir, tmp_path):
    labels = np.array(
        [label for _, label in tokdrop_keras.data.sentiment_dataset("test")]
    )
    majority = max(labels.mean(), 1.0 - labels.mean())
    output_file = os.path.join(tmp_path, "finetune.json")
    result = tokdrop_keras.finetune(
        finetune_config(
            export_dir, steps_per_epoch=250, batch_size=32,
            learning_rate=5e-4, output_file=output_file,
        )
    )
    # Measured: 0.714 dev / 0.726 test against a majority share of 0.507.
    assert result.summary["test_accuracy"] > majority + 0.1
    assert result.summary["dev_accuracy"] > majority + 0.1
    assert os.path.exists(output_file)


def test_the_saved_model_fine_tunes_and_moves(export_dir):
    result = tokdrop_keras.finetune(
        finetune_config(export_dir, encoder="saved_model")
    )
    encoder = result.classifier.backbone.get_layer("bert_saved_model")
    fresh = tokdrop_keras.export.BertSavedModelEncoder(
        os.path.join(export_dir, SAVED_MODEL_DIR)
    )
    moved = [
        np.abs(np.asarray(a) - np.asarray(b)).max()
        for a, b in zip(encoder.weights, fresh.weights)
    ]
    assert max(moved) > 1e-4  # the optimizer trained the SavedModel's weights
    assert result.summary["epochs_run"] == 1


def test_a_bare_saved_model_needs_its_vocabulary(export_dir, tmp_path):
    saved_model = os.path.join(export_dir, SAVED_MODEL_DIR)
    with pytest.raises(ValueError, match="no keras-hub preset .* `vocabulary`"):
        tokdrop_keras.finetune(finetune_config(saved_model, encoder="saved_model"))
    vocabulary = os.path.join(
        export_dir, PRESET_DIR, "assets", "tokenizer", "vocabulary.txt"
    )
    classifier = tokdrop_keras.training.finetuning.build_classifier(
        finetune_config(saved_model, encoder="saved_model", vocabulary=vocabulary)
    )
    assert classifier.preprocessor.tokenizer.vocabulary_size() == len(
        open(vocabulary).read().splitlines()
    )

    wrong = os.path.join(tmp_path, "vocab.txt")
    with open(wrong, "w") as file:
        file.write("\n".join(list(BERT_RESERVED_TOKENS) + ["a"]))
    with pytest.raises(ValueError, match="vocabulary .* differs"):
        tokdrop_keras.finetune(finetune_config(export_dir, vocabulary=wrong))
    with pytest.raises(ValueError, match="SavedModel has .* token embeddings"):
        tokdrop_keras.finetune(
            finetune_config(saved_model, encoder="saved_model", vocabulary=wrong)
        )
