import json

import pytest

import tokdrop_keras
from tokdrop_keras.training.config import CONFIG_VERSION
from tokdrop_keras.training.flags import parse_config
from tokdrop_keras.training.flags import read_config_file


def test_to_dict_round_trips_and_names_its_version():
    config = tokdrop_keras.PretrainConfig(size="mini", steps=400, token_drop=False)
    values = config.to_dict()
    assert values["config_version"] == CONFIG_VERSION
    assert tokdrop_keras.PretrainConfig.from_dict(values) == config


def test_a_config_from_a_newer_version_is_refused():
    values = tokdrop_keras.PretrainConfig().to_dict()
    values["config_version"] = CONFIG_VERSION + 1
    with pytest.raises(ValueError, match="newer tokdrop_keras"):
        tokdrop_keras.PretrainConfig.from_dict(values)
    values = tokdrop_keras.PretrainConfig().to_dict()
    values["keep_curriculum"] = "linear"
    with pytest.raises(ValueError, match=r"Unknown PretrainConfig settings \['keep_curriculum'\]"):
        tokdrop_keras.PretrainConfig.from_dict(values)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"size": "huge"}, r"Unknown size 'huge'; choose one of \['nano', 'tiny'"),
        ({"warmup_fraction": 1.0}, "warmup_fraction=1.0"),
        ({"dropout": -0.1}, "dropout=-0.1"),
        ({"batch_size": 0}, "`batch_size` must be positive"),
        ({"jit_compile": "yes"}, "Unknown jit_compile 'yes'"),
        ({"selection": "topk"}, "Unknown `selection` 'topk'"),
        ({"selection": "mixed", "random_fraction": 2.0}, r"`random_fraction` must be in \[0, 1\]"),
        ({"keep_schedule": "cosine:0.5,0.25"}, "Unknown keep schedule 'cosine:0.5,0.25'"),
        ({"keep_schedule": "staged:0.75,0"}, r"fractions must be in \(0, 1\]"),
        ({"keep_schedule": "linear:1.2,0.5"}, r"fractions must be in \(0, 1\]"),
        ({"keep_schedule": "staged:0.5,0.003"}, "keeps no token of a 128-token sequence"),
        ({"keep_schedule": "staged:0.5,0.25", "keep_fraction": 0.3}, "`keep_schedule` or a fixed `keep_fraction`"),
        ({"keep_schedule": "staged:0.5", "token_drop": False}, "the baseline"),
        ({"consistency_weight": -0.5}, "`consistency_weight` must be a number >= 0"),
        ({"consistency_weight": 1.0, "consistency_every": 0}, "`consistency_every` must be an int >= 1"),
        ({"attention_dropout": 1.0}, r"`attention_dropout` must be in \[0, 1\)"),
        ({"attention_dropout": 0.1, "dropout": 0.0}, "and 0 when `dropout` is 0"),
    ],
)
def test_bad_pretrain_settings_are_named(changes, message):
    with pytest.raises(ValueError, match=message):
        tokdrop_keras.PretrainConfig(**changes).validate()


def test_an_option_the_architecture_does_not_have_is_named():
    with pytest.raises(ValueError, match=r"BertBackbone has no option \['num_experts'\]"):
        tokdrop_keras.models.size_config("tiny", num_experts=8)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"export_dir": None}, "`export_dir` is required"),
        ({"task": "glue/stsb"}, "Unknown task 'glue/stsb'"),
        ({"encoder": "onnx"}, "Unknown encoder 'onnx'"),
        ({"epochs": 0}, "`epochs` must be positive"),
    ],
)
def test_bad_finetune_settings_are_named(changes, message):
    config = tokdrop_keras.FinetuneConfig(export_dir="exports/x").replace(**changes)
    with pytest.raises(ValueError, match=message):
        config.validate()


def test_flags_are_the_config_fields_and_a_config_file_is_a_starting_point(tmp_path):
    assert parse_config(tokdrop_keras.PretrainConfig, []) == (
        tokdrop_keras.PretrainConfig()
    )
    config = parse_config(
        tokdrop_keras.PretrainConfig,
        ["--size", "mini", "--notoken_drop", "--first_dropped_layer", "3"],
    )
    assert config == tokdrop_keras.PretrainConfig(
        size="mini", token_drop=False, first_dropped_layer=3
    )
    # A summary.json repeats its run; flags given with it override it.
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"steps": 40, "config": config.to_dict()}))
    assert read_config_file(tokdrop_keras.PretrainConfig, str(path)) == config
    again = parse_config(
        tokdrop_keras.PretrainConfig, ["--config", str(path), "--steps", "80"]
    )
    assert again == config.replace(steps=80)


def test_the_architecture_is_a_setting_with_its_flag():
    import dataclasses

    from tokdrop_keras.models import ARCHITECTURE_NAMES

    (field,) = [f for f in dataclasses.fields(tokdrop_keras.PretrainConfig)
                if f.name == "architecture"]
    assert field.metadata["choices"] == ARCHITECTURE_NAMES
    config = parse_config(
        tokdrop_keras.PretrainConfig, ["--architecture", "xlm_roberta"]
    )
    assert config.architecture == "xlm_roberta"
    config.validate()
    with pytest.raises(ValueError, match=r"Unknown architecture 'albert'; choose one of \['bert', 'roberta', 'xlm_roberta', 'distil_bert'\]"):
        tokdrop_keras.PretrainConfig(architecture="albert").validate()


def test_the_variants_reach_the_model():
    from tokdrop_keras.training.pretraining import build_masked_lm

    tokenizer = tokdrop_keras.load_tokenizer("bert")
    config = tokdrop_keras.PretrainConfig(
        size="nano", num_layers=2, seq_length=16, steps=90,
        selection="mixed", random_fraction=0.25,
        keep_schedule="staged:0.75,0.5,0.25", consistency_weight=0.5,
        consistency_every=3, attention_dropout=0.0,
    )
    config.validate()
    model = build_masked_lm(config, tokenizer)
    token_drop = model.token_drop_backbone.token_drop
    assert (token_drop.selection, token_drop.random_fraction) == ("mixed", 0.25)
    assert model.keep_schedule.boundaries == (30, 60)
    assert token_drop.keep_fraction == 0.75  # the schedule's first stage
    assert (model.consistency_weight, model.consistency_every) == (0.5, 3)
    assert model.token_drop_backbone.encoder_stack.attention_dropout == 0.0


def test_the_token_drop_settings_are_the_declared_options():
    import dataclasses

    from tokdrop_keras.models.token_drop_options import OPTIONS
    from tokdrop_keras.training.flags import build_parser

    fields = {field.name: field for field in dataclasses.fields(tokdrop_keras.PretrainConfig)}
    config_options = [option for option in OPTIONS if "config" in option.takers]
    for option in config_options:
        assert fields[option.name].default == option.default
        assert fields[option.name].metadata["help"] == option.help
        assert fields[option.name].metadata["group"] == "model"
    config = tokdrop_keras.PretrainConfig(keep_schedule="staged:0.75,0.5", seed=3)
    options = config.token_drop_options()
    assert set(options) == {option.name for option in config_options} | {"seed"}
    assert tuple(options["keep_schedule"].fractions) == (0.75, 0.5) and options["seed"] == 3
    help_text = build_parser(tokdrop_keras.PretrainConfig).format_help()
    assert "--consistency_every" in help_text and "--keep_schedule" in help_text
