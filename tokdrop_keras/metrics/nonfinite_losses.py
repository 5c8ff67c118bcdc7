import keras
from keras import ops


class NonFiniteLosses(keras.metrics.Metric):
    """Counts the (weighted) predictions whose loss was NaN or infinite.

    Their losses never enter the importance table (`ImportanceTracker.update`
    skips them); this count, `nonfinite_losses` in the logs, says how many
    were skipped in the epoch so far. Any count above 0 also makes the
    step's loss non-finite, which stops `tokdrop_keras.pretrain`.

    Args:
        name: str. The metric name in the logs.
        **kwargs: other keyword arguments of `keras.metrics.Metric`.

    Example:
    ```python
    from tokdrop_keras.metrics.nonfinite_losses import NonFiniteLosses
    metric = NonFiniteLosses()
    metric.update_state(
        losses=np.array([[2.0, np.nan, np.inf]]),
        sample_weight=np.array([[1.0, 1.0, 0.0]]),  # the inf is padding
    )
    assert float(metric.result()) == 1.0
    ```
    """

    def __init__(self, name="nonfinite_losses", **kwargs):
        super().__init__(name=name, **kwargs)
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, losses, sample_weight):
        skipped = ops.logical_and(
            ops.cast(sample_weight, "float32") > 0,
            ops.logical_not(ops.isfinite(ops.cast(losses, "float32"))),
        )
        self.count.assign_add(ops.sum(ops.cast(skipped, "float32")))

    def result(self):
        return ops.convert_to_tensor(self.count)

    def reset_state(self):
        self.count.assign(0.0)
