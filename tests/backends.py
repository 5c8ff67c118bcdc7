"""Markers for tests that only make sense on one backend."""

import keras
import pytest

tensorflow_backend_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="compares XLA with TensorFlow's own kernels (JAX steps are "
    "always compiled)",
)

jax_backend_only = pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="XLA on TensorFlow's CPU compiles for ~20 s: run compiled on JAX",
)
