import keras
import keras_hub

# Sizes of the BERT miniatures (Turc et al., 2019) and BERT-base; `tiny` has
# 4 layers so that a token-dropped middle layer exists.
BACKBONE_PRESETS = {
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


def bert_backbone(
    preset, vocabulary_size, max_sequence_length=512, seed=None, **overrides
):
    """A randomly initialised `keras_hub.models.BertBackbone` of a size preset.

    Args:
        preset: one of `BACKBONE_PRESETS` (`tiny`, `mini`, `small`,
            `medium`, `base`).
        vocabulary_size: int.
        max_sequence_length: int. Longest sequence the position embedding
            covers.
        seed: int. Seed of the weight initialisation, if any.
        **overrides: any other `BertBackbone` argument (e.g. `num_layers`,
            `dropout`), overriding the preset.

    Returns:
        A `keras_hub.models.BertBackbone`.

    Example:
    ```python
    backbone = tokdrop_keras.models.presets.bert_backbone(
        "tiny", vocabulary_size=8192, max_sequence_length=128
    )
    backbone.num_layers  # 4
    ```
    """
    if preset not in BACKBONE_PRESETS:
        raise ValueError(
            f"Unknown preset {preset!r}; choose one of "
            f"{sorted(BACKBONE_PRESETS)}."
        )
    config = dict(BACKBONE_PRESETS[preset])
    config.update(overrides)
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return keras_hub.models.BertBackbone(
        vocabulary_size=vocabulary_size,
        max_sequence_length=max_sequence_length,
        **config,
    )
