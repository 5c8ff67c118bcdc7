"""The token-dropping options are declared once: the models' signatures
and configs follow the declaration, and one check serves every taker."""

import inspect

import pytest

from tokdrop_keras.models import TokenDropBackbone
from tokdrop_keras.models import TokenDropMaskedLM
from tokdrop_keras.models import backbone_for_size
from tokdrop_keras.models import token_drop_options
from tokdrop_keras.models.token_drop_options import OPTIONS
from tokdrop_keras.models.token_drop_options import check_token_drop_options
from tokdrop_keras.models.token_drop_options import option_names

# What each model's constructor takes besides the token-dropping options.
OTHER_ARGUMENTS = {
    TokenDropBackbone: {"self", "backbone", "kwargs"},
    TokenDropMaskedLM: {
        "self", "backbone", "kwargs", "encoder_activation",
        "encoder_layer_norm_epsilon", "mlm_head_activation",
        "mlm_head_layer_norm_epsilon",
    },
}


def test_the_backbone_takes_the_declared_options_with_their_defaults():
    parameters = inspect.signature(TokenDropBackbone.__init__).parameters
    assert set(parameters) - OTHER_ARGUMENTS[TokenDropBackbone] == set(
        option_names(token_drop_options.BACKBONE))
    for option in OPTIONS:
        if token_drop_options.BACKBONE in option.takers:
            assert parameters[option.name].default == option.default, option.name


def test_the_masked_lm_names_its_own_options_and_passes_the_backbones_on():
    parameters = inspect.signature(TokenDropMaskedLM.__init__).parameters
    own = set(option_names(token_drop_options.MASKED_LM)) - set(
        option_names(token_drop_options.BACKBONE))
    assert set(parameters) - OTHER_ARGUMENTS[TokenDropMaskedLM] == own
    for name in own:
        assert parameters[name].default == token_drop_options.OPTIONS_BY_NAME[name].default
    backbone = backbone_for_size("nano", vocabulary_size=30, max_sequence_length=8, num_layers=4)
    model = TokenDropMaskedLM(backbone, keep_fraction=0.25, first_dropped_layer=1, name="mlm")
    assert model.name == "mlm"
    assert model.token_drop_backbone.keep_fraction == model.keep_fraction == 0.25
    assert model.token_drop_backbone.first_dropped_layer == 1
    with pytest.raises(ValueError, match="keep_fractions"):
        TokenDropMaskedLM(backbone, keep_fractions=0.25)  # a typo is no option


def test_every_option_a_model_takes_is_in_its_config():
    backbone = backbone_for_size("nano", vocabulary_size=30, max_sequence_length=8, num_layers=4)
    model = TokenDropMaskedLM(backbone, keep_tokens=3, selection="mixed", seed=7)
    config = model.get_config()
    assert set(option_names(token_drop_options.MASKED_LM)) <= set(config)
    assert (config["keep_tokens"], config["selection"], config["seed"]) == (3, "mixed", 7)
    backbone_config = model.token_drop_backbone.get_config()
    assert set(option_names(token_drop_options.BACKBONE)) <= set(backbone_config)
    assert TokenDropMaskedLM.from_config(config).get_config() == config


@pytest.mark.parametrize("options, message", [
    (dict(keep_fraction=1.5), "keep_fraction"),
    (dict(keep_tokens=0), "keep_tokens"),
    (dict(selection="lowest"), "selection"),
    (dict(first_dropped_layer=0), "first_dropped_layer"),
    (dict(token_drop=False, consistency_weight=1.0), "the baseline"),
    (dict(keep_schedule={"fractions": [0.75, 0.5], "boundaries": [10]},
          keep_fraction=0.25), "`keep_schedule` or a fixed `keep_fraction`"),
])
def test_one_check_for_every_taker(options, message):
    with pytest.raises(ValueError, match=message):
        check_token_drop_options(4, **options)
    # The baseline checks the same options (its config is one its
    # token-drop twin accepts).
    backbone = backbone_for_size("nano", vocabulary_size=30, max_sequence_length=8, num_layers=4)
    with pytest.raises(ValueError, match=message):
        TokenDropMaskedLM(backbone, **{"token_drop": False, **options})


def test_a_schedule_saved_mid_run_loads():
    schedule = {"fractions": [0.75, 0.25], "boundaries": [10]}
    assert check_token_drop_options(4, keep_schedule=schedule, keep_fraction=0.25)[1] == 0.75
