import threading

import keras
import tensorflow as tf
from keras import ops
from keras_hub.layers import MaskedLMHead

from tokdrop_keras.layers.importance_tracker import ImportanceTracker
from tokdrop_keras.layers.importance_tracker import _sum_over_replicas
from tokdrop_keras.metrics.importance_update import ImportanceUpdate
from tokdrop_keras.models.token_drop_bert_backbone import BACKBONE_INPUTS
from tokdrop_keras.models.token_drop_bert_backbone import TokenDropBertBackbone
from tokdrop_keras.training.optimizer import bert_adamw

IMPORTANCE_TRACKER_OPTIONS = (
    "initial_importance",
    "beta",
    "always_keep_ids",
    "always_drop_ids",
)
TOKEN_DROP_OPTIONS = IMPORTANCE_TRACKER_OPTIONS + (
    "keep_fraction",
    "keep_tokens",
    "first_dropped_layer",
    "seed",
)


def _has_accelerator():
    return bool(
        tf.config.list_logical_devices("GPU")
        or tf.config.list_logical_devices("TPU")
    )


@keras.saving.register_keras_serializable(package="tokdrop_keras")
class TokenDropBertMaskedLM(keras.Model):
    """BERT masked-LM pretraining with token dropping.

    Inputs and targets are those of `keras_hub.models.BertMaskedLM`, so the
    output of `keras_hub.models.BertMaskedLMPreprocessor` feeds it unchanged:
    `x = {"token_ids", "segment_ids", "padding_mask", "mask_positions"}`,
    `y = mask_ids`, `sample_weight = mask_weights`. The output is the logits
    `[batch, num_predictions, vocabulary_size]` of keras-hub's `MaskedLMHead`,
    tied to the token embedding.

    Tokens are dropped in training only: evaluation and prediction run the
    full-length backbone, the model users fine-tune. The loss is the weighted
    mean of the per-prediction cross-entropies. In training, those same
    per-prediction losses update the importance table
    (through a metric, inside the compiled step), which also reports
    `kept_mask_fraction`. `token_drop=False` is the baseline: the plain
    backbone, through the same loss, table update and train step.

    `.backbone` is the plain `BertBackbone` holding the trained weights (the
    table is not part of it); `.importance_tracker` is the table, saved with
    this model.

    Args:
        backbone: a `keras_hub.models.BertBackbone`.
        token_drop: bool. `False` trains the full-length baseline.
        **token_drop_options: keyword arguments of `TokenDropBertBackbone`
            (`keep_fraction`, `keep_tokens`, `first_dropped_layer`,
            `initial_importance`, `beta`, `always_keep_ids`,
            `always_drop_ids`, `seed`), and `name`.

    Example:
    ```python
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary)
    preprocessor = keras_hub.models.BertMaskedLMPreprocessor(
        tokenizer, sequence_length=64
    )
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(), num_layers=4,
        num_heads=2, hidden_dim=64, intermediate_dim=128,
        max_sequence_length=64,
    )
    model = tokdrop_keras.TokenDropBertMaskedLM(
        backbone, **tokdrop_keras.special_token_ids(tokenizer)
    )
    model.compile()
    model.fit(text_dataset.map(preprocessor).batch(8), epochs=1)
    model.backbone  # a plain BertBackbone, ready to fine-tune
    ```
    """

    def __init__(self, backbone, token_drop=True, name=None, **token_drop_options):
        unknown = sorted(set(token_drop_options) - set(TOKEN_DROP_OPTIONS))
        if unknown:
            raise ValueError(
                f"Unknown token drop options {unknown}; expected some of "
                f"{list(TOKEN_DROP_OPTIONS)}."
            )
        super().__init__(name=name)

        # === Layers ===
        self.backbone = backbone
        if token_drop:
            self.token_drop_backbone = TokenDropBertBackbone(
                backbone, name="token_drop_backbone", **token_drop_options
            )
            self.importance_tracker = self.token_drop_backbone.importance_tracker
        else:
            self.token_drop_backbone = None
            self.importance_tracker = ImportanceTracker(
                vocabulary_size=backbone.vocabulary_size,
                name="importance_tracker",
                **{
                    key: value
                    for key, value in token_drop_options.items()
                    if key in IMPORTANCE_TRACKER_OPTIONS
                },
            )
        self.masked_lm_head = MaskedLMHead(
            vocabulary_size=backbone.vocabulary_size,
            token_embedding=backbone.token_embedding,
            intermediate_activation="gelu",
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            dtype=backbone.dtype_policy,
            name="mlm_head",
        )
        self.masked_lm_head.build((None, None, backbone.hidden_dim))
        self.importance_update = ImportanceUpdate(self.importance_tracker)
        # The forward pass hands the step's kept-prediction mask to
        # `compute_loss`; thread-local because tf.distribute traces each
        # replica in its own thread.
        self._step_state = threading.local()

        # === Config ===
        self.token_drop = token_drop
        self.token_drop_options = token_drop_options
        self.built = True

    def call(self, inputs, training=None):
        missing = [
            name
            for name in BACKBONE_INPUTS + ("mask_positions",)
            if name not in inputs
        ]
        if missing:
            raise ValueError(
                f"Missing inputs {missing}; expected the output of "
                "`keras_hub.models.BertMaskedLMPreprocessor`."
            )
        backbone_inputs = {name: inputs[name] for name in BACKBONE_INPUTS}
        mask_positions = ops.cast(inputs["mask_positions"], "int32")
        if self.token_drop and training:
            outputs, kept_positions = self.token_drop_backbone(
                backbone_inputs, training=training, return_kept_positions=True
            )
            kept_mask = ops.any(
                mask_positions[:, :, None] == kept_positions[:, None, :],
                axis=-1,
            )
        else:
            outputs = self.backbone(backbone_inputs, training=training)
            kept_mask = ops.ones_like(mask_positions, dtype="bool")
        self._step_state.kept_mask = kept_mask
        return self.masked_lm_head(
            outputs["sequence_output"], mask_positions
        )

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y is None:
            raise ValueError(
                "TokenDropBertMaskedLM needs targets `y = mask_ids` (and "
                "`sample_weight = mask_weights`)."
            )
        # Float32 under mixed precision: the table averages these losses.
        losses = keras.losses.sparse_categorical_crossentropy(
            y, ops.cast(y_pred, "float32"), from_logits=True
        )
        if sample_weight is None:
            sample_weight = ops.ones_like(losses)
        weights = ops.cast(sample_weight, "float32")
        weighted_loss_sum = ops.sum(ops.where(weights > 0, losses * weights, 0.0))
        # Normalise by the weight of the global batch: summed over replicas,
        # the gradients are those of the global weighted mean.
        total_weight = _sum_over_replicas(ops.sum(weights))
        loss = ops.divide_no_nan(weighted_loss_sum, total_weight)
        if training:
            self.importance_update.update_state(
                y, losses, weights, self._step_state.kept_mask
            )
        return loss

    def compile(
        self,
        optimizer="auto",
        weighted_metrics="auto",
        jit_compile="auto",
        **kwargs,
    ):
        """Configures the model for pretraining.

        The loss is built in (`compute_loss`); passing `loss` is an error.

        Args:
            optimizer: `"auto"` or a Keras optimizer. `"auto"` is
                `bert_adamw()`: AdamW at a constant 1e-4, weight decay 0.01
                except on LayerNorm parameters and biases.
            weighted_metrics: `"auto"` or a list; `"auto"` reports masked-LM
                `accuracy`.
            jit_compile: bool or `"auto"`. `"auto"` uses XLA on GPU and TPU
                but not on CPU, where XLA was not faster than TensorFlow's
                own kernels for either arm (see the README's step-time
                benchmark).
            **kwargs: other arguments of `keras.Model.compile`.
        """
        if kwargs.get("loss") is not None:
            raise ValueError(
                "TokenDropBertMaskedLM computes its own masked-LM loss; do "
                f"not pass `loss`. Received: loss={kwargs['loss']!r}"
            )
        if optimizer == "auto":
            optimizer = bert_adamw()
        if weighted_metrics == "auto":
            weighted_metrics = [
                keras.metrics.SparseCategoricalAccuracy(name="accuracy")
            ]
        if jit_compile == "auto":
            jit_compile = _has_accelerator()
        super().compile(
            optimizer=optimizer,
            weighted_metrics=weighted_metrics,
            jit_compile=jit_compile,
            **kwargs,
        )

    def compile_from_config(self, config):
        # Keras skips an overridden compile() when loading a `.keras` file;
        # the saved config holds the arguments compile() resolved.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def get_config(self):
        return {
            "name": self.name,
            "backbone": keras.layers.serialize(self.backbone),
            "token_drop": self.token_drop,
            **self.token_drop_options,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.layers.deserialize(config["backbone"])
        return cls(**config)
