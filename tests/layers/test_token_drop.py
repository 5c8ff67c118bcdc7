import numpy as np
import pytest

from tokdrop_keras import TokenDrop
from keras_test_case import KerasTestCase


def hidden_states(batch_size, sequence_length, hidden_dim=3):
    size = batch_size * sequence_length * hidden_dim
    return np.arange(size, dtype="float32").reshape(
        batch_size, sequence_length, hidden_dim
    )


def test_keeps_the_top_scores_in_sequence_order():
    hidden = hidden_states(2, 6)
    scores = np.array(
        [[9.0, 1.0, 5.0, 3.0, 7.0, 0.0], [0.0, 8.0, -np.inf, 6.0, 1.0, 2.0]]
    )
    padding_mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 0, 1, 1, 1]])
    kept, kept_mask, positions = TokenDrop(keep_tokens=3)(
        hidden, scores, padding_mask
    )
    np.testing.assert_array_equal(positions, [[0, 2, 4], [1, 3, 5]])
    assert positions.dtype == "int32"
    np.testing.assert_array_equal(
        kept, np.take_along_axis(hidden, np.asarray(positions)[:, :, None], 1)
    )
    np.testing.assert_array_equal(kept_mask, np.ones((2, 3), bool))


def test_padding_is_kept_only_when_too_few_tokens_and_then_masked():
    scores = np.array([[1.0, 2.0, -np.inf, -np.inf]])
    padding_mask = np.array([[1, 1, 0, 0]])
    _, kept_mask, positions = TokenDrop(keep_tokens=3)(
        hidden_states(1, 4), scores, padding_mask
    )
    np.testing.assert_array_equal(positions, [[0, 1, 2]])
    np.testing.assert_array_equal(kept_mask, [[True, True, False]])


def test_keep_fraction_resolves_from_the_sequence_length():
    layer = TokenDrop(keep_fraction=0.25)
    kept, _, positions = layer(
        hidden_states(2, 10), np.zeros((2, 10)), np.ones((2, 10))
    )
    assert kept.shape == (2, 2, 3) and positions.shape == (2, 2)
    assert layer.kept_length(1) == 1


def test_ties_are_deterministic_at_inference_and_random_in_training():
    batch_size, sequence_length, keep = 64, 16, 4
    scores = np.zeros((batch_size, sequence_length), "float32")
    scores[:, 5] = 1.0  # one clear winner per row, then 15 tied tokens
    padding_mask = np.ones_like(scores)
    hidden = hidden_states(batch_size, sequence_length, 1)
    layer = TokenDrop(keep_tokens=keep, seed=7)

    _, _, positions = layer(hidden, scores, padding_mask, training=False)
    np.testing.assert_array_equal(
        positions, np.tile([0, 1, 2, 5], (batch_size, 1))
    )

    draws = [
        np.asarray(layer(hidden, scores, padding_mask, training=True)[2])
        for _ in range(4)
    ]
    for positions in draws:
        assert (positions == 5).any(axis=1).all()  # the winner is never lost
        assert all(len(set(row)) == keep for row in positions)
    assert not np.array_equal(draws[0], draws[1])  # fresh noise per call
    # The 3 remaining slots are uniform over the 15 tied positions.
    counts = np.bincount(np.concatenate(draws).ravel(), minlength=16)
    tied = np.delete(counts, 5)
    expected = 4 * batch_size * 3 / 15
    assert counts[5] == 4 * batch_size
    assert np.all(np.abs(tied - expected) < 0.5 * expected), tied


def test_same_seed_gives_same_draws():
    scores = np.zeros((8, 16), "float32")
    args = (hidden_states(8, 16, 1), scores, np.ones_like(scores))
    first = TokenDrop(keep_tokens=5, seed=3)(*args, training=True)[2]
    second = TokenDrop(keep_tokens=5, seed=3)(*args, training=True)[2]
    np.testing.assert_array_equal(first, second)


class TestTokenDropLayer(KerasTestCase):
    def test_layer_contract(self):
        scores = np.array([[9.0, 1.0, 5.0, 3.0, 7.0, 0.0]] * 2, "float32")
        kept, kept_mask, positions = self.run_layer_test(
            TokenDrop,
            {"keep_tokens": 3, "seed": 3, "name": "drop"},
            (hidden_states(2, 6), scores, np.ones((2, 6), "int32")),
            expected_output_shape=((2, 3, 3), (2, 3), (2, 3)),
        )
        np.testing.assert_array_equal(positions, [[0, 2, 4]] * 2)

    def test_keep_fraction_layer_contract(self):
        self.run_layer_test(
            TokenDrop,
            {"keep_fraction": 0.25},
            (hidden_states(2, 8), np.zeros((2, 8), "float32"), np.ones((2, 8))),
            expected_output_shape=((2, 2, 3), (2, 2), (2, 2)),
        )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"keep_tokens": 0}, "keep_tokens=0"),
        ({"keep_tokens": 2.5}, "keep_tokens=2.5"),
        ({"keep_fraction": 1.5}, "keep_fraction=1.5"),
        ({}, "exactly one of"),
        ({"keep_tokens": 2, "keep_fraction": 0.5}, "exactly one of"),
    ],
)
def test_bad_configuration_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TokenDrop(**kwargs)


def test_bad_call_is_named():
    layer = TokenDrop(keep_tokens=7)
    with pytest.raises(ValueError, match="keep_tokens=7.*sequence length 6"):
        layer(hidden_states(1, 6), np.zeros((1, 6)), np.ones((1, 6)))
    with pytest.raises(ValueError, match=r"scores.shape=\(1, 5\)"):
        layer(hidden_states(1, 8), np.zeros((1, 5)), np.ones((1, 8)))
