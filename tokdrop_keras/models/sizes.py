"""The model sizes: one table, used by the library, benchmarks and notebook."""

import inspect

import keras
import keras_hub

from tokdrop_keras.models.architectures import get_architecture

# The BERT miniatures' shapes (Turc et al., 2019) and BERT-base; `tiny` has
# 4 layers so that a token-dropped middle layer exists, `nano` is for smoke
# runs and tests.
SIZES = {
    "nano": dict(num_layers=4, hidden_dim=64, num_heads=2, intermediate_dim=256),
    "tiny": dict(num_layers=4, hidden_dim=128, num_heads=2, intermediate_dim=512),
    "mini": dict(num_layers=4, hidden_dim=256, num_heads=4, intermediate_dim=1024),
    "small": dict(num_layers=4, hidden_dim=512, num_heads=8, intermediate_dim=2048),
    "medium": dict(
        num_layers=8, hidden_dim=512, num_heads=8, intermediate_dim=2048
    ),
    "base": dict(
        num_layers=12, hidden_dim=768, num_heads=12, intermediate_dim=3072
    ),
}


def backbone_arguments(backbone_class=keras_hub.models.BertBackbone):
    """The constructor arguments a keras-hub backbone class takes.

    Example:
    ```python
    arguments = tokdrop_keras.models.backbone_arguments()
    assert "hidden_dim" in arguments and "dropout" in arguments
    ```
    """
    parameters = inspect.signature(backbone_class.__init__).parameters
    return tuple(
        name
        for name, parameter in parameters.items()
        if name != "self" and parameter.kind is parameter.POSITIONAL_OR_KEYWORD
    )


def size_config(size, backbone_class=keras_hub.models.BertBackbone, **overrides):
    """The shape of a size, with `overrides` applied and checked.

    Args:
        size: one of `SIZES` (`nano`, `tiny`, `mini`, `small`, `medium`,
            `base`).
        backbone_class: the keras-hub backbone class the overrides are
            arguments of.
        **overrides: other arguments of `backbone_class` (e.g.
            `num_layers=12`, `dropout=0.0`); `None` values are ignored.

    Returns:
        A dict of backbone arguments.

    Example:
    ```python
    config = tokdrop_keras.models.size_config("mini", num_layers=12)
    assert config == dict(
        num_layers=12, hidden_dim=256, num_heads=4, intermediate_dim=1024
    )
    ```
    """
    if size not in SIZES:
        raise ValueError(f"Unknown size {size!r}; choose one of {list(SIZES)}.")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    known = backbone_arguments(backbone_class)
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise ValueError(
            f"{backbone_class.__name__} has no option {unknown}; it takes "
            f"{list(known)}."
        )
    return {**SIZES[size], **overrides}


def backbone_for_size(
    size,
    vocabulary_size,
    max_sequence_length=512,
    seed=None,
    architecture="bert",
    **overrides,
):
    """A randomly initialised keras-hub backbone of a size.

    Args:
        size: one of `SIZES` (the same shapes for every architecture).
        vocabulary_size: int.
        max_sequence_length: int. Longest sequence the position embedding
            covers.
        seed: int. Seed of the weight initialisation, if any.
        architecture: one of `tokdrop_keras.models.ARCHITECTURE_NAMES`
            (`"bert"`, `"roberta"`, `"xlm_roberta"`, `"distil_bert"`).
        **overrides: any other argument of the backbone class (e.g.
            `num_layers`, `dropout`), overriding the size's.

    Returns:
        A keras-hub backbone (`BertBackbone`, `RobertaBackbone`,
        `XLMRobertaBackbone` or `DistilBertBackbone`).

    Example:
    ```python
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=100, max_sequence_length=32, num_layers=2
    )
    assert backbone.num_layers == 2 and backbone.hidden_dim == 64
    roberta = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=100, max_sequence_length=32,
        architecture="roberta",
    )
    assert isinstance(roberta, keras_hub.models.RobertaBackbone)
    ```
    """
    backbone_class = get_architecture(architecture).backbone_class
    config = size_config(size, backbone_class=backbone_class, **overrides)
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return backbone_class(
        vocabulary_size=vocabulary_size,
        max_sequence_length=max_sequence_length,
        **config,
    )
