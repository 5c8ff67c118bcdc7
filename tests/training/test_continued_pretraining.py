"""`pretrain(init_from=...)`: continued pretraining from a Hugging Face
checkpoint and from our own export."""

import json
import os

import keras_hub
import numpy as np
import pytest

import tokdrop_keras
import transformers_reference as reference
from tokdrop_keras.export import read_importance_table
from tokdrop_keras.special_tokens import tokens_by_id
from tokdrop_keras.training.flags import parse_config
from tokdrop_keras.training.pretraining import continued_masked_lm


def roberta_checkpoint(tmp_path):
    folder = str(tmp_path / "roberta_hf")
    config, tensors = reference.write_checkpoint(
        "roberta", folder, seed=5, scale=0.05, layer_norm_eps=1e-6
    )
    return folder, config, tensors


def continued(init_from, export_dir, **changes):
    settings = dict(
        init_from=init_from, seq_length=16, batch_size=4, steps=2,
        eval_steps=1, log_every=1, export_dir=export_dir, saved_model=False,
    )
    return tokdrop_keras.PretrainConfig(**{**settings, **changes})


def test_continue_a_transformers_checkpoint_then_our_export(tmp_path, capsys):
    folder, hf_config, tensors = roberta_checkpoint(tmp_path)
    first_export = str(tmp_path / "first")
    config = continued(folder, first_export)
    tokenizer = tokdrop_keras.load_tokenizer(folder)

    # The model training starts from: the checkpoint's logits, table at
    # its initial value (and said so).
    start = continued_masked_lm(config.resolved(), tokenizer)
    assert "holds no importance table" in capsys.readouterr().out
    ids = np.array([[0, 300, 8191, 40, 2]], "int32")
    x = {"token_ids": ids, "padding_mask": np.ones_like(ids),
         "mask_positions": np.arange(5, dtype="int32")[None]}
    expected = reference.masked_lm_logits("roberta", tensors, hf_config, ids, x["padding_mask"])
    np.testing.assert_allclose(start(x), expected[0][None], atol=1e-4)
    assert start.encoder_layer_norm_epsilon == 1e-6
    np.testing.assert_array_equal(start.importance_tracker.importance, 10.0)

    result = tokdrop_keras.pretrain(config)
    assert result.summary["steps"] == 2
    assert result.summary["config"]["architecture"] == "roberta"
    assert result.summary["config"]["init_from"] == folder
    # The continued model's export reloads with its logits and numerics ...
    again = tokdrop_keras.TokenDropMaskedLM.from_preset(first_export)
    np.testing.assert_allclose(again(x), result.model(x), atol=1e-5)
    assert again.numerics == result.model.numerics

    # ... continues again, its importance table with it ...
    second = continued(first_export, str(tmp_path / "second"))
    restored = continued_masked_lm(second.resolved(), tokenizer)
    assert "continues from" in capsys.readouterr().out
    table, _ = read_importance_table(
        os.path.join(first_export, "importance.tsv"), tokens_by_id(tokenizer)
    )
    np.testing.assert_allclose(restored.importance_tracker.importance, table, atol=1e-6)
    assert np.ptp(table) > 0  # the first run moved it

    # ... and makes keras-hub's classifier, as every export does (fine-tuning
    # an export: tests/training/test_finetuning.py).
    classifier = keras_hub.models.RobertaTextClassifier.from_preset(
        os.path.join(first_export, "preset"), num_classes=2
    )
    np.testing.assert_allclose(
        classifier.backbone.get_weights()[0], result.model.backbone.get_weights()[0]
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--num_layers", "2"], r"do not also set \['num_layers'\]"),
        (["--size", "mini", "--hidden_dim", "32"], r"\['size', 'hidden_dim'\]"),
        (["--vocabulary", "vocab.txt"], r"\['vocabulary'\]"),
        (["--architecture", "bert"], None),  # the default: not "given"
        (["--architecture", "distil_bert"], "is a roberta"),
    ],
)
def test_settings_the_checkpoint_fixes_are_refused(argv, message, tmp_path):
    folder, _, _ = roberta_checkpoint(tmp_path)
    config = parse_config(tokdrop_keras.PretrainConfig, ["--init_from", folder] + argv)
    if message is None:
        config.validate()
        assert config.resolved().architecture == "roberta"
        return
    with pytest.raises(ValueError, match=message):
        config.validate()


def test_a_sequence_longer_than_the_checkpoint_s_positions_is_refused(tmp_path):
    folder, _, _ = roberta_checkpoint(tmp_path)  # 26 rows, 24 positions
    config = continued(folder, None, seq_length=32)
    with pytest.raises(ValueError, match="longer than the 24 positions"):
        tokdrop_keras.pretrain(config)


def test_init_from_a_folder_that_is_no_checkpoint_is_refused(tmp_path):
    with pytest.raises(ValueError, match="neither a Hugging Face checkpoint"):
        continued(str(tmp_path), None).validate()
