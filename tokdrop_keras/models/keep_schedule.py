"""Keep schedules: the kept fraction as a function of the training step.

A schedule is piecewise constant over a small set of fractions, so each
compiled train step keeps a static number of tokens: `TokenDropMaskedLM`
traces one train function per fraction (a retrace, once, the first time
a fraction is reached; seconds on a small model) and switches between
them between steps (`TokenDropMaskedLM.fit` adds the callback that does
it). `check_schedule_options` checks a model's (and a config's) schedule
and consistency options; `TrainStepSwitch` is that callback.
"""

import keras
import numpy as np
from keras import ops

from tokdrop_keras.layers.token_drop import DEFAULT_KEEP_FRACTION
from tokdrop_keras.layers.token_drop import kept_token_count

STAGED = "staged"
LINEAR = "linear"
SCHEDULE_KINDS = (STAGED, LINEAR)
DEFAULT_LINEAR_VALUES = 4


def _check_fraction(fraction):
    if isinstance(fraction, bool) or not (
        isinstance(fraction, (int, float, np.floating))
        and 0.0 < float(fraction) <= 1.0
    ):
        raise ValueError(
            "Keep-schedule fractions must be in (0, 1]: a fraction of 0 or "
            "less keeps no token, above 1 more tokens than the sequence "
            f"has. Received: {fraction!r}"
        )
    return float(fraction)


class KeepSchedule:
    """The kept fraction per training step.

    `fractions[i]` is kept from step `boundaries[i - 1]` (0 for the first)
    up to, not including, step `boundaries[i]`; the last fraction to the
    end of training.

    Args:
        fractions: floats in `(0, 1]`, one per stage.
        boundaries: increasing positive ints, the steps at which the next
            stage starts; one fewer than `fractions`.

    Example:
    ```python
    schedule = tokdrop_keras.models.KeepSchedule(
        fractions=[0.75, 0.5, 0.25], boundaries=[100, 200]
    )
    assert [schedule.fraction_at(s) for s in (0, 99, 100, 250)] == [
        0.75, 0.75, 0.5, 0.25
    ]
    same = tokdrop_keras.models.KeepSchedule.from_spec(
        "staged:0.75,0.5,0.25", total_steps=300
    )
    assert same == schedule
    linear = tokdrop_keras.models.KeepSchedule.from_spec(
        "linear:0.75,0.25", total_steps=400
    )
    assert linear.fractions == (0.75, 0.5833, 0.4167, 0.25)
    assert linear.boundaries == (100, 200, 300)
    ```
    """

    def __init__(self, fractions, boundaries=()):
        fractions = tuple(_check_fraction(f) for f in fractions)
        boundaries = tuple(boundaries)
        if not fractions:
            raise ValueError("A keep schedule needs at least one fraction.")
        if len(boundaries) != len(fractions) - 1:
            raise ValueError(
                f"A keep schedule of {len(fractions)} fractions needs "
                f"{len(fractions) - 1} boundaries. Received: {boundaries}"
            )
        if any(
            isinstance(b, bool) or not isinstance(b, (int, np.integer))
            for b in boundaries
        ) or any(b <= a for a, b in zip((0,) + boundaries, boundaries)):
            raise ValueError(
                "Keep-schedule boundaries must be increasing positive "
                f"steps. Received: {boundaries}"
            )
        self.fractions = fractions
        self.boundaries = tuple(int(b) for b in boundaries)

    @classmethod
    def staged(cls, fractions, total_steps):
        """Equal stages of `total_steps`, one per fraction."""
        fractions = list(fractions)
        if total_steps < len(fractions):
            raise ValueError(
                f"{len(fractions)} stages need at least as many steps. "
                f"Received: total_steps={total_steps}"
            )
        boundaries = [
            round(total_steps * i / len(fractions))
            for i in range(1, len(fractions))
        ]
        return cls(fractions, boundaries)

    @classmethod
    def linear(cls, start, end, total_steps, num_values=DEFAULT_LINEAR_VALUES):
        """From `start` to `end` in `num_values` equal stages (a linear
        ramp, rounded to 4 decimals, on a small set of fractions)."""
        start, end = _check_fraction(start), _check_fraction(end)
        if not isinstance(num_values, int) or num_values < 2:
            raise ValueError(
                "A linear keep schedule needs `num_values` >= 2. Received: "
                f"{num_values!r}"
            )
        values = [round(float(v), 4) for v in np.linspace(start, end, num_values)]
        return cls.staged(values, total_steps)

    @classmethod
    def from_spec(cls, spec, total_steps):
        """A schedule from text: `"staged:F1,F2,..."` (equal stages) or
        `"linear:START,END[,NUM_VALUES]"`."""
        kind, _, values = str(spec).partition(":")
        if kind not in SCHEDULE_KINDS or not values:
            raise ValueError(
                f"Unknown keep schedule {spec!r}; expected "
                "'staged:F1,F2,...' or 'linear:START,END[,NUM_VALUES]'."
            )
        try:
            numbers = [float(v) for v in values.split(",")]
        except ValueError:
            raise ValueError(
                f"Keep schedule {spec!r}: the values must be numbers."
            ) from None
        if kind == STAGED:
            return cls.staged(numbers, total_steps)
        if len(numbers) not in (2, 3):
            raise ValueError(
                f"Keep schedule {spec!r}: 'linear:' takes START,END and "
                "optionally NUM_VALUES."
            )
        num_values = int(numbers[2]) if len(numbers) == 3 else DEFAULT_LINEAR_VALUES
        return cls.linear(numbers[0], numbers[1], total_steps, num_values)

    def fraction_at(self, step):
        """The fraction kept at training step `step` (0-based)."""
        stage = sum(step >= boundary for boundary in self.boundaries)
        return self.fractions[stage]

    def check_sequence_length(self, sequence_length):
        """Raises if a fraction keeps no token of `sequence_length`."""
        for fraction in self.fractions:
            if round(fraction * sequence_length) < 1:
                raise ValueError(
                    f"Keep fraction {fraction} keeps no token of a "
                    f"{sequence_length}-token sequence."
                )

    def kept_tokens(self, sequence_length):
        """The distinct numbers of kept tokens (one compiled step each)."""
        return sorted(
            {kept_token_count(sequence_length, f) for f in self.fractions}
        )

    def get_config(self):
        return {"fractions": list(self.fractions), "boundaries": list(self.boundaries)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return isinstance(other, KeepSchedule) and self.get_config() == other.get_config()

    def __repr__(self):
        return (
            f"KeepSchedule(fractions={list(self.fractions)}, "
            f"boundaries={list(self.boundaries)})"
        )


def check_schedule_options(
    token_drop, keep_schedule, keep_fraction, keep_tokens,
    consistency_weight, consistency_every,
):
    """Checks the keep-schedule and consistency options of a
    `TokenDropMaskedLM` (and of a `PretrainConfig`, before any training).

    Args:
        token_drop: bool. False for the baseline, which takes neither option.
        keep_schedule: a `KeepSchedule`, its config dict, or None.
        keep_fraction: float. The kept fraction without a schedule (with
            one: the default, or one of the schedule's fractions).
        keep_tokens: int or None. A fixed K, exclusive with a schedule.
        consistency_weight: float >= 0. ScTD's KL weight; 0 is off.
        consistency_every: int >= 1. Steps between consistency steps.

    Returns:
        `(keep_schedule, keep_fraction)`: the schedule as a `KeepSchedule`
        (or None) and the fraction the first step keeps.

    Raises:
        ValueError: naming the first bad option.

    Example:
    ```python
    from tokdrop_keras.models.keep_schedule import check_schedule_options
    schedule = tokdrop_keras.models.KeepSchedule.staged((0.75, 0.5), 100)
    assert check_schedule_options(
        True, schedule.get_config(), 0.5, None, 0.0, 1
    ) == (schedule, 0.75)
    try:
        check_schedule_options(False, None, 0.5, None, 1.0, 4)
    except ValueError as error:
        assert "baseline" in str(error)
    ```
    """
    if isinstance(consistency_weight, bool) or not (
        isinstance(consistency_weight, (int, float)) and consistency_weight >= 0
    ):
        raise ValueError(
            "`consistency_weight` must be a number >= 0. Received: "
            f"consistency_weight={consistency_weight!r}"
        )
    if isinstance(consistency_every, bool) or not (
        isinstance(consistency_every, int) and consistency_every >= 1
    ):
        raise ValueError(
            "`consistency_every` must be an int >= 1. Received: "
            f"consistency_every={consistency_every!r}"
        )
    if keep_schedule is None:
        options = consistency_weight > 0
    else:
        if isinstance(keep_schedule, dict):
            keep_schedule = KeepSchedule.from_config(keep_schedule)
        if not isinstance(keep_schedule, KeepSchedule):
            raise ValueError(
                "`keep_schedule` must be a `KeepSchedule`, its config dict "
                f"or None. Received: {keep_schedule!r}"
            )
        # A saved model's fraction is one of its schedule's.
        if keep_tokens is not None or keep_fraction not in (
            DEFAULT_KEEP_FRACTION, *keep_schedule.fractions
        ):
            raise ValueError(
                "Pass `keep_schedule` or a fixed `keep_fraction` / "
                "`keep_tokens`, not both: the schedule sets the kept fraction."
            )
        keep_fraction = keep_schedule.fraction_at(0)
        options = True
    if options and not token_drop:
        raise ValueError(
            "`keep_schedule` and `consistency_weight` apply to token "
            "dropping; the baseline (`token_drop=False`) takes neither."
        )
    return keep_schedule, keep_fraction


class TrainStepSwitch(keras.callbacks.Callback):
    """Before each step, switches the model to the train step its
    `keep_schedule` and `consistency_every` ask for
    (`TokenDropMaskedLM.use_train_step`). `TokenDropMaskedLM.fit` adds it.

    The step is counted here from the optimizer's iterations at the start
    of `fit` (read once: on JAX, variables are only synced between
    epochs), with one optimizer step per batch.

    Example:
    ```python
    from tokdrop_keras.models.keep_schedule import TrainStepSwitch
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=20, max_sequence_length=8, num_layers=2
    )
    model = tokdrop_keras.TokenDropMaskedLM(
        backbone, consistency_weight=1.0, consistency_every=2
    )
    model.compile()
    switch = TrainStepSwitch()
    switch.set_model(model)
    switch.on_train_begin()
    switch.on_train_batch_begin(0)
    assert model.train_step_at(0) == (None, True)
    assert model.train_step_at(1) == (None, False)
    ```
    """

    def on_train_begin(self, logs=None):
        self.step = int(ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_train_batch_begin(self, batch, logs=None):
        fraction, consistency = self.model.train_step_at(self.step)
        self.model.use_train_step(fraction, consistency)

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
