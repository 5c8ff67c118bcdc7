import keras
import keras_hub
import numpy as np
import pytest
from tiny_bert import SPECIAL_IDS
from tiny_bert import tiny_backbone
from keras_test_case import KerasTestCase
from tiny_bert import backbone_inputs

import tokdrop_keras
from tokdrop_keras import TokenDropBackbone
from tokdrop_keras import TokenDropBertBackbone
from tiny_encoders import ARCHITECTURES
from tiny_encoders import embeddings
from tiny_encoders import special_ids
from tiny_encoders import backbone_inputs as encoder_inputs
from tiny_encoders import tiny_backbone as tiny_encoder


def reference_token_drop(
    architecture, backbone, inputs, table, keep_tokens, first_dropped
):
    """Token dropping written out with the backbone's own layers and numpy.

    The boundary layer is checked through an identity: a kept token's output
    of the layer run on all tokens equals its output with kept queries only.
    Returns the sequence output, the pooled output (BERT) or `None`, and
    the kept positions.
    """
    ids = special_ids(architecture)
    token_ids = inputs["token_ids"]
    padding_mask = inputs["padding_mask"]
    x = embeddings(backbone, inputs)
    layers = backbone.transformer_layers
    for layer in layers[: first_dropped - 1]:
        x = layer(x, padding_mask=padding_mask)
    x = np.array(x)

    scores = table[token_ids]
    scores[np.isin(token_ids, ids["always_keep_ids"])] = np.inf
    scores[np.isin(token_ids, ids["always_drop_ids"])] = -np.inf
    scores[padding_mask == 0] = -np.inf
    # Highest score first, ties to the earlier position; then sequence order.
    positions = np.sort(
        np.argsort(-scores, axis=1, kind="stable")[:, :keep_tokens], axis=1
    )
    rows = np.arange(len(token_ids))[:, None]

    boundary = np.asarray(layers[first_dropped - 1](x, padding_mask=padding_mask))
    kept = boundary[rows, positions]
    kept_padding_mask = padding_mask[rows, positions]
    for layer in layers[first_dropped:-1]:
        kept = np.asarray(layer(kept, padding_mask=kept_padding_mask))
    x[rows, positions] = kept
    sequence_output = np.asarray(layers[-1](x, padding_mask=padding_mask))
    pooled_output = None
    if architecture == "bert":
        pooled_output = np.asarray(backbone.pooled_dense(sequence_output[:, 0]))
    return sequence_output, pooled_output, positions


def output_dict(outputs):
    """A backbone's outputs as a dict (BERT's already is one)."""
    if isinstance(outputs, dict):
        return outputs
    return {"sequence_output": outputs}


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("training", [False, True])
def test_keeping_every_token_equals_the_plain_backbone(architecture, training):
    backbone = tiny_encoder(architecture)
    inputs = encoder_inputs(architecture)
    model = TokenDropBackbone(
        backbone, keep_tokens=16, **special_ids(architecture)
    )
    expected = output_dict(backbone(inputs))
    outputs = output_dict(model(inputs, training=training))
    assert sorted(outputs) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(outputs[key], expected[key], rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "architecture, num_layers, first_dropped_layer, keep_tokens",
    [
        ("bert", 4, None, 8),
        ("bert", 4, 1, 5),
        ("bert", 6, 4, 8),
        ("bert", 2, 1, 11),
        ("roberta", 4, None, 8),
        ("xlm_roberta", 6, 4, 7),
        ("distil_bert", 4, 1, 9),
    ],
)
def test_dropping_matches_a_reference_computation(
    architecture, num_layers, first_dropped_layer, keep_tokens
):
    backbone = tiny_encoder(architecture, num_layers=num_layers)
    inputs = encoder_inputs(architecture, batch_size=5)
    model = TokenDropBackbone(
        backbone,
        keep_tokens=keep_tokens,
        first_dropped_layer=first_dropped_layer,
        **special_ids(architecture),
    )
    table = np.random.default_rng(3).uniform(0, 5, backbone.vocabulary_size)
    table = table.astype("float32")
    model.importance_tracker.importance.assign(table)

    outputs, positions = model(inputs, return_kept_positions=True)
    outputs = output_dict(outputs)
    expected_sequence, expected_pooled, expected_positions = (
        reference_token_drop(
            architecture,
            backbone,
            inputs,
            table,
            keep_tokens,
            first_dropped_layer or num_layers // 2,
        )
    )
    np.testing.assert_array_equal(positions, expected_positions)
    np.testing.assert_allclose(
        outputs["sequence_output"], expected_sequence, rtol=0, atol=1e-5
    )
    if expected_pooled is not None:
        np.testing.assert_allclose(
            outputs["pooled_output"], expected_pooled, rtol=0, atol=1e-5
        )
    else:
        assert sorted(outputs) == ["sequence_output"]
    # Dropping changes the output: the comparison above is not vacuous.
    plain = np.asarray(output_dict(backbone(inputs))["sequence_output"])
    assert np.abs(plain - expected_sequence).max() > 1e-3


def test_keep_fraction_defaults_to_half_of_each_sequence():
    model = TokenDropBertBackbone(tiny_backbone(), **SPECIAL_IDS)
    _, positions = model(backbone_inputs(), return_kept_positions=True)
    assert positions.shape == (4, 8)


def test_shares_the_backbone_weights():
    backbone = tiny_backbone()
    model = TokenDropBertBackbone(backbone, **SPECIAL_IDS)
    backbone_ids = {id(w) for w in backbone.weights}
    own = [w for w in model.weights if id(w) not in backbone_ids]
    assert [w.path for w in own] == [
        "importance_tracker/importance",
        "importance_tracker/prediction_counts",
    ]
    assert len(model.trainable_weights) == len(backbone.trainable_weights)


def test_get_config_round_trips():
    model = TokenDropBertBackbone(
        tiny_backbone(),
        keep_fraction=0.25,
        first_dropped_layer=3,
        beta=0.9,
        seed=4,
        **SPECIAL_IDS,
    )
    config = model.get_config()
    restored = TokenDropBertBackbone.from_config(config)
    assert restored.get_config() == config
    assert restored.first_dropped_layer == 3
    assert isinstance(restored, TokenDropBackbone)


@pytest.mark.parametrize(
    "backbone_kwargs, kwargs, message",
    [
        ({"num_layers": 1}, {}, "at least 2 layers.*num_layers=1"),
        ({}, {"first_dropped_layer": 4}, "first_dropped_layer=4"),
        ({}, {"first_dropped_layer": 0}, "first_dropped_layer=0"),
        ({}, {"keep_tokens": 0}, "keep_tokens=0"),
        ({}, {"keep_tokens": 17}, "max_sequence_length=16.*keep_tokens=17"),
        ({}, {"keep_fraction": 0.0}, "keep_fraction=0.0"),
        ({}, {"always_keep_ids": [50]}, r"outside the vocabulary.*\[50\]"),
    ],
)
def test_bad_configuration_is_named(backbone_kwargs, kwargs, message):
    with pytest.raises(ValueError, match=message):
        TokenDropBertBackbone(tiny_backbone(**backbone_kwargs), **kwargs)


def test_bad_inputs_are_named():
    model = TokenDropBertBackbone(tiny_backbone(), keep_tokens=12)
    inputs = backbone_inputs(sequence_length=10)
    with pytest.raises(ValueError, match="keep_tokens=12.*sequence length 10"):
        model(inputs)
    inputs = backbone_inputs()
    inputs["segment_ids"] = inputs["segment_ids"][:, :8]
    with pytest.raises(ValueError, match=r"segment_ids': \(4, 8\)"):
        model(inputs)
    with pytest.raises(ValueError, match="Missing backbone inputs"):
        model({"token_ids": inputs["token_ids"]})
    with pytest.raises(ValueError, match="BertBackbone"):
        TokenDropBertBackbone(keras.Sequential())
    with pytest.raises(ValueError, match="Received: Sequential"):
        TokenDropBackbone(keras.Sequential())


SUPPORTED = (
    r"supports the keras-hub backbones \['BertBackbone', "
    r"'XLMRobertaBackbone', 'RobertaBackbone', 'DistilBertBackbone'\]"
)


@pytest.mark.parametrize(
    "backbone_class, kwargs",
    [
        # Its own disentangled attention layer, not TransformerEncoder.
        (
            keras_hub.models.DebertaV3Backbone,
            dict(
                vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=16,
                intermediate_dim=32, max_sequence_length=16,
            ),
        ),
        # A decoder.
        (
            keras_hub.models.GPT2Backbone,
            dict(
                vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=16,
                intermediate_dim=32, max_sequence_length=16,
            ),
        ),
    ],
)
def test_unsupported_backbones_are_refused_naming_the_supported(
    backbone_class, kwargs
):
    backbone = backbone_class(**kwargs)
    with pytest.raises(ValueError, match=SUPPORTED) as error:
        TokenDropBackbone(backbone)
    assert backbone_class.__name__ in str(error.value)
    with pytest.raises(ValueError, match=SUPPORTED):
        tokdrop_keras.TokenDropMaskedLM(backbone)


class TestTokenDropBackboneModel(KerasTestCase):
    def test_serialization_and_symbolic_call(self):
        model = TokenDropBackbone(tiny_backbone(), keep_tokens=5, **SPECIAL_IDS)
        self.run_serialization_test(model)
        inputs = backbone_inputs()
        symbolic = model(
            {k: keras.KerasTensor(v.shape, dtype="int32") for k, v in inputs.items()}
        )
        eager = model(inputs)
        for key in ("sequence_output", "pooled_output"):
            assert tuple(symbolic[key].shape) == tuple(eager[key].shape)

    def test_mixed_bfloat16(self):
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            model = TokenDropBackbone(tiny_backbone(), **SPECIAL_IDS)
            outputs = model(backbone_inputs(), training=True)
        finally:
            keras.mixed_precision.set_global_policy("float32")
        assert keras.backend.standardize_dtype(
            outputs["sequence_output"].dtype
        ) == "bfloat16"
