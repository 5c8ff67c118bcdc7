"""Where an encoder architecture plugs into token dropping.

`TokenDropBackbone` and `TokenDropMaskedLM` are written once; what differs
between keras-hub encoders (their inputs, the tensor after the embeddings,
the transformer layers, the pooled output and the MLM head) is one small
`EncoderArchitecture` per backbone class. A new encoder built from
`keras_hub.layers.TransformerEncoder` needs only a new subclass here.
"""

import keras
import keras_hub

from tokdrop_keras.inputs import BERT_BACKBONE_INPUTS
from tokdrop_keras.inputs import PADDING_MASK
from tokdrop_keras.inputs import TOKEN_IDS


class EncoderArchitecture:
    """How token dropping reads one keras-hub backbone class.

    Attributes:
        backbone_class: the keras-hub backbone class.
        input_keys: the backbone's input names.
        token_ids_key, padding_mask_key: which inputs hold the ids and the
            padding mask.

    Example:
    ```python
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16
    )
    architecture = tokdrop_keras.models.architecture_of(backbone)
    assert architecture.input_keys == (
        "token_ids", "segment_ids", "padding_mask"
    )
    assert len(architecture.transformer_layers(backbone)) == 4
    ```
    """

    backbone_class = None
    input_keys = ()
    token_ids_key = TOKEN_IDS
    padding_mask_key = PADDING_MASK

    def embeddings_output(self, backbone):
        """The symbolic tensor the first transformer layer takes."""
        raise NotImplementedError

    def transformer_layers(self, backbone):
        """The backbone's `TransformerEncoder` layers, in order."""
        return list(backbone.transformer_layers)

    def outputs(self, backbone, sequence_output):
        """The backbone's output dict from its final sequence output."""
        return {"sequence_output": sequence_output}

    def masked_lm_head(self, backbone):
        """A `MaskedLMHead` as keras-hub's masked LM builds it for this
        architecture, tied to the token embedding."""
        raise NotImplementedError


class BertArchitecture(EncoderArchitecture):
    """`keras_hub.models.BertBackbone`: segment ids, a pooled `[CLS]`.

    Example:
    ```python
    from tokdrop_keras.models.architectures import BertArchitecture
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16, num_layers=2
    )
    architecture = tokdrop_keras.models.architecture_of(backbone)
    assert isinstance(architecture, BertArchitecture)
    assert architecture.input_keys == (
        "token_ids", "segment_ids", "padding_mask"
    )
    head = architecture.masked_lm_head(backbone)  # tied to the embedding
    assert head.token_embedding is backbone.token_embedding
    sequence_output = keras.ops.ones((1, 4, backbone.hidden_dim))
    outputs = architecture.outputs(backbone, sequence_output)
    assert outputs["pooled_output"].shape == (1, backbone.hidden_dim)
    ```
    """

    backbone_class = keras_hub.models.BertBackbone
    input_keys = BERT_BACKBONE_INPUTS

    def embeddings_output(self, backbone):
        return backbone.embeddings_dropout.output

    def outputs(self, backbone, sequence_output):
        return {
            "sequence_output": sequence_output,
            "pooled_output": backbone.pooled_dense(
                sequence_output[:, backbone.cls_token_index, :]
            ),
        }

    def masked_lm_head(self, backbone):
        # As keras_hub.models.BertMaskedLM builds it.
        head = keras_hub.layers.MaskedLMHead(
            vocabulary_size=backbone.vocabulary_size,
            token_embedding=backbone.token_embedding,
            intermediate_activation="gelu",
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            dtype=backbone.dtype_policy,
            name="mlm_head",
        )
        head.build((None, None, backbone.hidden_dim))
        return head


ARCHITECTURES = (BertArchitecture(),)


def architecture_of(backbone):
    """The `EncoderArchitecture` of a keras-hub backbone.

    Raises:
        ValueError: for a backbone class token dropping does not support,
            naming the supported ones.

    Example:
    ```python
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16
    )
    architecture = tokdrop_keras.models.architecture_of(backbone)
    assert architecture.backbone_class is keras_hub.models.BertBackbone
    ```
    """
    for architecture in ARCHITECTURES:
        if isinstance(backbone, architecture.backbone_class):
            return architecture
    supported = [a.backbone_class.__name__ for a in ARCHITECTURES]
    raise ValueError(
        f"Token dropping supports the keras-hub backbones {supported}. "
        f"Received: {type(backbone).__name__}"
    )


def check_backbone_class(backbone, backbone_class):
    """Raises unless `backbone` is a `backbone_class`, naming both.

    Example:
    ```python
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16
    )
    tokdrop_keras.models.architectures.check_backbone_class(
        backbone, keras_hub.models.BertBackbone
    )
    ```
    """
    if not isinstance(backbone, backbone_class):
        raise ValueError(
            f"`backbone` must be a `keras_hub.models.{backbone_class.__name__}`. "
            f"Received: {type(backbone).__name__}"
        )
