"""Every architecture's full-length forward pass on our attention path equals
its keras-hub backbone, padded rows, training and dropout draws included."""

import numpy as np
import pytest
from keras_test_case import restore_seeds
from keras_test_case import seed_snapshot
from tiny_encoders import ARCHITECTURES
from tiny_encoders import backbone_inputs
from tiny_encoders import special_ids
from tiny_encoders import tiny_backbone
from tiny_encoders import tiny_inputs

import tokdrop_keras
from tokdrop_keras.models.encoder_stack import EncoderStack


def sequence_output(outputs):
    return np.asarray(outputs["sequence_output"] if isinstance(outputs, dict) else outputs)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("training", [False, True])
def test_equals_the_keras_hub_backbone(architecture, training):
    backbone = tiny_backbone(architecture, dropout=0.1)
    inputs = backbone_inputs(architecture)
    assert inputs["padding_mask"].min() == 0  # padded rows are compared too
    before = seed_snapshot(backbone)
    expected = backbone(inputs, training=training)
    restore_seeds(backbone, before)
    outputs = EncoderStack(backbone)(inputs, training=training)
    np.testing.assert_allclose(
        sequence_output(outputs), sequence_output(expected), rtol=0, atol=1e-5
    )
    if isinstance(expected, dict):
        np.testing.assert_allclose(
            outputs["pooled_output"], expected["pooled_output"], rtol=0, atol=1e-5
        )
    if training:  # the dropout draws matter: another draw differs
        again = EncoderStack(backbone)(inputs, training=True)
        assert np.abs(sequence_output(again) - sequence_output(expected)).max() > 1e-3


@pytest.mark.parametrize("architecture", ["bert", "roberta"])
def test_the_baseline_and_evaluation_logits_are_the_keras_hub_masked_lms(architecture):
    backbone = tiny_backbone(architecture)
    x, _, _ = tiny_inputs(architecture)
    for token_drop in (False, True):
        model = tokdrop_keras.TokenDropMaskedLM(
            backbone, token_drop=token_drop, **special_ids(architecture)
        )
        features = {k: v for k, v in x.items() if k != "mask_positions"}
        expected = model.masked_lm_head(
            sequence_output(backbone(features)), x["mask_positions"]
        )
        np.testing.assert_allclose(model(x), expected, rtol=0, atol=1e-5)


def test_attention_dropout_is_a_setting_of_its_own():
    backbone = tiny_backbone("bert", dropout=0.1)
    model = tokdrop_keras.TokenDropMaskedLM(
        backbone, attention_dropout=0.0, **special_ids("bert")
    )
    assert model.get_config()["attention_dropout"] == 0.0
    restored = tokdrop_keras.TokenDropMaskedLM.from_config(model.get_config())
    assert restored.token_drop_backbone.encoder_stack.attention_dropout == 0.0
    with pytest.raises(ValueError, match="attention_dropout"):
        tokdrop_keras.TokenDropMaskedLM(
            backbone, attention_dropout=1.5, **special_ids("bert")
        )
    with pytest.raises(ValueError, match="dropout 0"):
        tokdrop_keras.TokenDropMaskedLM(
            tiny_backbone("bert"), attention_dropout=0.1, **special_ids("bert")
        )
