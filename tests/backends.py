"""Markers for tests that only make sense on one backend."""

import keras
import pytest

tensorflow_backend_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="compares XLA with TensorFlow's own kernels (JAX steps are "
    "always compiled)",
)
