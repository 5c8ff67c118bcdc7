import keras
import keras_hub

from tokdrop_keras.layers.attention import key_lengths
from tokdrop_keras.layers.importance_tracker import DEFAULT_BETA
from tokdrop_keras.layers.importance_tracker import DEFAULT_INITIAL_IMPORTANCE
from tokdrop_keras.layers.importance_tracker import ImportanceTracker
from tokdrop_keras.layers.token_drop import DEFAULT_RANDOM_FRACTION
from tokdrop_keras.layers.token_drop import IMPORTANCE
from tokdrop_keras.layers.token_drop import TokenDrop
from tokdrop_keras.layers.token_restore import TokenRestore
from tokdrop_keras.models.architectures import architecture_of
from tokdrop_keras.models.architectures import check_backbone_class
from tokdrop_keras.models.encoder_stack import EncoderStack
from tokdrop_keras.models.layout import DEFAULT_KEEP_FRACTION
from tokdrop_keras.models.layout import check_keep
from tokdrop_keras.models.layout import resolve_first_dropped_layer
from tokdrop_keras.models.token_drop_options import BACKBONE
from tokdrop_keras.models.token_drop_options import options_of


@keras.saving.register_keras_serializable(package="tokdrop_keras")
class TokenDropBackbone(keras.Model):
    """A keras-hub encoder backbone that skips unimportant tokens in its middle.

    Wraps an existing keras-hub backbone (today `BertBackbone`; see
    `tokdrop_keras.models.architectures`) and shares its layers and weights
    (nothing is copied), so training this model trains the wrapped backbone,
    which stays an ordinary full-length encoder for fine-tuning. Which
    layers see which tokens is `tokdrop_keras.models.layout`: layers before
    the boundary see all tokens, the boundary layer's kept tokens attend to
    all, the layers after it see the kept tokens only, and the last layer
    all tokens again.

    Each sequence keeps its `keep_tokens` (or `keep_fraction` of its length)
    highest-scoring tokens, scored by `importance_tracker`, an
    `ImportanceTracker` that `TokenDropMaskedLM` updates while training.

    Args:
        backbone: a keras-hub backbone with at least 2 layers.
        keep_fraction: float in `(0, 1]`. Share of each sequence kept.
            Defaults to `0.5`, as in the paper.
        keep_tokens: int. Number of tokens kept per sequence; overrides
            `keep_fraction`. Equal to the sequence length keeps every token.
        first_dropped_layer: int in `[1, L-1]`. The first layer that sees
            only kept tokens; the boundary is the layer before it. Defaults
            to `L // 2`.
        selection: how the kept tokens are chosen: `"importance"` (the
            table's highest; default), `"random"` or `"mixed"` (see
            `TokenDrop`).
        random_fraction: float in `[0, 1]`. The share of the kept tokens a
            `"mixed"` selection picks at random. Defaults to `0.5`.
        initial_importance: float. Initial table value (see
            `ImportanceTracker`).
        beta: float. EMA decay of the table (see `ImportanceTracker`).
        always_keep_ids: ids always kept (start, end, mask, unknown);
            `tokdrop_keras.special_token_ids(tokenizer)` gives them.
        always_drop_ids: ids always dropped (padding).
        seed: int. Seed of the random tie-breaking in training.
        attention_dropout: float in `[0, 1)`: the attention-probability
            dropout in training, apart from the hidden-state dropout
            (transformers' `attention_probs_dropout_prob`). `None` (default)
            is the backbone's own `dropout`, BERT's recipe; `0.0` keeps a
            dropout-0.1 model on the fused attention kernel.
        **kwargs: other keyword arguments of `keras.Model` (`name`, ...).

    Every layer runs keras-hub's `TransformerEncoder` sublayers with
    `tokdrop_keras.layers.attention.dot_product_attention` from key lengths
    (`EncoderStack`): cuDNN's fused kernel on JAX with a GPU.

    Call arguments:
        inputs: dict of the backbone's inputs (for BERT `token_ids`,
            `segment_ids`, `padding_mask`), each `[batch, seq]` with a
            static `seq`, padded on the right (keras-hub's packers do).
        training: bool.
        return_kept_positions: bool. Also return the kept positions
            `[batch, keep]`.

    Returns:
        The backbone's output dict (for BERT `sequence_output`
        `[batch, seq, hidden]` and `pooled_output` `[batch, hidden]`); with
        `return_kept_positions`, a tuple `(outputs, kept_positions)`.

    Example:
    ```python
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=100, num_layers=4, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=16,
    )
    model = tokdrop_keras.TokenDropBackbone(
        backbone, always_keep_ids=[1, 2, 3, 4], always_drop_ids=[0]
    )
    outputs, kept = model({
        "token_ids": np.random.randint(5, 100, size=(2, 16)),
        "segment_ids": np.zeros((2, 16), "int32"),
        "padding_mask": np.ones((2, 16), "int32"),
    }, return_kept_positions=True)
    assert outputs["sequence_output"].shape == (2, 16, 16)
    assert kept.shape == (2, 8)
    ```
    """

    def __init__(
        self,
        backbone,
        keep_fraction=DEFAULT_KEEP_FRACTION,
        keep_tokens=None,
        first_dropped_layer=None,
        selection=IMPORTANCE,
        random_fraction=DEFAULT_RANDOM_FRACTION,
        initial_importance=DEFAULT_INITIAL_IMPORTANCE,
        beta=DEFAULT_BETA,
        always_keep_ids=(),
        always_drop_ids=(),
        seed=None,
        attention_dropout=None,
        **kwargs,
    ):
        architecture = architecture_of(backbone)
        layers = architecture.transformer_layers(backbone)
        first_dropped = resolve_first_dropped_layer(
            len(layers), first_dropped_layer
        )
        check_keep(keep_fraction, keep_tokens)
        if keep_tokens is not None and keep_tokens > backbone.max_sequence_length:
            raise ValueError(
                "`keep_tokens` must be an int in [1, max_sequence_length="
                f"{backbone.max_sequence_length}]. Received: "
                f"keep_tokens={keep_tokens!r}"
            )
        super().__init__(**kwargs)

        # === Layers ===
        self.backbone = backbone
        self.importance_tracker = ImportanceTracker(
            vocabulary_size=backbone.vocabulary_size,
            initial_importance=initial_importance,
            beta=beta,
            always_keep_ids=always_keep_ids,
            always_drop_ids=always_drop_ids,
            name="importance_tracker",
        )
        self.token_drop = TokenDrop(
            keep_tokens=keep_tokens,
            keep_fraction=None if keep_tokens else keep_fraction,
            selection=selection,
            random_fraction=random_fraction,
            seed=seed,
            dtype=backbone.dtype_policy,
            name="token_drop",
        )
        self.token_restore = TokenRestore(
            dtype=backbone.dtype_policy, name="token_restore"
        )
        # The backbone's layers, each run with key lengths (fused attention).
        self.encoder_stack = EncoderStack(backbone, attention_dropout)
        self.boundary = first_dropped - 1
        self._architecture = architecture

        # === Config ===
        self.keep_fraction = keep_fraction
        self.keep_tokens = keep_tokens
        self.first_dropped_layer = first_dropped
        self.selection = selection
        self.random_fraction = self.token_drop.random_fraction
        self.initial_importance = self.importance_tracker.initial_importance
        self.beta = self.importance_tracker.beta
        self.always_keep_ids = list(self.importance_tracker.always_keep_ids)
        self.always_drop_ids = list(self.importance_tracker.always_drop_ids)
        self.seed = seed
        self.attention_dropout = attention_dropout
        self.built = True

    def call(self, inputs, training=None, return_kept_positions=False):
        stack = self.encoder_stack
        inputs = stack.inputs(inputs)
        padding_mask = inputs[self._architecture.padding_mask_key]
        token_ids = inputs[self._architecture.token_ids_key]
        lengths = key_lengths(padding_mask)

        x = stack.embeddings(inputs, training=training)
        for index in range(self.boundary):
            x = stack.layer(index, x, x, lengths, training=training)
        scores = self.importance_tracker(token_ids, padding_mask)
        # In sequence order: each row's valid kept tokens come first.
        kept, kept_padding_mask, kept_positions = self.token_drop(
            x, scores, padding_mask, training=training
        )
        kept_lengths = key_lengths(kept_padding_mask)
        kept = stack.layer(self.boundary, kept, x, lengths, training=training)
        last = len(stack.layers) - 1
        for index in range(self.boundary + 1, last):
            kept = stack.layer(index, kept, kept, kept_lengths, training=training)
        x = self.token_restore(x, kept, kept_positions)
        x = stack.layer(last, x, x, lengths, training=training)
        outputs = self._architecture.outputs(self.backbone, x)
        if return_kept_positions:
            return outputs, kept_positions
        return outputs

    @property
    def boundary_layer(self):
        """The layer whose kept tokens attend to all tokens."""
        return self.encoder_stack.layers[self.boundary]

    @property
    def kept_token_layers(self):
        """The layers that see the kept tokens only."""
        return self.encoder_stack.layers[self.boundary + 1 : -1]

    @property
    def last_layer(self):
        return self.encoder_stack.layers[-1]

    def full_length(self, inputs, training=None):
        """The wrapped backbone's outputs, every token in every layer, with
        the same attention path (what evaluation and ScTD's full model run).
        """
        return self.encoder_stack(inputs, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "backbone": keras.layers.serialize(self.backbone),
                **options_of(self, BACKBONE),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.layers.deserialize(config["backbone"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="tokdrop_keras")
class TokenDropBertBackbone(TokenDropBackbone):
    """`TokenDropBackbone` for a `keras_hub.models.BertBackbone` only.

    Kept for code and saved files from before `TokenDropBackbone`; takes
    the same arguments.

    Example:
    ```python
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16
    )
    model = tokdrop_keras.TokenDropBertBackbone(backbone, keep_tokens=4)
    assert model.first_dropped_layer == 2
    ```
    """

    def __init__(self, backbone, **kwargs):
        check_backbone_class(backbone, keras_hub.models.BertBackbone)
        super().__init__(backbone, **kwargs)
