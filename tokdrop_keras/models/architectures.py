"""Where an encoder architecture plugs into token dropping.

`TokenDropBackbone` and `TokenDropMaskedLM` are written once; what differs
between keras-hub encoders (their inputs, the tensor after the embeddings,
the pooled output, the MLM head, the matching tokenizer, preprocessors and
classifier) is one small `EncoderArchitecture` per backbone class. An
encoder built from `keras_hub.layers.TransformerEncoder` with an
`embeddings_dropout` layer before its first transformer layer needs only a
new entry here.

Supported: BERT, RoBERTa, XLM-RoBERTa and DistilBERT. Not ALBERT: its
`AlbertBackbone` calls each shared `TransformerEncoder` several times, so
the layer before the token-dropping boundary has no single output in the
backbone's graph to cut at, and its factorised embeddings need their own
MLM-head shapes (see the README).
"""

import keras
import keras_hub

from tokdrop_keras.inputs import BERT_BACKBONE_INPUTS
from tokdrop_keras.inputs import NO_SEGMENT_BACKBONE_INPUTS
from tokdrop_keras.inputs import PADDING_MASK
from tokdrop_keras.inputs import TOKEN_IDS
from tokdrop_keras.models.numerics import ACTIVATIONS
from tokdrop_keras.models.numerics import check_activation
from tokdrop_keras.models.numerics import check_epsilon

SEQUENCE_OUTPUT = "sequence_output"
POOLED_OUTPUT = "pooled_output"

# The files of each tokenizer kind's vocabulary in a folder: the shipped
# ones, a checkpoint's and an export's `hf/` (transformers' names).
TOKENIZER_FILES = {
    "wordpiece": ("vocab.txt",),
    "byte_pair": ("vocab.json", "merges.txt"),
    "sentencepiece": ("sentencepiece.bpe.model",),
}
# The first line of a byte-pair merges file (RoBERTa's, transformers').
MERGES_HEADER = "#version: 0.2"
_FAIRSEQ_SPECIAL_TOKENS = dict(
    bos_token="<s>", eos_token="</s>", unk_token="<unk>", sep_token="</s>",
    pad_token="<pad>", cls_token="<s>", mask_token="<mask>",
)
# transformers' `special_tokens_map.json` of each tokenizer kind.
TRANSFORMERS_SPECIAL_TOKENS = {
    "wordpiece": dict(
        unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
        cls_token="[CLS]", mask_token="[MASK]",
    ),
    "byte_pair": _FAIRSEQ_SPECIAL_TOKENS,
    "sentencepiece": _FAIRSEQ_SPECIAL_TOKENS,
}


class EncoderArchitecture:
    """How token dropping reads one keras-hub encoder architecture.

    Args:
        name: the architecture's name in `pretrain(architecture=...)` and
            `pretrain.py --architecture`.
        backbone_class: the keras-hub backbone class.
        input_keys: the backbone's input names (its `*MaskedLMPreprocessor`'s
            outputs, less `mask_positions`).
        tokenizer_kind: `"wordpiece"`, `"byte_pair"` or `"sentencepiece"`.
        packing: how documents fill sequences: `"concatenate"` (one stream
            cut into `[CLS] ... [SEP]` pieces, BERT's pretraining records)
            or `"full_sentences"` (RoBERTa's: documents joined by an extra
            `</s>`, cut into `<s> ... </s>` pieces).
        pooled: bool. The backbone's output is a dict with a
            `pooled_output`, else the sequence output tensor.
        tokenizer_class, masked_lm_class, masked_lm_preprocessor_class,
        classifier_class, classifier_preprocessor_class: the matching
            keras-hub classes.
        mlm_head_activation, mlm_head_layer_norm_epsilon: the MLM head's
            numerics in the architecture's own checkpoints.
        transformers_model_type: `model_type` in a transformers
            `config.json`.
        transformers_masked_lm_class, transformers_tokenizer_class: the
            transformers classes an export's `hf/` names.
        transformers_prefix: the encoder's prefix in a transformers
            `*ForMaskedLM` state dict.

    Example:
    ```python
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16,
        architecture="roberta",
    )
    architecture = tokdrop_keras.models.architecture_of(backbone)
    assert architecture.name == "roberta"
    assert architecture.input_keys == ("token_ids", "padding_mask")
    assert len(architecture.transformer_layers(backbone)) == 4
    assert architecture.tokenizer_files == ("vocab.json", "merges.txt")
    assert architecture.transformers_prefix == "roberta."
    ```
    """

    def __init__(
        self,
        name,
        backbone_class,
        input_keys,
        tokenizer_kind,
        packing,
        pooled,
        tokenizer_class,
        masked_lm_class,
        masked_lm_preprocessor_class,
        classifier_class,
        classifier_preprocessor_class,
        mlm_head_activation,
        mlm_head_layer_norm_epsilon,
        transformers_model_type,
        transformers_masked_lm_class,
        transformers_tokenizer_class,
        transformers_prefix,
    ):
        self.name = name
        self.backbone_class = backbone_class
        self.input_keys = tuple(input_keys)
        self.tokenizer_kind = tokenizer_kind
        self.packing = packing
        self.pooled = pooled
        self.tokenizer_class = tokenizer_class
        self.masked_lm_class = masked_lm_class
        self.masked_lm_preprocessor_class = masked_lm_preprocessor_class
        self.classifier_class = classifier_class
        self.classifier_preprocessor_class = classifier_preprocessor_class
        self.mlm_head_activation = mlm_head_activation
        self.mlm_head_layer_norm_epsilon = mlm_head_layer_norm_epsilon
        self.transformers_model_type = transformers_model_type
        self.transformers_masked_lm_class = transformers_masked_lm_class
        self.transformers_tokenizer_class = transformers_tokenizer_class
        self.transformers_prefix = transformers_prefix
        self.token_ids_key = TOKEN_IDS
        self.padding_mask_key = PADDING_MASK

    def __repr__(self):
        return f"EncoderArchitecture({self.name!r})"

    @property
    def tokenizer_files(self):
        """The file names of this architecture's vocabulary in a folder."""
        return TOKENIZER_FILES[self.tokenizer_kind]

    @property
    def transformers_special_tokens(self):
        """transformers' `special_tokens_map.json` for this tokenizer."""
        return dict(TRANSFORMERS_SPECIAL_TOKENS[self.tokenizer_kind])

    def embeddings_output(self, backbone):
        """The symbolic tensor the first transformer layer takes."""
        return backbone.embeddings_dropout.output

    def transformer_layers(self, backbone):
        """The backbone's `TransformerEncoder` layers, in order."""
        return list(backbone.transformer_layers)

    def outputs(self, backbone, sequence_output):
        """The backbone's output (a dict for BERT, else the tensor) from its
        final sequence output."""
        if not self.pooled:
            return sequence_output
        return {
            SEQUENCE_OUTPUT: sequence_output,
            POOLED_OUTPUT: backbone.pooled_dense(
                sequence_output[:, backbone.cls_token_index, :]
            ),
        }

    def sequence_output(self, outputs):
        """The `[batch, seq, hidden]` sequence output of `outputs`."""
        return outputs[SEQUENCE_OUTPUT] if self.pooled else outputs

    def masked_lm_head(self, backbone, activation=None, layer_norm_epsilon=None):
        """A `MaskedLMHead` as the keras-hub masked LM of this architecture
        builds it (truncated-normal 0.02 kernels), tied to the token
        embedding, with `activation` (a transformers name) and
        `layer_norm_epsilon` (default: this architecture's)."""
        activation = activation or self.mlm_head_activation
        if layer_norm_epsilon is None:
            layer_norm_epsilon = self.mlm_head_layer_norm_epsilon
        head = keras_hub.layers.MaskedLMHead(
            vocabulary_size=backbone.vocabulary_size,
            token_embedding=backbone.token_embedding,
            intermediate_activation=ACTIVATIONS[
                check_activation(activation, "mlm_head_activation")
            ],
            layer_norm_epsilon=check_epsilon(
                layer_norm_epsilon, "mlm_head_layer_norm_epsilon"
            ),
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            dtype=backbone.dtype_policy,
            name="mlm_head",
        )
        head.build((None, None, backbone.hidden_dim))
        return head


_models = keras_hub.models

# XLM-RoBERTa before RoBERTa: its backbone is a `RobertaBackbone` subclass.
ARCHITECTURES = (
    EncoderArchitecture(
        name="bert",
        backbone_class=_models.BertBackbone,
        input_keys=BERT_BACKBONE_INPUTS,
        tokenizer_kind="wordpiece",
        packing="concatenate",
        pooled=True,
        tokenizer_class=_models.BertTokenizer,
        masked_lm_class=_models.BertMaskedLM,
        masked_lm_preprocessor_class=_models.BertMaskedLMPreprocessor,
        classifier_class=_models.BertTextClassifier,
        classifier_preprocessor_class=_models.BertTextClassifierPreprocessor,
        mlm_head_activation="gelu_new",
        mlm_head_layer_norm_epsilon=1e-12,
        transformers_model_type="bert",
        transformers_masked_lm_class="BertForMaskedLM",
        transformers_tokenizer_class="BertTokenizer",
        transformers_prefix="bert.",
    ),
    EncoderArchitecture(
        name="xlm_roberta",
        backbone_class=_models.XLMRobertaBackbone,
        input_keys=NO_SEGMENT_BACKBONE_INPUTS,
        tokenizer_kind="sentencepiece",
        packing="full_sentences",
        pooled=False,
        tokenizer_class=_models.XLMRobertaTokenizer,
        masked_lm_class=_models.XLMRobertaMaskedLM,
        masked_lm_preprocessor_class=_models.XLMRobertaMaskedLMPreprocessor,
        classifier_class=_models.XLMRobertaTextClassifier,
        classifier_preprocessor_class=(
            _models.XLMRobertaTextClassifierPreprocessor
        ),
        mlm_head_activation="gelu",
        mlm_head_layer_norm_epsilon=1e-5,
        transformers_model_type="xlm-roberta",
        transformers_masked_lm_class="XLMRobertaForMaskedLM",
        transformers_tokenizer_class="XLMRobertaTokenizer",
        transformers_prefix="roberta.",
    ),
    EncoderArchitecture(
        name="roberta",
        backbone_class=_models.RobertaBackbone,
        input_keys=NO_SEGMENT_BACKBONE_INPUTS,
        tokenizer_kind="byte_pair",
        packing="full_sentences",
        pooled=False,
        tokenizer_class=_models.RobertaTokenizer,
        masked_lm_class=_models.RobertaMaskedLM,
        masked_lm_preprocessor_class=_models.RobertaMaskedLMPreprocessor,
        classifier_class=_models.RobertaTextClassifier,
        classifier_preprocessor_class=(
            _models.RobertaTextClassifierPreprocessor
        ),
        mlm_head_activation="gelu",
        mlm_head_layer_norm_epsilon=1e-5,
        transformers_model_type="roberta",
        transformers_masked_lm_class="RobertaForMaskedLM",
        transformers_tokenizer_class="RobertaTokenizer",
        transformers_prefix="roberta.",
    ),
    EncoderArchitecture(
        name="distil_bert",
        backbone_class=_models.DistilBertBackbone,
        input_keys=NO_SEGMENT_BACKBONE_INPUTS,
        tokenizer_kind="wordpiece",
        packing="concatenate",
        pooled=False,
        tokenizer_class=_models.DistilBertTokenizer,
        masked_lm_class=_models.DistilBertMaskedLM,
        masked_lm_preprocessor_class=_models.DistilBertMaskedLMPreprocessor,
        classifier_class=_models.DistilBertTextClassifier,
        classifier_preprocessor_class=(
            _models.DistilBertTextClassifierPreprocessor
        ),
        mlm_head_activation="gelu",
        mlm_head_layer_norm_epsilon=1e-12,
        transformers_model_type="distilbert",
        transformers_masked_lm_class="DistilBertForMaskedLM",
        transformers_tokenizer_class="DistilBertTokenizer",
        transformers_prefix="distilbert.",
    ),
)
ARCHITECTURE_NAMES = ("bert", "roberta", "xlm_roberta", "distil_bert")
assert sorted(ARCHITECTURE_NAMES) == sorted(a.name for a in ARCHITECTURES)
# A transformers `config.json`'s `model_type` -> our architecture name.
TRANSFORMERS_MODEL_TYPES = {a.transformers_model_type: a.name for a in ARCHITECTURES}


def get_architecture(name):
    """The `EncoderArchitecture` called `name` (one of `ARCHITECTURE_NAMES`).

    Example:
    ```python
    from tokdrop_keras.models.architectures import get_architecture
    architecture = get_architecture("distil_bert")
    assert architecture.backbone_class is keras_hub.models.DistilBertBackbone
    assert architecture.tokenizer_kind == "wordpiece"
    ```
    """
    for architecture in ARCHITECTURES:
        if architecture.name == name:
            return architecture
    raise ValueError(
        f"Unknown architecture {name!r}; choose one of "
        f"{list(ARCHITECTURE_NAMES)}."
    )


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


def architecture_of_tokenizer(tokenizer):
    """The `EncoderArchitecture` whose tokenizer class `tokenizer` is.

    Example:
    ```python
    from tokdrop_keras.models.architectures import architecture_of_tokenizer
    tokenizer = keras_hub.models.DistilBertTokenizer(
        vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the"]
    )
    assert architecture_of_tokenizer(tokenizer).name == "distil_bert"
    ```
    """
    for architecture in ARCHITECTURES:
        if type(tokenizer) is architecture.tokenizer_class:
            return architecture
    supported = [a.tokenizer_class.__name__ for a in ARCHITECTURES]
    raise ValueError(
        f"Token dropping supports the keras-hub tokenizers {supported}. "
        f"Received: {type(tokenizer).__name__}"
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
