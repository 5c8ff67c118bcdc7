import keras_hub
import pytest

import tokdrop_keras
from tokdrop_keras.layers import kept_token_count
from tokdrop_keras.models import SIZES
from tokdrop_keras.models import masked_lm_flop_ratio
from tokdrop_keras.models import token_drop_layout
from tokdrop_keras.models.flops import layer_flops


@pytest.mark.parametrize(
    "sequence_length, keep_fraction, expected",
    # One rule for everyone: round, not floor (7 * 0.5 = 3.5 -> 4; 0.3 * 7
    # = 2.1 -> 2), at least 1.
    [(128, 0.5, 64), (7, 0.5, 4), (7, 0.3, 2), (3, 0.1, 1), (512, 0.25, 128)],
)
def test_kept_token_count_rounds(sequence_length, keep_fraction, expected):
    assert kept_token_count(sequence_length, keep_fraction) == expected
    assert (
        tokdrop_keras.TokenDrop(keep_fraction=keep_fraction).kept_length(
            sequence_length
        )
        == expected
    )


def test_layout_of_twelve_layers():
    layout = token_drop_layout(12, 128)
    assert layout.full_layers == (0, 1, 2, 3, 4)
    assert layout.boundary_layer == 5
    assert layout.kept_layers == (6, 7, 8, 9, 10)
    assert layout.last_layer == 11
    seen = [layout.tokens_seen(layer) for layer in range(12)]
    assert seen == [(128, 128)] * 5 + [(64, 128)] + [(64, 64)] * 5 + [(128, 128)]


def test_the_backbone_uses_the_layout():
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=30, max_sequence_length=16, num_layers=6
    )
    model = tokdrop_keras.TokenDropBackbone(backbone, first_dropped_layer=2)
    layout = token_drop_layout(6, 16, first_dropped_layer=2)
    layers = list(backbone.transformer_layers)
    assert model.boundary_layer is layers[layout.boundary_layer]
    assert [layers.index(l) for l in model.kept_token_layers] == list(
        layout.kept_layers
    )
    assert model.last_layer is layers[layout.last_layer]


def test_flop_ratio_of_the_benchmark_configurations():
    # The README's benchmark: BERT's vocabulary, L12 at mini's and tiny's width.
    mini, tiny = SIZES["mini"], SIZES["tiny"]
    s512 = masked_lm_flop_ratio(
        12, mini["hidden_dim"], mini["intermediate_dim"], 30522, 512
    )
    s128 = masked_lm_flop_ratio(
        12, tiny["hidden_dim"], tiny["intermediate_dim"], 30522, 128
    )
    assert (round(s512, 3), round(s128, 3)) == (0.752, 0.786)
    # Keeping everything saves nothing.
    assert masked_lm_flop_ratio(12, 64, 256, 100, 64, keep_tokens=64) == 1.0


def test_layer_flops_counts_attention_quadratically():
    linear = layer_flops(64, 64, 64, 256) * 2
    assert layer_flops(128, 128, 64, 256) > linear


def test_sizes_build_their_shapes():
    for name, shape in SIZES.items():
        config = tokdrop_keras.models.size_config(name)
        assert config == shape
        assert shape["hidden_dim"] % shape["num_heads"] == 0
    backbone = tokdrop_keras.models.backbone_for_size(
        "tiny", vocabulary_size=30, max_sequence_length=8
    )
    assert isinstance(backbone, keras_hub.models.BertBackbone)
    assert (backbone.num_layers, backbone.hidden_dim) == (4, 128)
