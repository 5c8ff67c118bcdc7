"""Everything backend-specific the layers and models need, in one place.

Today the layers run on Keras' TensorFlow backend; this module holds the
TensorFlow pieces they use (the replica sum of `tf.distribute`, the
accelerator probe) and the XLA:CPU flag set on import, so that another
backend only has to change this file.
"""

import importlib.metadata
import os

FUSION_EMITTERS_FLAG = "--xla_cpu_use_fusion_emitters"
# The TensorFlow release series the flag was measured on. XLA aborts the
# process on a flag its build does not know, so other versions are left alone.
MEASURED_TENSORFLOW = "2.21."
DEFAULT_BACKEND = "tensorflow"


def installed_tensorflow_version():
    """The installed TensorFlow's version string, read without importing it.

    Example:
    ```python
    version = tokdrop_keras.backend.installed_tensorflow_version()
    assert version is None or version[0].isdigit()
    ```
    """
    for distribution in ("tensorflow", "tensorflow-cpu"):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def use_fast_xla_cpu_dropout(environ=os.environ, tensorflow_version=None):
    """Turns XLA:CPU's fusion emitters off unless `XLA_FLAGS` chose already.

    Keras' TensorFlow backend draws dropout masks with TensorFlow's
    `"auto_select"` stateless RNG. With the fusion emitters (XLA:CPU's
    default in TensorFlow 2.21) its random bits cost ~220 ns per number
    against ~6 without them (`benchmarks/xla_rng.py`), which made an
    XLA-compiled token-drop step nearly as slow as its full-length baseline.
    Without dropout the emitters are faster (6-29% per step in the README's
    benchmark); `XLA_FLAGS=--xla_cpu_use_fusion_emitters=true` keeps them.
    XLA reads `XLA_FLAGS` once per process, at its first compilation, so
    this must run before that; GPU and TPU compilers ignore the flag.

    Args:
        environ: the environment mapping to edit (`os.environ`).
        tensorflow_version: the TensorFlow version the flag is for; `None`
            reads the installed one. Only 2.21.x gets the flag.

    Example:
    ```python
    environ = {"XLA_FLAGS": "--xla_cpu_enable_fast_math=true"}
    tokdrop_keras.backend.use_fast_xla_cpu_dropout(
        environ, tensorflow_version="2.21.0"
    )
    assert environ["XLA_FLAGS"] == (
        "--xla_cpu_enable_fast_math=true --xla_cpu_use_fusion_emitters=false"
    )
    ```
    """
    if tensorflow_version is None:
        tensorflow_version = installed_tensorflow_version()
    if not (tensorflow_version or "").startswith(MEASURED_TENSORFLOW):
        return
    flags = environ.get("XLA_FLAGS", "")
    if FUSION_EMITTERS_FLAG not in flags:
        environ["XLA_FLAGS"] = f"{flags} {FUSION_EMITTERS_FLAG}=false".strip()


def configure(environ=os.environ):
    """What `import tokdrop_keras` does: picks TensorFlow as the Keras
    backend when none is set, and sets the XLA:CPU flag for it.

    Args:
        environ: the environment mapping to edit (`os.environ`).

    Example:
    ```python
    environ = {}
    tokdrop_keras.backend.configure(environ)
    assert environ["KERAS_BACKEND"] == "tensorflow"
    ```
    """
    environ.setdefault("KERAS_BACKEND", DEFAULT_BACKEND)
    if environ["KERAS_BACKEND"] == "tensorflow":
        use_fast_xla_cpu_dropout(environ)


def check_keras_backend():
    """Raises unless Keras runs on the backend the layers support.

    Example:
    ```python
    tokdrop_keras.backend.check_keras_backend()  # TensorFlow: no error
    ```
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ImportError(
            "tokdrop_keras' layers need the TensorFlow Keras backend, but "
            f"Keras was loaded with backend={keras.backend.backend()!r}. "
            "Import tokdrop_keras before keras, or set "
            "KERAS_BACKEND=tensorflow."
        )


def sum_over_replicas(value):
    """Sums `value` over `tf.distribute` replicas (identity with one).

    Example:
    ```python
    total = tokdrop_keras.backend.sum_over_replicas(np.float32(2.0))
    assert float(total) == 2.0  # one replica
    ```
    """
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def has_accelerator():
    """Whether a GPU or TPU is visible to TensorFlow.

    Example:
    ```python
    assert tokdrop_keras.backend.has_accelerator() in (True, False)
    ```
    """
    import tensorflow as tf

    return bool(
        tf.config.list_logical_devices("GPU")
        or tf.config.list_logical_devices("TPU")
    )


def first_batch(x, y=None, sample_weight=None):
    """`(x, y, sample_weight)` of the first batch `fit` would see, where it
    can be read without consuming the input (a `tf.data.Dataset`, or
    in-memory arrays, whole); `None` otherwise.

    Example:
    ```python
    dataset = tf.data.Dataset.from_tensor_slices(
        ({"token_ids": np.zeros((4, 3), "int32")}, np.ones((4, 1), "int32"))
    ).batch(2)
    x, y, weights = tokdrop_keras.backend.first_batch(dataset)
    assert x["token_ids"].shape == (2, 3) and weights is None
    ```
    """
    import tensorflow as tf

    if isinstance(x, tf.data.Dataset):
        element = next(iter(x.take(1)), None)
        if not isinstance(element, tuple) or not element:
            return None
        return tuple(element) + (None,) * (3 - len(element))
    if isinstance(x, dict):
        return x, y, sample_weight
    return None


def reset_data_seed():
    """Sets TensorFlow's global seed to the value it has in a fresh process.

    `tf.data`'s shuffles combine their own seed with the global one, which
    `keras.utils.set_random_seed` (called to initialise a model) changes:
    without this, a second run in one process (the second arm of a
    comparison, a resumed run) would read its data in another order than
    the first. With it, every run reads the same order a fresh process
    does.

    Example:
    ```python
    def order():
        tokdrop_keras.backend.reset_data_seed()
        data = tf.data.Dataset.range(10).shuffle(10, seed=1)
        return list(data.as_numpy_iterator())

    first = order()
    keras.utils.set_random_seed(123)  # what building a model does
    assert order() == first
    ```
    """
    import tensorflow as tf
    from tensorflow.python.framework import random_seed

    tf.random.set_seed(random_seed.DEFAULT_GRAPH_SEED)
