"""TensorFlow and JAX train the same: with dropout 0 and the same weights and
batch, forward outputs within 1e-5, the first step's loss and the updated
importance table within 1e-5 relative; with dropout on, both train, with
the same statistics of kept tokens."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import backend_agreement

# One worker runs this module (make test: --dist loadgroup).
pytestmark = [
    pytest.mark.xdist_group("backend_agreement"),
    pytest.mark.skipif(
        keras.backend.backend() != "tensorflow",
        reason="runs TensorFlow here and JAX in a subprocess",
    ),
]


# Session scope: built once per worker even when xdist runs other modules'
# tests between this module's (a module fixture is torn down and rebuilt).
@pytest.fixture(scope="session")
def results(tmp_path_factory):
    pytest.importorskip("jax")
    folder = str(tmp_path_factory.mktemp("agreement"))
    backend_agreement.write_inputs(folder)
    here = os.path.dirname(__file__)
    # JAX in a subprocess while TensorFlow runs here: the two overlap.
    jax_run = subprocess.Popen(
        [sys.executable, os.path.join(here, "backend_agreement.py"), folder],
        env=dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=here),
    )
    try:
        backend_agreement.run(folder)
    finally:
        assert jax_run.wait(timeout=900) == 0
    return [
        dict(np.load(os.path.join(folder, f"{name}.npz")))
        for name in ("tensorflow", "jax")
    ]


def test_dropout_0_gives_the_same_numbers(results):
    tf_run, jax_run = results
    np.testing.assert_array_equal(tf_run["kept_positions"], jax_run["kept_positions"])
    np.testing.assert_array_equal(tf_run["kept_mask"], jax_run["kept_mask"])
    assert not tf_run["kept_mask"].all()  # some masked predictions dropped
    for name in ("eval_logits", "train_logits"):
        np.testing.assert_allclose(tf_run[name], jax_run[name], atol=1e-5)
    # Training-mode logits differ from the full model's (tokens were
    # dropped) by far more than the backends differ.
    assert np.abs(tf_run["train_logits"] - tf_run["eval_logits"]).max() > 2e-4
    np.testing.assert_allclose(tf_run["first_loss"], jax_run["first_loss"], rtol=1e-5)
    np.testing.assert_allclose(tf_run["table"], jax_run["table"], rtol=1e-5)
    np.testing.assert_array_equal(tf_run["counts"], jax_run["counts"])
    assert tf_run["counts"].sum() == 11  # 12 predictions, one weighted out
    # The gradient step agrees too.
    np.testing.assert_allclose(tf_run["second_loss"], jax_run["second_loss"], rtol=1e-4)
    assert tf_run["second_loss"] < tf_run["first_loss"]


def test_with_dropout_both_train_keeping_the_same_kinds_of_tokens(results):
    for run in results:
        losses = run["dropout_losses"]
        assert losses[-5:].mean() < 0.7 * losses[:5].mean()
        specials_kept, padding_kept, real_share = run["kept_statistics"]
        assert specials_kept == 1.0 and padding_kept == 0.0 and real_share == 1.0
    np.testing.assert_array_equal(*(run["kept_statistics"] for run in results))
