"""Activations and LayerNorm epsilons: the numbers a checkpoint fixes.

keras-hub's encoders hard-code them (`BertBackbone`: tanh-approximated gelu,
epsilon 1e-12; its masked LMs' `MaskedLMHead`: exact gelu, epsilon 1e-5),
while a Hugging Face checkpoint says them in its `config.json` (BERT's
`hidden_act` and `layer_norm_eps` hold for the encoder and the MLM head
alike). To reproduce a checkpoint's logits, `TokenDropMaskedLM` takes them
as arguments (`encoder_activation`, `encoder_layer_norm_epsilon`,
`mlm_head_activation`, `mlm_head_layer_norm_epsilon`) and sets them on the
keras-hub layers. Names are transformers' (`ACTIVATIONS`).
"""

import keras

# transformers' activation names -> the Keras function. "gelu" is the exact
# (erf) form; "gelu_new", "gelu_pytorch_tanh" and "gelu_fast" are the tanh
# approximation keras-hub's BERT uses.
def gelu_exact(x):
    """gelu with erf (transformers' `"gelu"`).

    Example:
    ```python
    from tokdrop_keras.models.numerics import gelu_exact, gelu_tanh
    x = np.array([-2.0, 0.5, 3.0], "float32")
    np.testing.assert_allclose(gelu_exact(x), gelu_tanh(x), atol=1e-3)
    assert np.abs(np.asarray(gelu_exact(x)) - np.asarray(gelu_tanh(x))).max() > 1e-5
    ```
    """
    return keras.activations.gelu(x, approximate=False)


def gelu_tanh(x):
    """gelu's tanh approximation (transformers' `"gelu_new"`, keras-hub's
    BERT's).

    Example:
    ```python
    from tokdrop_keras.models.numerics import gelu_tanh
    np.testing.assert_allclose(gelu_tanh(np.array([1.0])), [0.841192], atol=1e-6)
    ```
    """
    return keras.activations.gelu(x, approximate=True)


ACTIVATIONS = {
    "gelu": gelu_exact,
    "gelu_new": gelu_tanh,
    "gelu_pytorch_tanh": gelu_tanh,
    "gelu_fast": gelu_tanh,
    "relu": keras.activations.relu,
    "silu": keras.activations.silu,
    "swish": keras.activations.silu,
    "tanh": keras.activations.tanh,
}
# The name the export writes for each Keras form.
CANONICAL_ACTIVATION = {
    "gelu": "gelu",
    "gelu_new": "gelu_new",
    "gelu_pytorch_tanh": "gelu_new",
    "gelu_fast": "gelu_new",
    "relu": "relu",
    "silu": "silu",
    "swish": "silu",
    "tanh": "tanh",
}

# Written beside a keras-hub preset by our export: the four numbers, which
# keras-hub's config.json does not hold.
NUMERICS_FILE = "tokdrop_keras_numerics.json"

# What keras-hub's own masked LMs build their `MaskedLMHead` with: the head
# of a keras-hub preset without our numbers, and of `.keras` files saved
# before these arguments existed.
KERAS_HUB_MLM_HEAD = {
    "mlm_head_activation": "gelu",
    "mlm_head_layer_norm_epsilon": 1e-5,
}


def check_activation(name, argument="activation"):
    """Raises unless `name` is one of `ACTIVATIONS`; returns its canonical
    name.

    Example:
    ```python
    from tokdrop_keras.models.numerics import check_activation
    assert check_activation("gelu_pytorch_tanh") == "gelu_new"
    ```
    """
    if name not in ACTIVATIONS:
        raise ValueError(
            f"Unsupported {argument} {name!r}; supported (transformers' "
            f"names): {sorted(ACTIVATIONS)}."
        )
    return CANONICAL_ACTIVATION[name]


def check_epsilon(value, argument="layer_norm_epsilon"):
    """Raises unless `value` is a positive number; returns it as a float.

    Example:
    ```python
    from tokdrop_keras.models.numerics import check_epsilon
    assert check_epsilon(1e-12) == 1e-12
    ```
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"`{argument}` must be a positive number. Received: {value!r}")
    return float(value)


def encoder_layer_norms(backbone):
    """Every `LayerNormalization` of a keras-hub encoder backbone: the
    embeddings' and two per transformer layer.

    Example:
    ```python
    from tokdrop_keras.models.numerics import encoder_layer_norms
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16, num_layers=2
    )
    assert len(encoder_layer_norms(backbone)) == 1 + 2 * 2
    ```
    """
    norms = [backbone.embeddings_layer_norm]
    for layer in backbone.transformer_layers:
        norms += [layer._self_attention_layer_norm, layer._feedforward_layer_norm]
    return norms


def set_encoder_numerics(backbone, activation=None, layer_norm_epsilon=None):
    """Sets a keras-hub encoder's feedforward activation and LayerNorm
    epsilons in place (`None` leaves them as they are).

    keras-hub's backbones take neither as an argument; the layers read
    them when called, so the backbone computes with the new values from
    then on. The backbone's own `get_config` does not hold them: a
    `TokenDropMaskedLM` does, and sets them again when it is loaded.

    Example:
    ```python
    from tokdrop_keras.models.numerics import encoder_activation_name
    from tokdrop_keras.models.numerics import set_encoder_numerics
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16
    )
    set_encoder_numerics(backbone, "gelu", 1e-7)
    assert backbone.embeddings_layer_norm.epsilon == 1e-7
    assert encoder_activation_name(backbone) == "gelu"
    ```
    """
    if activation is not None:
        function = ACTIVATIONS[check_activation(activation, "encoder_activation")]
        for layer in backbone.transformer_layers:
            layer.activation = function
            layer._feedforward_intermediate_dense.activation = function
            layer._tokdrop_activation = CANONICAL_ACTIVATION[activation]
    if layer_norm_epsilon is not None:
        epsilon = check_epsilon(layer_norm_epsilon, "encoder_layer_norm_epsilon")
        for norm in encoder_layer_norms(backbone):
            norm.epsilon = epsilon


def encoder_activation_name(backbone):
    """The transformers name of a keras-hub encoder's feedforward
    activation: as `set_encoder_numerics` set it, else keras-hub's own
    (`"gelu_new"` for BERT's tanh form, `"gelu"` for the exact one).

    Example:
    ```python
    from tokdrop_keras.models.numerics import encoder_activation_name
    bert = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16
    )
    assert encoder_activation_name(bert) == "gelu_new"
    roberta = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16,
        architecture="roberta",
    )
    assert encoder_activation_name(roberta) == "gelu"
    ```
    """
    names = set()
    for layer in backbone.transformer_layers:
        name = getattr(layer, "_tokdrop_activation", None)
        if name is None:
            name = _keras_activation_name(layer.get_config()["activation"])
        names.add(name)
    if len(names) != 1:
        raise ValueError(f"The encoder's layers use different activations: {names}")
    return names.pop()


def _keras_activation_name(serialized):
    """transformers' name of a keras-hub layer's serialized activation."""
    if isinstance(serialized, dict):  # a registered function
        serialized = serialized.get("config", serialized.get("class_name"))
    name = str(serialized)
    if name.endswith("gelu_approximate"):
        return "gelu_new"
    if name in CANONICAL_ACTIVATION:
        return CANONICAL_ACTIVATION[name]
    raise ValueError(
        f"The encoder's activation {name!r} has no transformers name; "
        f"supported: {sorted(ACTIVATIONS)}."
    )


def encoder_epsilon(backbone):
    """The LayerNorm epsilon of a keras-hub encoder (the same in all its
    LayerNorms, else an error).

    Example:
    ```python
    from tokdrop_keras.models.numerics import encoder_epsilon
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16
    )
    assert encoder_epsilon(backbone) == 1e-12
    ```
    """
    values = {float(norm.epsilon) for norm in encoder_layer_norms(backbone)}
    if len(values) != 1:
        raise ValueError(f"The encoder's LayerNorms use different epsilons: {values}")
    return values.pop()
