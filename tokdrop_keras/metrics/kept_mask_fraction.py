import keras
from keras import ops


class KeptMaskFraction(keras.metrics.Metric):
    """The share of masked predictions whose token stayed in the middle layers.

    `kept_mask_fraction` in the logs of `TokenDropMaskedLM.fit`: of the
    (weighted-in) masked predictions, the share whose position the
    token-dropped layers kept. 1.0 for the full-length baseline.

    Args:
        name: str. The metric name in the logs.
        **kwargs: other keyword arguments of `keras.metrics.Metric`.

    Example:
    ```python
    from tokdrop_keras.metrics.kept_mask_fraction import KeptMaskFraction
    metric = KeptMaskFraction()
    metric.update_state(
        kept_mask=np.array([[True, False, False]]),
        sample_weight=np.array([[1.0, 1.0, 0.0]]),  # the third is padding
    )
    assert float(metric.result()) == 0.5  # one of the two stayed
    metric.reset_state()
    assert float(metric.result()) == 0.0
    ```
    """

    def __init__(self, name="kept_mask_fraction", **kwargs):
        super().__init__(name=name, **kwargs)
        self.kept_predictions = self.add_variable(
            shape=(), initializer="zeros", name="kept_predictions"
        )
        self.predictions = self.add_variable(
            shape=(), initializer="zeros", name="predictions"
        )

    def update_state(self, kept_mask, sample_weight):
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
