import keras
from keras import ops


class ImportanceUpdate(keras.metrics.Metric):
    """Updates an `ImportanceTracker` from the MLM losses of a train step.

    A metric, so that the table update runs inside the compiled train step
    with no extra pass over the data. It reports `kept_mask_fraction`: the
    share of (weighted) masked predictions whose token stayed in the
    token-dropped layers. Resetting the metric never resets the table.

    Args:
        importance_tracker: the `ImportanceTracker` to update.
        name: str. The metric name in the logs.
        **kwargs: other keyword arguments of `keras.metrics.Metric`.

    Example:
    ```python
    from tokdrop_keras.metrics.importance_update import ImportanceUpdate
    tracker = tokdrop_keras.ImportanceTracker(vocabulary_size=10, beta=0.5)
    metric = ImportanceUpdate(tracker)
    metric.update_state(
        mask_ids=np.array([[3, 4]]), losses=np.array([[2.0, 1.0]]),
        sample_weight=np.array([[1.0, 1.0]]),
        kept_mask=np.array([[True, False]]),
    )
    assert float(metric.result()) == 0.5  # one of the two stayed
    importance = tracker.importance.numpy()
    assert (importance[3], importance[4]) == (6.0, 5.5)  # 0.5 * 10 + 0.5 * loss
    metric.reset_state()
    assert float(metric.result()) == 0.0
    assert tracker.importance.numpy()[3] == 6.0  # the table is kept
    ```
    """

    def __init__(
        self, importance_tracker, name="kept_mask_fraction", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        self.importance_tracker = importance_tracker
        self.kept_predictions = self.add_variable(
            shape=(), initializer="zeros", name="kept_predictions"
        )
        self.predictions = self.add_variable(
            shape=(), initializer="zeros", name="predictions"
        )

    def update_state(self, mask_ids, losses, sample_weight, kept_mask):
        self.importance_tracker.update(mask_ids, losses, sample_weight)
        predicted = ops.cast(ops.cast(sample_weight, "float32") > 0, "float32")
        self.kept_predictions.assign_add(
            ops.sum(predicted * ops.cast(kept_mask, "float32"))
        )
        self.predictions.assign_add(ops.sum(predicted))

    def result(self):
        return ops.divide_no_nan(self.kept_predictions, self.predictions)

    def reset_state(self):
        self.kept_predictions.assign(0.0)
        self.predictions.assign(0.0)
