import numpy as np
import pytest

from tokdrop_keras.layers.top_k_selection import mask_to_positions
from tokdrop_keras.layers.top_k_selection import sortable_keys
from tokdrop_keras.layers.top_k_selection import top_k_mask


def numpy_top_k_mask(values, k):
    """Largest values first, ties to the earlier position."""
    order = np.argsort(-values, axis=1, kind="stable")[:, :k]
    mask = np.zeros(values.shape, bool)
    np.put_along_axis(mask, order, True, axis=1)
    return mask


def test_sortable_keys_keep_the_float_order():
    values = np.array(
        [-np.inf, -3e38, -2.5, -1e-40, 0.0, 1e-40, 1.0, 2.5, 3e38, np.inf],
        "float32",
    )
    keys = np.asarray(sortable_keys(values[None]))[0]
    assert np.all(np.diff(keys.astype(np.int64)) > 0)


@pytest.mark.parametrize("k", [1, 5, 17, 32])
def test_matches_a_stable_sort_with_many_ties(k):
    rng = np.random.default_rng(k)
    values = rng.choice(
        np.array([-np.inf, -2.0, -0.5, 0.0, 0.25, 3.0, np.inf], "float32"),
        size=(16, 32),
    )
    values[:4] = rng.normal(size=(4, 32)).astype("float32")
    mask = np.asarray(top_k_mask(sortable_keys(values), k))
    np.testing.assert_array_equal(mask, numpy_top_k_mask(values, k))


def test_candidates_per_row_k_and_tie_keys():
    keys = np.array([[5, 5, 5, 5, 1, 9], [2, 2, 2, 2, 2, 2]], "int32")
    candidates = np.array([[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]], bool)
    tie_keys = np.array([[0, 7, 3, 9, 0, 0], [1, 6, 5, 4, 3, 2]], "int32")
    k = np.array([[2], [3]], "int32")
    mask = top_k_mask(keys, k, candidates=candidates, tie_keys=tie_keys)
    np.testing.assert_array_equal(
        mask,
        [[False, True, False, True, False, False],
         [False, True, True, True, False, False]],
    )


def test_mask_to_positions_in_sequence_order():
    mask = np.array([[1, 0, 1, 1, 0], [0, 1, 1, 0, 1]], bool)
    np.testing.assert_array_equal(
        mask_to_positions(mask, 3), [[0, 2, 3], [1, 2, 4]]
    )


@pytest.mark.parametrize("with_tie_keys", [False, True])
def test_sorting_selects_exactly_what_the_search_selects(with_tie_keys):
    from tokdrop_keras.layers.top_k_selection import select_positions

    rng = np.random.default_rng(0)
    # Few distinct scores: many ties at each row's cut.
    scores = rng.integers(0, 4, (16, 24)).astype("float32")
    scores[:, 0] = np.inf
    scores[:, -3:] = -np.inf
    tie_keys = None
    if with_tie_keys:
        tie_keys = rng.integers(0, 2**31 - 1, (16, 24)).astype("int32")
        tie_keys[:, 5] = tie_keys[:, 6]  # equal tie keys: earlier position
    keys = sortable_keys(scores)
    search, sort = (
        np.asarray(select_positions(keys, 9, tie_keys=tie_keys, method=m))
        for m in ("search", "sort")
    )
    np.testing.assert_array_equal(search, sort)
    assert (np.diff(search, axis=1) > 0).all()


def test_each_platform_has_its_method(monkeypatch):
    import keras

    from tokdrop_keras import backend
    from tokdrop_keras.layers import top_k_selection

    assert top_k_selection.default_selection_method() == "search"  # this CPU
    monkeypatch.setattr(backend, "accelerator_platform", lambda: "gpu")
    expected = "sort" if keras.backend.backend() == "jax" else "search"
    assert top_k_selection.default_selection_method() == expected
