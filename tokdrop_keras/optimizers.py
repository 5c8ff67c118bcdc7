import keras


@keras.saving.register_keras_serializable(package="tokdrop_keras")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """BERT's learning rate: linear warmup to a peak, then linear decay to 0.

    The decay is Keras' `PolynomialDecay` (power 1); the warmup ramps from 0.

    Args:
        peak_learning_rate: float.
        total_steps: int. Steps until the rate reaches 0.
        warmup_steps: int. Steps of linear warmup.

    Example:
    ```python
    from tokdrop_keras.optimizers import WarmupLinearDecay
    schedule = WarmupLinearDecay(1e-3, total_steps=100, warmup_steps=10)
    rates = [float(schedule(step)) for step in (0, 5, 10, 55, 100)]
    np.testing.assert_allclose(rates, [0.0, 5e-4, 1e-3, 5e-4, 0.0], atol=1e-9)
    ```
    """

    def __init__(self, peak_learning_rate, total_steps, warmup_steps):
        if not 0 <= warmup_steps < total_steps:
            raise ValueError(
                "Need 0 <= warmup_steps < total_steps. Received: "
                f"warmup_steps={warmup_steps}, total_steps={total_steps}"
            )
        self.peak_learning_rate = peak_learning_rate
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps
        self.decay = keras.optimizers.schedules.PolynomialDecay(
            peak_learning_rate,
            decay_steps=total_steps - warmup_steps,
            end_learning_rate=0.0,
            power=1.0,
        )

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        warmup = self.peak_learning_rate * step / max(self.warmup_steps, 1)
        return keras.ops.where(
            step < self.warmup_steps,
            warmup,
            self.decay(step - self.warmup_steps),
        )

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
        }


@keras.saving.register_keras_serializable(package="tokdrop_keras")
class BertAdamW(keras.optimizers.AdamW):
    """Keras' `AdamW` whose weight-decay exclusions are part of its config.

    `keras.optimizers.AdamW.exclude_from_weight_decay` is not saved with the
    optimizer, so a reloaded `.keras` model would decay LayerNorm parameters
    and biases; here the excluded name parts are a constructor argument.

    Args:
        exclude_from_weight_decay_names: list of strings; variables whose
            path contains one of them get no weight decay.
        **kwargs: arguments of `keras.optimizers.AdamW`.

    Example:
    ```python
    from tokdrop_keras.optimizers import BertAdamW
    optimizer = BertAdamW(
        learning_rate=1e-4, weight_decay=0.01,
        exclude_from_weight_decay_names=["bias", "gamma", "beta"],
    )
    reloaded = BertAdamW.from_config(optimizer.get_config())
    assert reloaded.exclude_from_weight_decay_names == ["bias", "gamma", "beta"]
    ```
    """

    def __init__(self, exclude_from_weight_decay_names=(), **kwargs):
        super().__init__(**kwargs)
        self.exclude_from_weight_decay_names = list(
            exclude_from_weight_decay_names
        )
        self.exclude_from_weight_decay(
            var_names=self.exclude_from_weight_decay_names
        )

    def get_config(self):
        config = super().get_config()
        config["exclude_from_weight_decay_names"] = (
            self.exclude_from_weight_decay_names
        )
        return config


def bert_adamw(
    learning_rate=1e-4, total_steps=None, warmup_steps=0, weight_decay=0.01
):
    """BERT's optimiser: AdamW with warmup and linear decay, no weight decay
    on LayerNorm parameters and biases, gradients clipped to norm 1.

    Args:
        learning_rate: float. Peak learning rate.
        total_steps: int. Training steps; `None` keeps the rate constant.
        warmup_steps: int. Warmup steps.
        weight_decay: float.

    Returns:
        A `BertAdamW` (a `keras.optimizers.AdamW`).

    Example:
    ```python
    from tokdrop_keras.optimizers import bert_adamw
    optimizer = bert_adamw(1e-4, total_steps=10_000, warmup_steps=1_000)
    assert optimizer.global_clipnorm == 1.0 and optimizer.weight_decay == 0.01
    assert float(optimizer.learning_rate) == 0.0  # warming up from 0
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(np.ones((8, 4)), np.ones((8, 1)), epochs=1, verbose=0)
    assert int(optimizer.iterations) == 1
    np.testing.assert_allclose(float(optimizer.learning_rate), 1e-7)  # 1e-4 / 1000
    ```
    """
    if total_steps is not None:
        learning_rate = WarmupLinearDecay(
            learning_rate, total_steps, warmup_steps
        )
    return BertAdamW(
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        epsilon=1e-6,
        global_clipnorm=1.0,
        # Keras' LayerNormalization names its parameters gamma and beta.
        exclude_from_weight_decay_names=["bias", "gamma", "beta"],
    )
