"""`TokenDrop`'s selections: importance (the table's top), random, mixed."""

import numpy as np
import pytest

from tokdrop_keras import TokenDrop
from tokdrop_keras.layers.token_drop import random_kept_count

BATCH, SEQ, KEEP = 64, 16, 8
# Position 0 a special token (+inf), the last three padding (-inf); the
# ordinary positions 1..12 score their position: the top 7 are 6..12.
SCORES = np.tile(np.arange(SEQ, dtype="float32"), (BATCH, 1))
SCORES[:, 0] = np.inf
SCORES[:, -3:] = -np.inf
PADDING = np.ones((BATCH, SEQ), "int32")
PADDING[:, -3:] = 0
ORDINARY = np.arange(1, SEQ - 3)


def kept_positions(selection, training=True, seed=3, **kwargs):
    layer = TokenDrop(keep_tokens=KEEP, selection=selection, seed=seed, **kwargs)
    hidden = np.zeros((BATCH, SEQ, 2), "float32")
    _, kept_mask, positions = layer(hidden, SCORES, PADDING, training=training)
    positions = np.asarray(positions)
    assert np.asarray(kept_mask).all()  # never a padded slot here
    # Sequence order, distinct positions.
    assert (np.diff(positions, axis=1) > 0).all()
    return positions


def kept_counts(positions):
    return np.bincount(positions.ravel(), minlength=SEQ)


def test_importance_keeps_the_top_scores():
    positions = kept_positions("importance")
    np.testing.assert_array_equal(positions, np.tile([0, *range(6, 13)], (BATCH, 1)))


def test_random_keeps_specials_drops_padding_and_ignores_the_scores():
    counts = kept_counts(kept_positions("random"))
    assert counts[0] == BATCH  # the special token, always
    assert counts[-3:].sum() == 0  # padding, never
    # The 7 other slots spread over the 12 ordinary positions, uniformly:
    # expected 64 * 7 / 12 = 37.3 each; the scores (ascending) play no part.
    ordinary = counts[ORDINARY]
    assert ordinary.sum() == BATCH * (KEEP - 1)
    assert ordinary.min() >= 22 and ordinary.max() <= 53, ordinary
    low, high = ordinary[:6].sum(), ordinary[6:].sum()
    assert abs(low - high) < 0.2 * (low + high), (low, high)


def test_random_draws_a_new_subset_every_call_and_at_inference():
    layer = TokenDrop(keep_tokens=KEEP, selection="random", seed=3)
    hidden = np.zeros((BATCH, SEQ, 2), "float32")
    first = np.asarray(layer(hidden, SCORES, PADDING, training=True)[2])
    second = np.asarray(layer(hidden, SCORES, PADDING, training=True)[2])
    assert (first != second).any(axis=1).mean() > 0.9
    inference = np.asarray(layer(hidden, SCORES, PADDING, training=False)[2])
    assert len({tuple(row) for row in inference}) > BATCH // 2


def test_mixed_keeps_the_top_for_its_share_and_the_rest_at_random():
    positions = kept_positions("mixed", random_fraction=0.5)
    assert random_kept_count(KEEP, 0.5) == 4
    counts = kept_counts(positions)
    # 8 slots: 4 by importance (the special token, then positions 12, 11,
    # 10), 4 at random among positions 1..9.
    assert counts[[0, 10, 11, 12]].tolist() == [BATCH] * 4
    assert counts[1:10].sum() == 4 * BATCH
    assert counts[1:10].min() >= 15 and counts[1:10].max() <= 45, counts
    assert counts[-3:].sum() == 0


@pytest.mark.parametrize("fraction, expected", [(0.0, "importance"), (1.0, "random")])
def test_mixed_at_the_ends_is_importance_or_random(fraction, expected):
    mixed = kept_positions("mixed", random_fraction=fraction)
    same = kept_positions(expected)
    np.testing.assert_array_equal(mixed, same)


def test_config_round_trips_the_selection():
    layer = TokenDrop(keep_fraction=0.25, selection="mixed", random_fraction=0.3)
    again = TokenDrop.from_config(layer.get_config())
    assert (again.selection, again.random_fraction) == ("mixed", 0.3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(selection="topk"), "Unknown `selection` 'topk'"),
        (dict(selection="mixed", random_fraction=1.5), "`random_fraction` must be in [0, 1]"),
        (dict(selection="mixed", random_fraction=-0.1), "`random_fraction` must be in [0, 1]"),
    ],
)
def test_bad_selection_is_an_error_at_construction(kwargs, message):
    with pytest.raises(ValueError) as error:
        TokenDrop(keep_tokens=4, **kwargs)
    assert message in str(error.value)
