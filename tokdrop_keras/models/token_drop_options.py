"""The token-dropping options, declared once: name, default, help, and
which of `TokenDropBackbone`, `TokenDropMaskedLM` and `PretrainConfig`
takes each; and the one check of them all.

The models' `get_config` list the options they take (`option_names`), the
constructors' defaults are these (a test reads their signatures),
`PretrainConfig` builds its fields, and so `pretrain.py`'s flags, from them,
and `build_masked_lm` hands every option a config has to the model.
"""

import collections

from tokdrop_keras.layers.importance_tracker import DEFAULT_BETA
from tokdrop_keras.layers.importance_tracker import DEFAULT_INITIAL_IMPORTANCE
from tokdrop_keras.layers.token_drop import DEFAULT_KEEP_FRACTION
from tokdrop_keras.layers.token_drop import DEFAULT_RANDOM_FRACTION
from tokdrop_keras.layers.token_drop import IMPORTANCE
from tokdrop_keras.layers.token_drop import SELECTIONS
from tokdrop_keras.layers.token_drop import check_keep
from tokdrop_keras.layers.token_drop import check_selection
from tokdrop_keras.models.keep_schedule import check_schedule_options
from tokdrop_keras.models.layout import resolve_first_dropped_layer

# Who takes an option.
BACKBONE = "backbone"
MASKED_LM = "masked_lm"
CONFIG = "config"
_ALL = (BACKBONE, MASKED_LM, CONFIG)

class TokenDropOption(collections.namedtuple(
    "TokenDropOption", ("name", "default", "help", "takers", "choices"),
    defaults=(None,),
)):
    """One token-dropping option: its name, default, help text, who takes
    it (`"backbone"`, `"masked_lm"`, `"config"`) and its allowed values.

    Example:
    ```python
    from tokdrop_keras.models.token_drop_options import OPTIONS_BY_NAME
    selection = OPTIONS_BY_NAME["selection"]
    assert selection.default == "importance" and "random" in selection.choices
    assert "config" in selection.takers
    ```
    """

OPTIONS = (
    TokenDropOption("token_drop", True, "token dropping; --notoken_drop trains the full-length baseline", (MASKED_LM, CONFIG)),
    TokenDropOption("keep_fraction", DEFAULT_KEEP_FRACTION, "share of each sequence the middle layers keep", _ALL),
    TokenDropOption("keep_tokens", None, "tokens each sequence keeps, instead of keep_fraction", (BACKBONE, MASKED_LM)),
    TokenDropOption("first_dropped_layer", None, "first layer on kept tokens only (default: num_layers // 2)", _ALL),
    TokenDropOption("selection", IMPORTANCE, "which tokens the middle layers keep: importance (the table's highest) | random | mixed", _ALL, SELECTIONS),
    TokenDropOption("random_fraction", DEFAULT_RANDOM_FRACTION, "share of the kept tokens a mixed selection picks at random", _ALL),
    TokenDropOption("initial_importance", DEFAULT_INITIAL_IMPORTANCE, "initial importance-table value", _ALL),
    TokenDropOption("beta", DEFAULT_BETA, "EMA decay of the importance table", _ALL),
    TokenDropOption("always_keep_ids", (), "ids always kept (a run takes the tokenizer's special tokens)", (BACKBONE, MASKED_LM)),
    TokenDropOption("always_drop_ids", (), "ids always dropped (a run takes the tokenizer's padding)", (BACKBONE, MASKED_LM)),
    TokenDropOption("seed", None, "seed of random selection and tie-breaking (a run takes its seed)", (BACKBONE, MASKED_LM)),
    TokenDropOption("attention_dropout", None, "attention-probability dropout apart from the hidden dropout (default: dropout, BERT's recipe); 0 keeps training on the fused attention kernel", _ALL),
    TokenDropOption("keep_schedule", None, "kept fraction over training instead of keep_fraction: staged:F1,F2,... (equal stages) or linear:START,END[,NUM_VALUES]; one compiled step per fraction", (MASKED_LM, CONFIG)),
    TokenDropOption("consistency_weight", 0.0, "ScTD: weight of the KL from the full model's MLM distribution to the token-drop model's (0 = off)", (MASKED_LM, CONFIG)),
    TokenDropOption("consistency_every", 1, "ScTD: steps between consistency steps (full-length forward on the same batch)", (MASKED_LM, CONFIG)),
)
OPTIONS_BY_NAME = {option.name: option for option in OPTIONS}


def option_names(taker):
    """The names of the options `taker` (`"backbone"`, `"masked_lm"` or
    `"config"`) takes, in declaration order.

    Example:
    ```python
    from tokdrop_keras.models.token_drop_options import option_names
    assert "keep_schedule" in option_names("masked_lm")
    assert "keep_schedule" not in option_names("backbone")
    assert "always_keep_ids" not in option_names("config")  # the tokenizer's
    ```
    """
    return tuple(option.name for option in OPTIONS if taker in option.takers)


def options_of(model, taker):
    """`{name: value}` of the options `taker` takes, read from `model`'s
    attributes (for `get_config`).

    Example:
    ```python
    from tokdrop_keras.models.token_drop_options import options_of
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16
    )
    model = tokdrop_keras.TokenDropBackbone(backbone, keep_tokens=4)
    assert options_of(model, "backbone")["keep_tokens"] == 4
    ```
    """
    return {name: getattr(model, name) for name in option_names(taker)}


def backbone_options(kwargs):
    """Pops the `TokenDropBackbone` options out of `kwargs` (a model's
    keyword arguments): `{name: the value given, or its default}`.

    Example:
    ```python
    from tokdrop_keras.models.token_drop_options import backbone_options
    kwargs = {"keep_fraction": 0.25, "name": "mlm"}
    options = backbone_options(kwargs)
    assert options["keep_fraction"] == 0.25 and options["selection"] == "importance"
    assert kwargs == {"name": "mlm"}
    ```
    """
    return {
        option.name: kwargs.pop(option.name, option.default)
        for option in OPTIONS
        if BACKBONE in option.takers
    }


def check_token_drop_options(num_layers, **options):
    """Checks the token-dropping `options` (any of `OPTIONS`; the others
    at their defaults) of an encoder of `num_layers` layers: the masked LM
    checks them in both arms (a baseline's config is one its token-drop
    twin accepts), and so does `PretrainConfig.validate`.

    Returns:
        `(keep_schedule, keep_fraction)`, as `check_schedule_options`.

    Raises:
        ValueError: naming the first bad option.

    Example:
    ```python
    from tokdrop_keras.models.token_drop_options import check_token_drop_options
    assert check_token_drop_options(12, keep_fraction=0.25) == (None, 0.25)
    try:
        check_token_drop_options(12, first_dropped_layer=12)
        raise AssertionError("accepted a layer past the last")
    except ValueError as error:
        assert "first_dropped_layer" in str(error)
    ```
    """
    unknown = sorted(set(options) - set(OPTIONS_BY_NAME))
    if unknown:
        raise TypeError(f"Unknown token-dropping options {unknown}.")
    values = {option.name: option.default for option in OPTIONS}
    values.update(options)
    keep_schedule, keep_fraction = check_schedule_options(
        values["token_drop"], values["keep_schedule"], values["keep_fraction"],
        values["keep_tokens"], values["consistency_weight"],
        values["consistency_every"],
    )
    check_keep(keep_fraction, values["keep_tokens"])
    check_selection(values["selection"], values["random_fraction"])
    resolve_first_dropped_layer(num_layers, values["first_dropped_layer"])
    return keep_schedule, keep_fraction
