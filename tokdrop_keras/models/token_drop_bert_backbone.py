import keras
import keras_hub

from tokdrop_keras.layers.encoder_cross_attention import encoder_cross_attention
from tokdrop_keras.layers.importance_tracker import ImportanceTracker
from tokdrop_keras.layers.token_drop import TokenDrop
from tokdrop_keras.layers.token_restore import TokenRestore

BACKBONE_INPUTS = ("token_ids", "segment_ids", "padding_mask")


@keras.saving.register_keras_serializable(package="tokdrop_keras")
class TokenDropBertBackbone(keras.Model):
    """A keras-hub `BertBackbone` that skips unimportant tokens in its middle.

    Wraps an existing `keras_hub.models.BertBackbone` and shares its layers
    and weights (nothing is copied), so training this model trains the
    wrapped backbone, which stays an ordinary full-length BERT for
    fine-tuning. For `L` layers and `first_dropped_layer = f` (default
    `L // 2`):

    - layers `0 .. f-2` run on all tokens;
    - layer `f-1` is the boundary: the kept tokens (queries) attend to all
      tokens (keys and values);
    - layers `f .. L-2` run on the kept tokens only;
    - the dropped tokens' states from before the boundary are put back in
      place, and the last layer runs on all tokens again.

    Each sequence keeps its `keep_tokens` (or `keep_fraction` of its length)
    highest-scoring tokens, scored by `importance_tracker`, an
    `ImportanceTracker` that `TokenDropBertMaskedLM` updates while training.

    Args:
        backbone: a `keras_hub.models.BertBackbone` with at least 2 layers.
        keep_fraction: float in `(0, 1]`. Share of each sequence kept.
            Defaults to `0.5`, as in the paper.
        keep_tokens: int. Number of tokens kept per sequence; overrides
            `keep_fraction`. Equal to the sequence length keeps every token.
        first_dropped_layer: int in `[1, L-1]`. The first layer that sees
            only kept tokens; the boundary is the layer before it.
        initial_importance: float. Initial table value (see
            `ImportanceTracker`).
        beta: float. EMA decay of the table (see `ImportanceTracker`).
        always_keep_ids: ids always kept (e.g. `[CLS]`, `[SEP]`, `[MASK]`,
            `[UNK]`); `tokdrop_keras.special_token_ids(tokenizer)` gives them.
        always_drop_ids: ids always dropped (e.g. `[PAD]`).
        seed: int. Seed of the random tie-breaking in training.
        **kwargs: other keyword arguments of `keras.Model`.

    Call arguments:
        inputs: dict of `token_ids`, `segment_ids`, `padding_mask`, each
            `[batch, seq]` with a static `seq`.
        training: bool.
        return_kept_positions: bool. Also return the kept positions
            `[batch, keep]`.

    Returns:
        A dict with `sequence_output` `[batch, seq, hidden]` and
        `pooled_output` `[batch, hidden]`, as `BertBackbone`; with
        `return_kept_positions`, a tuple `(outputs, kept_positions)`.

    Example:
    ```python
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=100, num_layers=4, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=16,
    )
    model = tokdrop_keras.TokenDropBertBackbone(
        backbone, always_keep_ids=[1, 2, 3, 4], always_drop_ids=[0]
    )
    outputs = model({
        "token_ids": np.random.randint(5, 100, size=(2, 16)),
        "segment_ids": np.zeros((2, 16), "int32"),
        "padding_mask": np.ones((2, 16), "int32"),
    })
    outputs["sequence_output"].shape  # (2, 16, 16)
    ```
    """

    def __init__(
        self,
        backbone,
        keep_fraction=0.5,
        keep_tokens=None,
        first_dropped_layer=None,
        initial_importance=10.0,
        beta=0.995,
        always_keep_ids=(),
        always_drop_ids=(),
        seed=None,
        **kwargs,
    ):
        if not isinstance(backbone, keras_hub.models.BertBackbone):
            raise ValueError(
                "`backbone` must be a `keras_hub.models.BertBackbone`. "
                f"Received: {type(backbone).__name__}"
            )
        num_layers = backbone.num_layers
        if num_layers < 2:
            raise ValueError(
                "Token dropping needs a backbone of at least 2 layers (a "
                "boundary layer and a last full layer). Received: "
                f"num_layers={num_layers}"
            )
        if first_dropped_layer is None:
            first_dropped_layer = num_layers // 2
        if not 1 <= first_dropped_layer <= num_layers - 1:
            raise ValueError(
                f"`first_dropped_layer` must be in [1, {num_layers - 1}] for "
                f"a backbone of {num_layers} layers. Received: "
                f"first_dropped_layer={first_dropped_layer}"
            )
        if keep_tokens is not None and (
            isinstance(keep_tokens, bool)
            or not isinstance(keep_tokens, int)
            or not 0 < keep_tokens <= backbone.max_sequence_length
        ):
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
            seed=seed,
            dtype=backbone.dtype_policy,
            name="token_drop",
        )
        self.token_restore = TokenRestore(
            dtype=backbone.dtype_policy, name="token_restore"
        )
        # The backbone's own graph up to the boundary: embeddings and the
        # layers that see every token, sharing the backbone's weights.
        boundary = first_dropped_layer - 1
        self.full_length_encoder = keras.Model(
            backbone.input,
            (
                backbone.transformer_layers[boundary - 1].output
                if boundary > 0
                else backbone.embeddings_dropout.output
            ),
            name="full_length_encoder",
        )
        self.boundary_layer = backbone.transformer_layers[boundary]
        self.kept_token_layers = backbone.transformer_layers[
            first_dropped_layer:-1
        ]
        self.last_layer = backbone.transformer_layers[-1]

        # === Config ===
        self.keep_fraction = keep_fraction
        self.keep_tokens = keep_tokens
        self.first_dropped_layer = first_dropped_layer
        self.initial_importance = initial_importance
        self.beta = beta
        self.always_keep_ids = list(self.importance_tracker.always_keep_ids)
        self.always_drop_ids = list(self.importance_tracker.always_drop_ids)
        self.seed = seed
        self.built = True

    def call(self, inputs, training=None, return_kept_positions=False):
        missing = [name for name in BACKBONE_INPUTS if name not in inputs]
        if missing:
            raise ValueError(
                f"Missing backbone inputs {missing}; expected "
                f"{list(BACKBONE_INPUTS)}."
            )
        inputs = {name: inputs[name] for name in BACKBONE_INPUTS}
        shapes = {name: tuple(inputs[name].shape) for name in BACKBONE_INPUTS}
        if len(set(shapes.values())) != 1:
            raise ValueError(
                f"Backbone inputs must share one `[batch, seq]` shape. "
                f"Received: {shapes}"
            )
        padding_mask = inputs["padding_mask"]

        x = self.full_length_encoder(inputs, training=training)
        scores = self.importance_tracker(inputs["token_ids"], padding_mask)
        kept, kept_padding_mask, kept_positions = self.token_drop(
            x, scores, padding_mask, training=training
        )
        kept = encoder_cross_attention(
            self.boundary_layer, kept, x, padding_mask, training=training
        )
        for layer in self.kept_token_layers:
            kept = layer(kept, padding_mask=kept_padding_mask, training=training)
        x = self.token_restore(x, kept, kept_positions)
        x = self.last_layer(x, padding_mask=padding_mask, training=training)
        outputs = {
            "sequence_output": x,
            "pooled_output": self.backbone.pooled_dense(
                x[:, self.backbone.cls_token_index, :]
            ),
        }
        if return_kept_positions:
            return outputs, kept_positions
        return outputs

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "backbone": keras.layers.serialize(self.backbone),
                "keep_fraction": self.keep_fraction,
                "keep_tokens": self.keep_tokens,
                "first_dropped_layer": self.first_dropped_layer,
                "initial_importance": self.initial_importance,
                "beta": self.beta,
                "always_keep_ids": self.always_keep_ids,
                "always_drop_ids": self.always_drop_ids,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.layers.deserialize(config["backbone"])
        return cls(**config)
