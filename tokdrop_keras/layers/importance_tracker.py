import keras
import numpy as np
from keras import ops

from tokdrop_keras.backend import sum_over_replicas

# Scores given to tokens whose fate does not depend on the table: beyond any
# finite table value, so top-k always ranks them first / last.
ALWAYS_KEEP_SCORE = float("inf")
ALWAYS_DROP_SCORE = float("-inf")

# The table's defaults (Hou et al., 2022): above any early MLM loss, so ids
# not yet seen are kept first; a slow EMA.
DEFAULT_INITIAL_IMPORTANCE = 10.0
DEFAULT_BETA = 0.995


@keras.saving.register_keras_serializable(package="tokdrop_keras")
class ImportanceTracker(keras.layers.Layer):
    """A per-vocabulary table of token importance: the EMA of masked-LM loss.

    Token dropping keeps, in the middle layers, the tokens that are hardest to
    predict. A token id's importance is an exponential moving average of the
    masked-LM loss of its predictions, folded in every training step from the
    losses the MLM objective already computes (`update`). Calling the layer
    turns token ids into selection scores (`call`).

    Special ids are handled by rule, not by the table: `always_keep_ids`
    (e.g. `[CLS]`, `[SEP]`, `[MASK]`, `[UNK]`) always score highest,
    `always_drop_ids` (e.g. `[PAD]`) and padding positions always score
    lowest, whatever the table holds; their table entries are never updated.

    The table is a non-trainable float32 variable (also under mixed
    precision), saved with the model. Under `tf.distribute` the per-id loss
    sums are all-reduced before the update, so every replica holds the same
    table.

    Args:
        vocabulary_size: int. Number of token ids.
        initial_importance: float. Starting value of every entry. Defaults to
            `10.0`, above any early MLM loss, so unseen ids are kept first.
        beta: float in `[0, 1)`. EMA decay: `new = beta * old + (1 - beta) *
            batch_mean_loss`. Defaults to `0.995`.
        always_keep_ids: ids that are always kept.
        always_drop_ids: ids that are always dropped.
        **kwargs: other keyword arguments of `keras.layers.Layer`.

    Example:
    ```python
    tracker = tokdrop_keras.ImportanceTracker(
        vocabulary_size=8, always_keep_ids=[2], always_drop_ids=[0]
    )
    token_ids = np.array([[2, 5, 5, 7, 0]])
    tracker.update(token_ids, losses=np.array([[1.0, 3.0, 5.0, 2.0, 9.0]]),
                   weights=np.array([[1.0, 1.0, 1.0, 1.0, 0.0]]))
    tracker(token_ids, padding_mask=np.array([[1, 1, 1, 1, 0]]))
    # id 5 moved towards 4.0 (the mean of its two losses), id 7 towards 2.0;
    # [CLS]=2 scores +inf, [PAD]=0 and padding score -inf.
    ```
    """

    def __init__(
        self,
        vocabulary_size,
        initial_importance=DEFAULT_INITIAL_IMPORTANCE,
        beta=DEFAULT_BETA,
        always_keep_ids=(),
        always_drop_ids=(),
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(vocabulary_size, int) or vocabulary_size <= 0:
            raise ValueError(
                "`vocabulary_size` must be a positive int. Received: "
                f"vocabulary_size={vocabulary_size!r}"
            )
        if not (
            isinstance(initial_importance, (int, float))
            and np.isfinite(initial_importance)
            and initial_importance > 0
        ):
            raise ValueError(
                "`initial_importance` must be a finite positive number. "
                f"Received: initial_importance={initial_importance!r}"
            )
        if not 0.0 <= beta < 1.0:
            raise ValueError(
                f"`beta` must be in [0, 1). Received: beta={beta}"
            )
        always_keep_ids = [int(i) for i in always_keep_ids]
        always_drop_ids = [int(i) for i in always_drop_ids]
        for name, ids in (
            ("always_keep_ids", always_keep_ids),
            ("always_drop_ids", always_drop_ids),
        ):
            outside = [i for i in ids if not 0 <= i < vocabulary_size]
            if outside:
                raise ValueError(
                    f"`{name}` holds ids outside the vocabulary "
                    f"[0, {vocabulary_size}): {outside}"
                )
        both = sorted(set(always_keep_ids) & set(always_drop_ids))
        if both:
            raise ValueError(
                "Ids cannot be both always kept and always dropped: "
                f"{both}"
            )

        self.vocabulary_size = vocabulary_size
        self.initial_importance = float(initial_importance)
        self.beta = float(beta)
        self.always_keep_ids = always_keep_ids
        self.always_drop_ids = always_drop_ids

        self._is_always_kept = np.zeros(vocabulary_size, dtype=bool)
        self._is_always_kept[always_keep_ids] = True
        self._is_always_dropped = np.zeros(vocabulary_size, dtype=bool)
        self._is_always_dropped[always_drop_ids] = True

        # Float32 whatever the dtype policy: EMAs of losses need the range.
        # "only_first_replica": replicas compute identical updates (the
        # sums are all-reduced), so one copy's write is every copy's.
        self.importance = self.add_weight(
            name="importance",
            shape=(vocabulary_size,),
            initializer=keras.initializers.Constant(self.initial_importance),
            dtype="float32",
            trainable=False,
            autocast=False,
            aggregation="only_first_replica",
        )
        self.prediction_counts = self.add_weight(
            name="prediction_counts",
            shape=(vocabulary_size,),
            initializer="zeros",
            dtype="int32",
            trainable=False,
            autocast=False,
            aggregation="only_first_replica",
        )
        self.built = True

    def call(self, token_ids, padding_mask):
        token_ids = ops.convert_to_tensor(token_ids, "int32")
        padding_mask = ops.cast(padding_mask, "bool")
        if tuple(token_ids.shape) != tuple(padding_mask.shape):
            raise ValueError(
                "`token_ids` and `padding_mask` must have the same shape. "
                f"Received: token_ids.shape={tuple(token_ids.shape)}, "
                f"padding_mask.shape={tuple(padding_mask.shape)}"
            )
        scores = ops.take(ops.convert_to_tensor(self.importance), token_ids)
        kept = ops.take(self._is_always_kept, token_ids)
        dropped = ops.logical_or(
            ops.take(self._is_always_dropped, token_ids),
            ops.logical_not(padding_mask),
        )
        scores = ops.where(kept, ALWAYS_KEEP_SCORE, scores)
        return ops.where(dropped, ALWAYS_DROP_SCORE, scores)

    def update(self, token_ids, losses, weights):
        """Folds one batch of per-prediction MLM losses into the table.

        For every id with total weight > 0 in the batch (over all replicas),
        `new = beta * old + (1 - beta) * weighted_mean_loss(id)`; duplicate
        ids are averaged, zero-weight predictions and non-finite losses
        are ignored, special ids and ids not predicted keep their value.

        Args:
            token_ids: int tensor, the predicted (target) ids, any shape.
            losses: float tensor of the same shape, per-prediction losses.
            weights: float tensor of the same shape, per-prediction weights.
        """
        ids = ops.reshape(ops.convert_to_tensor(token_ids, "int32"), (-1,))
        losses = ops.reshape(ops.cast(losses, "float32"), (-1,))
        weights = ops.reshape(ops.cast(weights, "float32"), (-1,))
        if not (ids.shape[0] == losses.shape[0] == weights.shape[0]):
            raise ValueError(
                "`token_ids`, `losses` and `weights` must have the same "
                f"size. Received sizes {ids.shape[0]}, {losses.shape[0]}, "
                f"{weights.shape[0]}"
            )
        # A non-finite loss (a diverging step) never enters the table.
        predicted = ops.logical_and(weights > 0, ops.isfinite(losses))
        # `where`, not a product: a padded slot's loss may be inf or nan.
        weighted_losses = ops.where(predicted, losses * weights, 0.0)
        weights = ops.where(predicted, weights, 0.0)
        sums = ops.stack(
            [
                ops.segment_sum(v, ids, num_segments=self.vocabulary_size)
                for v in (weighted_losses, weights, ops.cast(predicted, "float32"))
            ]
        )
        loss_sums, weight_sums, counts = ops.unstack(sum_over_replicas(sums))

        updated = ops.logical_and(
            weight_sums > 0,
            np.logical_not(self._is_always_kept | self._is_always_dropped),
        )
        mean_losses = loss_sums / ops.where(updated, weight_sums, 1.0)
        old = ops.convert_to_tensor(self.importance)
        new = self.beta * old + (1.0 - self.beta) * mean_losses
        self.importance.assign(ops.where(updated, new, old))
        self.prediction_counts.assign_add(
            ops.where(updated, ops.cast(counts, "int32"), 0)
        )

    def compute_output_shape(self, token_ids_shape, padding_mask_shape=None):
        return token_ids_shape

    def compute_output_spec(self, token_ids, padding_mask=None):
        return keras.KerasTensor(token_ids.shape, dtype="float32")

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "initial_importance": self.initial_importance,
                "beta": self.beta,
                "always_keep_ids": self.always_keep_ids,
                "always_drop_ids": self.always_drop_ids,
            }
        )
        return config
