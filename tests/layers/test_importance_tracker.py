import numpy as np
import pytest

import keras
from keras_test_case import KerasTestCase

from tokdrop_keras import ImportanceTracker


def make_tracker(**kwargs):
    options = dict(
        vocabulary_size=10,
        initial_importance=10.0,
        beta=0.75,
        always_keep_ids=[2, 3],
        always_drop_ids=[0],
    )
    options.update(kwargs)
    return ImportanceTracker(**options)


def test_update_averages_duplicates_and_ignores_padding_and_specials():
    tracker = make_tracker()
    token_ids = np.array([[5, 5, 7, 2], [5, 8, 0, 9]])
    losses = np.array([[1.0, 3.0, 2.0, 4.0], [5.0, 6.0, 100.0, np.inf]])
    weights = np.array([[1.0, 2.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0]])
    tracker.update(token_ids, losses, weights)

    expected = np.full(10, 10.0, "float32")
    # id 5: weighted mean (1*1 + 3*2 + 5*1) / 4 = 3, not "last write" 5.
    expected[5] = 0.75 * 10.0 + 0.25 * 3.0
    expected[7] = 0.75 * 10.0 + 0.25 * 2.0
    # 2 is always kept, 8 / 0 / 9 have weight 0 (9's loss is inf).
    np.testing.assert_array_equal(tracker.importance.numpy(), expected)
    expected_counts = np.zeros(10, "int32")
    expected_counts[5], expected_counts[7] = 3, 1
    np.testing.assert_array_equal(
        tracker.prediction_counts.numpy(), expected_counts
    )

    tracker.update(np.array([5, 7]), np.array([8.25, 0.0]), np.array([1, 1]))
    expected[5] = 0.75 * 8.25 + 0.25 * 8.25
    expected[7] = 0.75 * 8.0
    np.testing.assert_array_equal(tracker.importance.numpy(), expected)


def test_scores_follow_the_table_except_special_ids_and_padding():
    tracker = make_tracker()
    table = np.array(
        [5.0, -3.0, 1e30, -1e30, 7.0, 1e30, -1e30, 0.5, 2.0, 3.0], "float32"
    )
    tracker.importance.assign(table)
    token_ids = np.array([[2, 6, 5, 0, 3], [9, 3, 4, 7, 8]])
    padding_mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    scores = np.asarray(tracker(token_ids, padding_mask))
    inf = np.inf
    np.testing.assert_array_equal(
        scores,
        np.array(
            [[inf, -1e30, 1e30, -inf, inf], [3.0, inf, 7.0, -inf, -inf]],
            "float32",
        ),
    )
    assert scores.dtype == np.float32


def test_non_finite_losses_never_enter_the_table():
    tracker = make_tracker()
    token_ids = np.array([5, 6, 7, 7])
    losses = np.array([np.nan, np.inf, 2.0, np.nan], "float32")
    tracker.update(token_ids, losses, np.ones(4))
    expected = np.full(10, 10.0, "float32")
    expected[7] = 0.75 * 10.0 + 0.25 * 2.0  # the finite one of id 7 only
    np.testing.assert_array_equal(tracker.importance.numpy(), expected)
    assert tracker.prediction_counts.numpy()[[5, 6, 7]].tolist() == [0, 0, 1]
    # A later finite update of the same ids works as on a fresh table.
    tracker.update(np.array([5]), np.array([4.0]), np.array([1.0]))
    assert tracker.importance.numpy()[5] == 0.75 * 10.0 + 0.25 * 4.0
    assert np.all(np.isfinite(tracker.importance.numpy()))


class TestImportanceTrackerLayer(KerasTestCase):
    def test_layer_contract(self):
        scores = self.run_layer_test(
            ImportanceTracker,
            dict(
                vocabulary_size=10, beta=0.75, always_keep_ids=[2],
                always_drop_ids=[0], name="tracker",
            ),
            (np.array([[2, 5, 0]], "int32"), np.array([[1, 1, 1]], "int32")),
            expected_output_shape=(1, 3),
            # Scores are float32 whatever the policy (the table is).
            run_precision_test=False,
        )
        np.testing.assert_array_equal(scores, [[np.inf, 10.0, -np.inf]])
        tracker = ImportanceTracker(10, dtype="mixed_bfloat16")
        assert tracker.importance.dtype == "float32"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"vocabulary_size": 0}, "vocabulary_size=0"),
        ({"initial_importance": float("nan")}, "initial_importance=nan"),
        ({"initial_importance": 0.0}, "initial_importance=0.0"),
        ({"initial_importance": float("inf")}, "initial_importance=inf"),
        ({"beta": 1.0}, "beta=1.0"),
        ({"always_keep_ids": [10]}, r"always_keep_ids.*\[10\]"),
        ({"always_drop_ids": [-1]}, r"always_drop_ids.*\[-1\]"),
        ({"always_drop_ids": [2]}, r"both always kept and always dropped: \[2\]"),
    ],
)
def test_bad_configuration_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_tracker(**kwargs)


def test_mismatched_shapes_are_named():
    tracker = make_tracker()
    with pytest.raises(ValueError, match="padding_mask.shape=.1, 3"):
        tracker(np.zeros((1, 4), "int32"), np.ones((1, 3), "int32"))
    with pytest.raises(ValueError, match="same size"):
        tracker.update(np.zeros(4, "int32"), np.ones(3), np.ones(4))
