"""Keep schedules: the spec, its errors, and `fit` following it."""

import keras
import numpy as np
import pytest
from tiny_bert import SPECIAL_IDS
from tiny_bert import tiny_backbone
from tiny_bert import tiny_inputs

from tokdrop_keras import TokenDropMaskedLM
from tokdrop_keras.models import KeepSchedule


def test_staged_and_linear_specs():
    staged = KeepSchedule.from_spec("staged:0.75,0.5,0.25", total_steps=90)
    assert staged.fractions == (0.75, 0.5, 0.25)
    assert staged.boundaries == (30, 60)
    assert [staged.fraction_at(s) for s in (0, 29, 30, 59, 60, 1000)] == [
        0.75, 0.75, 0.5, 0.5, 0.25, 0.25
    ]
    linear = KeepSchedule.from_spec("linear:1.0,0.5,3", total_steps=30)
    assert linear.fractions == (1.0, 0.75, 0.5)
    assert linear.boundaries == (10, 20)
    assert linear.kept_tokens(128) == [64, 96, 128]
    assert KeepSchedule.from_config(linear.get_config()) == linear


@pytest.mark.parametrize(
    "spec, message",
    [
        ("cosine:0.5,0.25", "Unknown keep schedule 'cosine:0.5,0.25'"),
        ("staged", "Unknown keep schedule 'staged'"),
        ("staged:0.5,x", "the values must be numbers"),
        ("staged:0.5,0", "fractions must be in (0, 1]"),
        ("staged:1.5,0.5", "fractions must be in (0, 1]"),
        ("linear:0.5,-0.25", "fractions must be in (0, 1]"),
        ("linear:0.5", "'linear:' takes START,END"),
        ("linear:0.5,0.25,1", "`num_values` >= 2"),
    ],
)
def test_bad_specs_are_named(spec, message):
    with pytest.raises(ValueError) as error:
        KeepSchedule.from_spec(spec, total_steps=100)
    assert message in str(error.value)


def test_bad_boundaries_and_zero_tokens_are_named():
    with pytest.raises(ValueError, match="needs 1 boundaries"):
        KeepSchedule([0.5, 0.25], [])
    with pytest.raises(ValueError, match="increasing positive steps"):
        KeepSchedule([0.5, 0.25, 0.1], [20, 10])
    with pytest.raises(ValueError, match="keeps no token of a 128-token"):
        KeepSchedule([0.5, 0.003], [10]).check_sequence_length(128)


def schedule_model(schedule, **kwargs):
    return TokenDropMaskedLM(
        tiny_backbone(), keep_schedule=schedule, seed=1, **SPECIAL_IDS, **kwargs
    )


class KeptTokens(keras.callbacks.Callback):
    """The kept fraction each step runs with."""

    def __init__(self):
        super().__init__()
        self.fractions = []

    def on_train_batch_begin(self, batch, logs=None):
        self.fractions.append(self.model.token_drop_backbone.token_drop.keep_fraction)


def test_fit_follows_the_schedule_with_one_trace_per_fraction():
    x, y, w = tiny_inputs(batch_size=2, num_predictions=3)
    # Every prediction is a [MASK] (always kept): mask some ordinary
    # positions instead, so that the kept share shows the kept count.
    x = dict(x, mask_positions=np.array([[2, 5, 9], [3, 6, 7]], "int32"))
    schedule = KeepSchedule([1.0, 0.25, 1.0], boundaries=[2, 4])
    model = schedule_model(schedule)
    model.compile(jit_compile=False)
    seen = KeptTokens()
    history = model.fit(
        x, y, sample_weight=w, batch_size=2, epochs=6, verbose=0, callbacks=[seen]
    ).history
    assert seen.fractions == [1.0, 1.0, 0.25, 0.25, 1.0, 1.0]
    # Keeping every token keeps every prediction; a quarter (4 of 16,
    # among them [CLS] and [SEP]) keeps fewer.
    kept = history["kept_mask_fraction"]
    assert kept[:2] == [1.0, 1.0] and kept[4:] == [1.0, 1.0]
    assert max(kept[2:4]) < 0.7
    # Two distinct fractions: two traced train steps, reused.
    assert len(model._train_functions) == 2
    # A second fit continues at the optimizer's step (6: the last stage).
    seen.fractions.clear()
    model.fit(x, y, sample_weight=w, batch_size=2, epochs=1, verbose=0, callbacks=[seen])
    assert seen.fractions == [1.0]


def test_a_saved_schedule_round_trips():
    model = schedule_model(KeepSchedule([0.75, 0.25], [10]))
    again = TokenDropMaskedLM.from_config(model.get_config())
    assert again.keep_schedule == model.keep_schedule
    assert again.keep_fraction == 0.75


def test_schedule_errors_at_construction():
    with pytest.raises(ValueError, match="`keep_schedule` or a fixed `keep_fraction` / `keep_tokens`"):
        schedule_model(KeepSchedule([0.5]), keep_tokens=4)
    with pytest.raises(ValueError, match="the baseline"):
        schedule_model(KeepSchedule([0.5]), token_drop=False)
    with pytest.raises(ValueError, match="must be a `KeepSchedule`"):
        schedule_model("staged:0.5")
