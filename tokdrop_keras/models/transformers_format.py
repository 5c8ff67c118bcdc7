"""Hugging Face transformers' checkpoint format for the four encoders.

One table per architecture says where each keras-hub variable lives in a
transformers `*ForMaskedLM` state dict, and how its layout differs: the
checkpoint reader (`transformers_checkpoint`) and the exporter
(`tokdrop_keras.export.transformers_export`) both use it, so the two cannot
disagree on a name. The config.json fields each architecture reads are
here too.

Layouts (transformers, from its modeling files): `nn.Linear` weights are
`[out, in]` (keras-hub's Dense kernels `[in, out]`); the attention's query,
key and value are `[hidden, hidden]` (keras-hub `[hidden, heads, head_dim]`);
RoBERTa and XLM-R number positions from `pad_token_id + 1` and add a
one-row token-type embedding; the MLM decoder is tied to the word
embeddings and its bias is the head's `bias`.
"""

import numpy as np

# Buffers some checkpoints hold that are no weights.
IGNORED_SUFFIXES = ("position_ids", "token_type_ids")

# transformers' config defaults, where a config.json may leave them out.
_BERT_DEFAULTS = dict(
    hidden_act="gelu",
    layer_norm_eps=1e-12,
    hidden_dropout_prob=0.1,
    type_vocab_size=2,
    max_position_embeddings=512,
    pad_token_id=0,
)
_ROBERTA_DEFAULTS = dict(_BERT_DEFAULTS, pad_token_id=1)
_DISTIL_BERT_DEFAULTS = dict(
    activation="gelu", dropout=0.1, max_position_embeddings=512, pad_token_id=0
)
DISTIL_BERT_LAYER_NORM_EPSILON = 1e-12  # fixed in transformers' DistilBERT
ROBERTA_HEAD_ACTIVATION = "gelu"  # fixed in transformers' RobertaLMHead


class Conversion:
    """How one tensor's transformers layout maps onto keras-hub's.

    Args:
        name: a short name (for error messages).
        to_keras: `(array, keras_shape) -> array`.
        to_transformers: `(array) -> array`.
        transformers_shape: `(keras_shape) -> tuple`, the shape the
            checkpoint must hold.

    Example:
    ```python
    from tokdrop_keras.models.transformers_format import ATTENTION_IN
    weight = np.arange(16 * 16, dtype="float32").reshape(16, 16)  # [out, in]
    kernel = ATTENTION_IN.to_keras(weight, (16, 2, 8))  # [in, heads, size]
    np.testing.assert_array_equal(kernel[3, 1, 2], weight[8 + 2, 3])
    np.testing.assert_array_equal(ATTENTION_IN.to_transformers(kernel), weight)
    assert ATTENTION_IN.transformers_shape((16, 2, 8)) == (16, 16)
    ```
    """

    def __init__(self, name, to_keras, to_transformers, transformers_shape):
        self.name = name
        self.to_keras = to_keras
        self.to_transformers = to_transformers
        self.transformers_shape = transformers_shape


def _flat(shape):
    return int(np.prod(shape))


SAME = Conversion(
    "same", lambda x, shape: x, lambda x: x, lambda shape: tuple(shape)
)
# Dense kernel [in, out] <-> Linear weight [out, in].
LINEAR = Conversion(
    "linear",
    lambda x, shape: np.transpose(x),
    lambda x: np.transpose(x),
    lambda shape: (shape[1], shape[0]),
)
# Attention query/key/value kernel [hidden, heads, head_dim] <-> [out, in].
ATTENTION_IN = Conversion(
    "attention_in",
    lambda x, shape: np.reshape(np.transpose(x), shape),
    lambda x: np.transpose(np.reshape(x, (x.shape[0], -1))),
    lambda shape: (shape[1] * shape[2], shape[0]),
)
# Attention output kernel [heads, head_dim, hidden] <-> [out, in].
ATTENTION_OUT = Conversion(
    "attention_out",
    lambda x, shape: np.reshape(np.transpose(x), shape),
    lambda x: np.transpose(np.reshape(x, (-1, x.shape[-1]))),
    lambda shape: (shape[2], shape[0] * shape[1]),
)
# Bias [heads, head_dim] <-> [out].
FLAT_BIAS = Conversion(
    "flat_bias",
    lambda x, shape: np.reshape(x, shape),
    lambda x: np.reshape(x, (-1,)),
    lambda shape: (_flat(shape),),
)


def offset_positions(offset):
    """RoBERTa's position table: keras-hub's rows are transformers' rows
    from `offset` (`pad_token_id + 1`) on; the rows before it are written
    as zeros (transformers gives padding the `pad_token_id` row, which no
    real token reads).

    Example:
    ```python
    from tokdrop_keras.models.transformers_format import offset_positions
    table = np.ones((4, 3), "float32")
    written = offset_positions(2).to_transformers(table)
    assert written.shape == (6, 3) and written[:2].sum() == 0
    np.testing.assert_array_equal(offset_positions(2).to_keras(written, (4, 3)), table)
    ```
    """
    return Conversion(
        f"positions_from_{offset}",
        lambda x, shape: x[offset : offset + shape[0]],
        lambda x: np.concatenate([np.zeros((offset, x.shape[1]), x.dtype), x]),
        lambda shape: (shape[0] + offset, shape[1]),
    )


class TensorEntry:
    """One checkpoint tensor: its transformers name, the keras variable,
    the conversion, and whether a checkpoint may lack it (`optional`).

    Example:
    ```python
    from tokdrop_keras.models.transformers_format import TensorEntry
    variable = keras.Variable(np.zeros(3, "float32"))
    entry = TensorEntry("encoder.layer.0.output.dense.bias", variable)
    assert entry.conversion.transformers_shape(variable.shape) == (3,)
    ```
    """

    def __init__(self, name, variable, conversion=SAME, optional=False):
        self.name = name
        self.variable = variable
        self.conversion = conversion
        self.optional = optional

    def __repr__(self):
        return f"TensorEntry({self.name!r})"


def _layer_norm(name, layer):
    return [
        TensorEntry(f"{name}.weight", layer.gamma),
        TensorEntry(f"{name}.bias", layer.beta),
    ]


def _dense(name, layer, conversion=LINEAR, bias_conversion=SAME):
    return [
        TensorEntry(f"{name}.weight", layer.kernel, conversion),
        TensorEntry(f"{name}.bias", layer.bias, bias_conversion),
    ]


def _attention(names, attention):
    query, key, value, output = names
    return (
        _dense(query, attention.query_dense, ATTENTION_IN, FLAT_BIAS)
        + _dense(key, attention.key_dense, ATTENTION_IN, FLAT_BIAS)
        + _dense(value, attention.value_dense, ATTENTION_IN, FLAT_BIAS)
        + _dense(output, attention.output_dense, ATTENTION_OUT)
    )


def position_offset(architecture, pad_token_id):
    """Rows of transformers' position table before the first position:
    `pad_token_id + 1` for RoBERTa and XLM-R, else 0.

    Example:
    ```python
    from tokdrop_keras.models.transformers_format import position_offset
    assert position_offset("roberta", pad_token_id=1) == 2
    assert position_offset("bert", pad_token_id=0) == 0
    ```
    """
    if architecture in ("roberta", "xlm_roberta"):
        return pad_token_id + 1
    return 0


def encoder_entries(architecture, backbone, offset=0):
    """The encoder's `TensorEntry`s, names without the model prefix.

    For RoBERTa and XLM-R the token-type embedding is not listed: keras-hub
    has none; the reader folds its row into the position table and the
    exporter writes zeros (`token_type_embeddings_name`).

    Example:
    ```python
    from tokdrop_keras.models.transformers_format import encoder_entries
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16, num_layers=2
    )
    names = [entry.name for entry in encoder_entries("bert", backbone)]
    assert names[0] == "embeddings.word_embeddings.weight"
    assert len(names) == 5 + 2 * 16 + 2  # embeddings, layers, pooler
    ```
    """
    entries = []
    if architecture == "distil_bert":
        embeddings = backbone.embeddings
        entries += [
            TensorEntry(
                "embeddings.word_embeddings.weight",
                embeddings.token_embedding.embeddings,
            ),
            TensorEntry(
                "embeddings.position_embeddings.weight",
                embeddings.position_embedding.position_embeddings,
            ),
        ]
        entries += _layer_norm("embeddings.LayerNorm", backbone.embeddings_layer_norm)
        for index, layer in enumerate(backbone.transformer_layers):
            name = f"transformer.layer.{index}"
            entries += _attention(
                [f"{name}.attention.{n}" for n in ("q_lin", "k_lin", "v_lin", "out_lin")],
                layer._self_attention_layer,
            )
            entries += _layer_norm(f"{name}.sa_layer_norm", layer._self_attention_layer_norm)
            entries += _dense(f"{name}.ffn.lin1", layer._feedforward_intermediate_dense)
            entries += _dense(f"{name}.ffn.lin2", layer._feedforward_output_dense)
            entries += _layer_norm(f"{name}.output_layer_norm", layer._feedforward_layer_norm)
        return entries

    if architecture == "bert":
        entries += [
            TensorEntry(
                "embeddings.word_embeddings.weight",
                backbone.token_embedding.embeddings,
            ),
            TensorEntry(
                "embeddings.position_embeddings.weight",
                backbone.position_embedding.position_embeddings,
            ),
            TensorEntry(
                "embeddings.token_type_embeddings.weight",
                backbone.segment_embedding.embeddings,
            ),
        ]
    else:  # roberta, xlm_roberta
        embeddings = backbone.embeddings
        entries += [
            TensorEntry(
                "embeddings.word_embeddings.weight",
                embeddings.token_embedding.embeddings,
            ),
            TensorEntry(
                "embeddings.position_embeddings.weight",
                embeddings.position_embedding.position_embeddings,
                offset_positions(offset),
            ),
        ]
    entries += _layer_norm("embeddings.LayerNorm", backbone.embeddings_layer_norm)
    for index, layer in enumerate(backbone.transformer_layers):
        name = f"encoder.layer.{index}"
        entries += _attention(
            [f"{name}.attention.self.{n}" for n in ("query", "key", "value")]
            + [f"{name}.attention.output.dense"],
            layer._self_attention_layer,
        )
        entries += _layer_norm(
            f"{name}.attention.output.LayerNorm", layer._self_attention_layer_norm
        )
        entries += _dense(
            f"{name}.intermediate.dense", layer._feedforward_intermediate_dense
        )
        entries += _dense(f"{name}.output.dense", layer._feedforward_output_dense)
        entries += _layer_norm(f"{name}.output.LayerNorm", layer._feedforward_layer_norm)
    if architecture == "bert":
        # transformers' BertForMaskedLM has no pooler; BertModel has.
        entries += [
            TensorEntry(e.name, e.variable, e.conversion, optional=True)
            for e in _dense("pooler.dense", backbone.pooled_dense)
        ]
    return entries


def token_type_embeddings_name(architecture):
    """RoBERTa's and XLM-R's one-row token-type table (not in keras-hub),
    else `None`.

    Example:
    ```python
    from tokdrop_keras.models.transformers_format import (
        token_type_embeddings_name,
    )
    assert token_type_embeddings_name("bert") is None  # a keras-hub table
    assert token_type_embeddings_name("xlm_roberta").endswith("weight")
    ```
    """
    if architecture in ("roberta", "xlm_roberta"):
        return "embeddings.token_type_embeddings.weight"
    return None


# The MLM head's tensors: (transform dense, transform LayerNorm, output
# bias, tied decoder weight, decoder bias).
HEAD_NAMES = {
    "bert": (
        "cls.predictions.transform.dense",
        "cls.predictions.transform.LayerNorm",
        "cls.predictions.bias",
        "cls.predictions.decoder.weight",
        "cls.predictions.decoder.bias",
    ),
    "roberta": (
        "lm_head.dense",
        "lm_head.layer_norm",
        "lm_head.bias",
        "lm_head.decoder.weight",
        "lm_head.decoder.bias",
    ),
    "distil_bert": (
        "vocab_transform",
        "vocab_layer_norm",
        "vocab_projector.bias",
        "vocab_projector.weight",
        None,
    ),
}
HEAD_NAMES["xlm_roberta"] = HEAD_NAMES["roberta"]


def head_entries(architecture, head):
    """The MLM head's `TensorEntry`s (full names). The tied decoder
    weight and the decoder bias (the head's bias again) are not listed:
    see `tied_names`.

    Example:
    ```python
    from tokdrop_keras.models.transformers_format import head_entries
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16, num_layers=2
    )
    model = tokdrop_keras.TokenDropMaskedLM(backbone)
    names = [e.name for e in head_entries("bert", model.masked_lm_head)]
    assert names[-1] == "cls.predictions.bias"
    ```
    """
    dense, norm, bias, _, _ = HEAD_NAMES[architecture]
    return (
        _dense(dense, head._intermediate_dense)
        + _layer_norm(norm, head._intermediate_layer_norm)
        + [TensorEntry(bias, head._bias)]
    )


def tied_names(architecture):
    """(decoder weight name, decoder bias name or None): the copies of the
    word embeddings and of the head's bias a checkpoint may hold.

    Example:
    ```python
    from tokdrop_keras.models.transformers_format import tied_names
    assert tied_names("distil_bert") == ("vocab_projector.weight", None)
    ```
    """
    _, _, _, decoder, decoder_bias = HEAD_NAMES[architecture]
    return decoder, decoder_bias


def _config_value(config, name, defaults):
    """`config[name]`, else transformers' default."""
    return config[name] if name in config else defaults[name]


def backbone_config(architecture, config):
    """keras-hub backbone arguments and our numerics from a transformers
    `config.json` (a dict).

    Returns:
        `(backbone_kwargs, numerics, pad_token_id)`; `numerics` holds
        `TokenDropMaskedLM`'s four activation / epsilon arguments.

    Raises:
        ValueError: a field missing, or a setting keras-hub's encoders
            cannot hold (relative positions, an untied decoder, a hidden
            size the heads do not divide).

    Example:
    ```python
    from tokdrop_keras.models.transformers_format import backbone_config
    kwargs, numerics, pad = backbone_config("roberta", {
        "vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 2,
        "num_attention_heads": 2, "intermediate_size": 32,
        "max_position_embeddings": 18, "layer_norm_eps": 1e-5,
    })
    assert kwargs["max_sequence_length"] == 16  # 18 - (pad 1 + 1)
    assert numerics["encoder_activation"] == "gelu" and pad == 1
    ```
    """
    if architecture == "distil_bert":
        defaults = _DISTIL_BERT_DEFAULTS
        names = dict(
            vocabulary_size="vocab_size",
            num_layers="n_layers",
            num_heads="n_heads",
            hidden_dim="dim",
            intermediate_dim="hidden_dim",
        )
    else:
        defaults = _BERT_DEFAULTS if architecture == "bert" else _ROBERTA_DEFAULTS
        names = dict(
            vocabulary_size="vocab_size",
            num_layers="num_hidden_layers",
            num_heads="num_attention_heads",
            hidden_dim="hidden_size",
            intermediate_dim="intermediate_size",
        )
    missing = [field for field in names.values() if field not in config]
    if missing:
        raise ValueError(f"config.json lacks {missing}.")
    kwargs = {ours: int(config[theirs]) for ours, theirs in names.items()}
    if kwargs["hidden_dim"] % kwargs["num_heads"]:
        raise ValueError(
            f"config.json: the hidden size {kwargs['hidden_dim']} does not "
            f"split into {kwargs['num_heads']} attention heads."
        )
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise ValueError(
            "config.json: position_embedding_type "
            f"{config['position_embedding_type']!r}; keras-hub's encoders "
            "have absolute positions only."
        )
    if config.get("tie_word_embeddings", True) is False:
        raise ValueError(
            "config.json: tie_word_embeddings is false; keras-hub's MLM "
            "head is tied to the word embeddings."
        )
    pad_token_id = int(_config_value(config, "pad_token_id", defaults))
    offset = position_offset(architecture, pad_token_id)
    positions = int(_config_value(config, "max_position_embeddings", defaults))
    kwargs["max_sequence_length"] = positions - offset
    if kwargs["max_sequence_length"] < 1:
        raise ValueError(
            f"config.json: max_position_embeddings {positions} leaves no "
            f"position after the {offset} reserved rows."
        )
    if architecture == "distil_bert":
        kwargs["dropout"] = float(_config_value(config, "dropout", defaults))
        activation = _config_value(config, "activation", defaults)
        epsilon = DISTIL_BERT_LAYER_NORM_EPSILON
    else:
        kwargs["dropout"] = float(
            _config_value(config, "hidden_dropout_prob", defaults)
        )
        activation = _config_value(config, "hidden_act", defaults)
        epsilon = float(_config_value(config, "layer_norm_eps", defaults))
        if architecture == "bert":
            kwargs["num_segments"] = int(
                _config_value(config, "type_vocab_size", defaults)
            )
    numerics = dict(
        encoder_activation=activation,
        encoder_layer_norm_epsilon=epsilon,
        # RobertaLMHead applies gelu whatever hidden_act says.
        mlm_head_activation=ROBERTA_HEAD_ACTIVATION
        if architecture in ("roberta", "xlm_roberta")
        else activation,
        mlm_head_layer_norm_epsilon=epsilon,
    )
    return kwargs, numerics, pad_token_id
