"""A keras-hub encoder backbone's forward pass, layer by layer.

The masked LM never calls the backbone's functional graph in training: its
`TransformerEncoder` layers would compute attention from a
`[batch, seq, seq]` mask on Keras' path, which no fused kernel takes.
`EncoderStack` runs the backbone's own embeddings (a cut of its graph) and
then each layer through `tokdrop_keras.layers.encoder_layer`, with key
lengths: the same weights, the same result.
"""

import keras

from tokdrop_keras.layers.attention import key_lengths
from tokdrop_keras.layers.encoder_layer import encoder_layer
from tokdrop_keras.layers.encoder_layer import encoder_sublayers
from tokdrop_keras.models.architectures import architecture_of


def check_attention_dropout(attention_dropout, backbone):
    """Raises unless `attention_dropout` is `None` or a rate in `[0, 1)`
    that `backbone`'s attention layers can draw (a positive rate needs an
    encoder built with `dropout > 0`, whose dropout layers own a seed).

    Example:
    ```python
    from tokdrop_keras.models.encoder_stack import check_attention_dropout
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16, dropout=0.1
    )
    check_attention_dropout(0.0, backbone)
    try:
        check_attention_dropout(1.0, backbone)
        raise AssertionError("accepted a rate of 1")
    except ValueError as error:
        assert "attention_dropout" in str(error)
    ```
    """
    if attention_dropout is None:
        return
    if isinstance(attention_dropout, bool) or not (
        isinstance(attention_dropout, (int, float))
        and 0.0 <= attention_dropout < 1.0
    ):
        raise ValueError(
            "`attention_dropout` must be None (the encoder's own dropout) or "
            f"a rate in [0, 1). Received: attention_dropout={attention_dropout!r}"
        )
    if attention_dropout > 0:
        for layer in architecture_of(backbone).transformer_layers(backbone):
            attention = encoder_sublayers(layer)["self_attention_layer"]
            if not hasattr(attention._dropout_layer, "seed_generator"):
                raise ValueError(
                    f"`attention_dropout={attention_dropout}` needs a backbone "
                    "built with `dropout > 0` (its attention layers then own "
                    "the seed generators the dropout draws from); this one "
                    "has dropout 0."
                )


class EncoderStack:
    """Runs a keras-hub encoder backbone through `encoder_layer`.

    A plain object, not a Keras layer: it owns no weights (every one is the
    backbone's), so it adds nothing to saved files.

    Args:
        backbone: a keras-hub backbone of a supported architecture.
        attention_dropout: attention-probability dropout rate in training;
            `None` is each layer's own `dropout` (keras-hub's recipe).

    Example:
    ```python
    from tokdrop_keras.models.encoder_stack import EncoderStack
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16
    )
    inputs = {
        "token_ids": np.random.default_rng(0).integers(5, 50, (2, 16)),
        "segment_ids": np.zeros((2, 16), "int32"),
        "padding_mask": (np.arange(16) < np.array([[16], [9]])).astype("int32"),
    }
    expected = backbone(inputs)["sequence_output"]
    outputs = EncoderStack(backbone)(inputs)
    np.testing.assert_allclose(
        outputs["sequence_output"], expected, atol=1e-5
    )
    ```
    """

    def __init__(self, backbone, attention_dropout=None):
        check_attention_dropout(attention_dropout, backbone)
        self.backbone = backbone
        self.architecture = architecture_of(backbone)
        self.layers = self.architecture.transformer_layers(backbone)
        for layer in self.layers:
            encoder_sublayers(layer)  # refuses what it cannot run
        self.attention_dropout = attention_dropout
        # The backbone's own graph up to its first transformer layer.
        self.embeddings = keras.Model(
            backbone.input,
            self.architecture.embeddings_output(backbone),
            name=f"{backbone.name}_embeddings",
        )

    def inputs(self, inputs):
        """The backbone's inputs out of `inputs`, checked: each present,
        all one `[batch, seq]` shape."""
        keys = self.architecture.input_keys
        missing = [name for name in keys if name not in inputs]
        if missing:
            raise ValueError(
                f"Missing backbone inputs {missing}; expected {list(keys)}."
            )
        inputs = {name: inputs[name] for name in keys}
        shapes = {name: tuple(inputs[name].shape) for name in keys}
        if len(set(shapes.values())) != 1:
            raise ValueError(
                f"Backbone inputs must share one `[batch, seq]` shape. "
                f"Received: {shapes}"
            )
        return inputs

    def layer(self, index, query, value, value_lengths, training=None):
        """Transformer layer `index` on `query`, attending to `value`."""
        return encoder_layer(
            self.layers[index],
            query,
            value,
            value_lengths,
            training=training,
            attention_dropout=self.attention_dropout,
        )

    def __call__(self, inputs, training=None):
        """The backbone's outputs for `inputs` (its dict, or the tensor)."""
        inputs = self.inputs(inputs)
        lengths = key_lengths(inputs[self.architecture.padding_mask_key])
        x = self.embeddings(inputs, training=training)
        for index in range(len(self.layers)):
            x = self.layer(index, x, x, lengths, training=training)
        return self.architecture.outputs(self.backbone, x)
