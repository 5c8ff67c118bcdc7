import numpy as np
import pytest

from tokdrop_keras import TokenDrop
from tokdrop_keras import TokenRestore
from keras_test_case import KerasTestCase


def test_replaces_kept_rows_and_leaves_dropped_rows():
    rng = np.random.default_rng(0)
    hidden = rng.normal(size=(3, 7, 4)).astype("float32")
    kept = rng.normal(size=(3, 3, 4)).astype("float32")
    positions = np.array([[0, 2, 6], [1, 3, 5], [4, 5, 6]])
    restored = np.asarray(TokenRestore()(hidden, kept, positions))
    expected = hidden.copy()
    for row in range(3):
        expected[row, positions[row]] = kept[row]
    np.testing.assert_array_equal(restored, expected)


def test_restore_inverts_drop():
    rng = np.random.default_rng(1)
    hidden = rng.normal(size=(2, 9, 4)).astype("float32")
    scores = rng.normal(size=(2, 9)).astype("float32")
    kept, _, positions = TokenDrop(keep_tokens=4)(
        hidden, scores, np.ones((2, 9))
    )
    np.testing.assert_array_equal(
        np.asarray(TokenRestore()(np.zeros_like(hidden), kept, positions))
        + np.asarray(TokenRestore()(hidden, np.zeros_like(kept), positions)),
        hidden,
    )


def test_mismatched_shapes_are_named():
    with pytest.raises(ValueError, match=r"kept_positions.shape=\(1, 2\)"):
        TokenRestore()(
            np.zeros((1, 5, 4)), np.zeros((1, 3, 4)), np.zeros((1, 2), "int32")
        )


class TestTokenRestoreLayer(KerasTestCase):
    def test_layer_contract(self):
        hidden = np.zeros((2, 5, 4), "float32")
        kept = np.ones((2, 3, 4), "float32")
        positions = np.array([[0, 2, 4], [1, 2, 3]], "int32")
        restored = self.run_layer_test(
            TokenRestore,
            {"name": "restore"},
            (hidden, kept, positions),
            expected_output_shape=(2, 5, 4),
        )
        np.testing.assert_array_equal(
            np.asarray(restored)[:, :, 0], [[1, 0, 1, 0, 1], [0, 1, 1, 1, 0]]
        )
