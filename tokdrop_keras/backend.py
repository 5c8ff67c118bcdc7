"""Everything backend-specific the layers and models need, in one place.

The layers and models are `keras.ops` only and run on Keras' TensorFlow and
JAX backends. What differs lives here: the replica sum (`tf.distribute`'s
all-reduce; the identity on JAX, whose `keras.distribution.DataParallel`
step already sees the global batch), the accelerator probe, the XLA:CPU
flag (TensorFlow only), peeking at a `tf.data` batch and the `tf.data`
seed, `require_tensorflow` for the features that need TensorFlow
installed (TF-Hub SavedModels, `tf.data` pipelines, `gs://` paths), and
the fused kernels of the GPU path: cuDNN's flash attention
(`fused_attention`) and one-hot gathers (`gather_method`).
"""

import importlib.metadata
import importlib.util
import logging
import os
import sys

FUSION_EMITTERS_FLAG = "--xla_cpu_use_fusion_emitters"
# The TensorFlow release series the flag was measured on. XLA aborts the
# process on a flag its build does not know, so other versions are left alone.
MEASURED_TENSORFLOW = "2.21."
DEFAULT_BACKEND = "tensorflow"
SUPPORTED_BACKENDS = ("tensorflow", "jax")


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
    backend when `KERAS_BACKEND` is unset, and sets the XLA:CPU flag when
    the backend is TensorFlow (JAX's XLA:CPU is left as it is).

    Args:
        environ: the environment mapping to edit (`os.environ`).

    Example:
    ```python
    environ = {}
    tokdrop_keras.backend.configure(environ)
    assert environ["KERAS_BACKEND"] == "tensorflow"
    environ = {"KERAS_BACKEND": "jax"}
    tokdrop_keras.backend.configure(environ)
    assert environ == {"KERAS_BACKEND": "jax"}  # no XLA flag
    ```
    """
    environ.setdefault("KERAS_BACKEND", DEFAULT_BACKEND)
    if environ["KERAS_BACKEND"] == "tensorflow":
        use_fast_xla_cpu_dropout(environ)


def check_keras_backend(backend=None):
    """Raises unless Keras runs on a backend the layers support.

    Args:
        backend: the backend name to check; `None` checks the one Keras
            was loaded with.

    Example:
    ```python
    tokdrop_keras.backend.check_keras_backend()  # the one loaded: fine
    try:
        tokdrop_keras.backend.check_keras_backend("numpy")
        raise AssertionError("accepted the numpy backend")
    except ImportError as error:
        assert "KERAS_BACKEND=jax" in str(error)
    ```
    """
    import keras

    backend = backend or keras.backend.backend()
    if backend not in SUPPORTED_BACKENDS:
        raise ImportError(
            "tokdrop_keras runs on the Keras backends "
            f"{list(SUPPORTED_BACKENDS)}, but Keras was loaded with "
            f"backend={backend!r}. Set KERAS_BACKEND=jax or "
            "KERAS_BACKEND=tensorflow before importing keras."
        )


def tensorflow_installed():
    """Whether TensorFlow can be imported (whatever the Keras backend).

    Example:
    ```python
    assert tokdrop_keras.backend.tensorflow_installed() in (True, False)
    ```
    """
    return importlib.util.find_spec("tensorflow") is not None


def require_tensorflow(feature, alternative):
    """Raises a `ValueError` naming `alternative` unless TensorFlow is
    installed: for the features only TensorFlow has.

    Args:
        feature: str, what needs TensorFlow.
        alternative: str, what to do instead.

    Example:
    ```python
    tokdrop_keras.backend.require_tensorflow(
        "The TF-Hub SavedModel", "export the keras-hub preset"
    )  # no error where TensorFlow is installed
    ```
    """
    if not tensorflow_installed():
        raise ValueError(
            f"{feature} needs TensorFlow, which is not installed. "
            f"{alternative}"
        )


def sum_over_replicas(value):
    """Sums `value` over `tf.distribute` replicas (identity with one).

    On JAX it is the identity: under `keras.distribution.DataParallel` a
    step computes on the global batch (XLA inserts the all-reduce).

    Example:
    ```python
    total = tokdrop_keras.backend.sum_over_replicas(np.float32(2.0))
    assert float(total) == 2.0  # one replica
    ```
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return value
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def has_accelerator():
    """Whether the Keras backend sees a GPU or TPU.

    Example:
    ```python
    assert tokdrop_keras.backend.has_accelerator() in (True, False)
    ```
    """
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return jax.default_backend() != "cpu"
    import tensorflow as tf

    return bool(
        tf.config.list_logical_devices("GPU")
        or tf.config.list_logical_devices("TPU")
    )


def default_jit_compile():
    """`jit_compile="auto"` of `TokenDropMaskedLM.compile`: always on JAX
    (Keras runs JAX steps eagerly otherwise); on TensorFlow, XLA on GPU and
    TPU but not on CPU, where TensorFlow's own kernels were as fast (see
    the README's step-time benchmark).

    Example:
    ```python
    jit = tokdrop_keras.backend.default_jit_compile()
    assert jit == (keras.backend.backend() == "jax"
                   or tokdrop_keras.backend.has_accelerator())
    ```
    """
    import keras

    return keras.backend.backend() == "jax" or has_accelerator()


def is_tf_dataset(x):
    """Whether `x` is a `tf.data.Dataset` (False without TensorFlow loaded).

    Example:
    ```python
    assert not tokdrop_keras.backend.is_tf_dataset([1, 2])
    ```
    """
    import sys

    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(x, tf.data.Dataset)


def is_grain_dataset(x):
    """Whether `x` is a Grain `MapDataset` or `IterDataset` (without
    importing Grain where it is not installed).

    Example:
    ```python
    assert not tokdrop_keras.backend.is_grain_dataset([1, 2])
    ```
    """
    grain = sys.modules.get("grain")
    return grain is not None and isinstance(x, (grain.MapDataset, grain.IterDataset))


def first_batch(x, y=None, sample_weight=None):
    """`(x, y, sample_weight)` of the first batch `fit` would see, where it
    can be read without consuming the input (a `tf.data.Dataset`, a
    `keras.utils.PyDataset`, or in-memory arrays, whole); `None` otherwise.

    Example:
    ```python
    dataset = tf.data.Dataset.from_tensor_slices(
        ({"token_ids": np.zeros((4, 3), "int32")}, np.ones((4, 1), "int32"))
    ).batch(2)
    x, y, weights = tokdrop_keras.backend.first_batch(dataset)
    assert x["token_ids"].shape == (2, 3) and weights is None
    ```
    """
    import keras

    if is_tf_dataset(x):
        element = next(iter(x.take(1)), None)
    elif is_grain_dataset(x):
        # Each iterator starts afresh: reading one consumes nothing.
        element = next(iter(x), None)
    elif isinstance(x, keras.utils.PyDataset):
        # Random access: reading batch 0 consumes nothing.
        element = x[0] if x.num_batches else None
    elif isinstance(x, dict):
        return x, y, sample_weight
    else:
        return None
    if not isinstance(element, tuple) or not element:
        return None
    return tuple(element) + (None,) * (3 - len(element))


def reset_data_seed():
    """Sets TensorFlow's global seed to the value it has in a fresh process.

    `tf.data`'s shuffles combine their own seed with the global one, which
    `keras.utils.set_random_seed` (called to initialise a model) changes:
    without this, a second run in one process (the second arm of a
    comparison, a resumed run) would read its data in another order than
    the first. With it, every run reads the same order a fresh process
    does. Nothing to do without TensorFlow.

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
    if not tensorflow_installed():
        return
    import tensorflow as tf
    from tensorflow.python.framework import random_seed

    tf.random.set_seed(random_seed.DEFAULT_GRAPH_SEED)


logger = logging.getLogger("tokdrop_keras")
# The reasons `fused_attention` declined, each logged once per process.
_declined = set()
FUSED_ATTENTION_DTYPES = ("bfloat16", "float16")


def _decline(reason):
    if reason not in _declined:
        _declined.add(reason)
        logger.warning("Attention falls back to XLA (einsum): %s", reason)
    return None


def accelerator_platform():
    """`"gpu"`, `"tpu"` or `"cpu"`: where the Keras backend computes.

    Example:
    ```python
    platform = tokdrop_keras.backend.accelerator_platform()
    assert platform in ("cpu", "gpu", "tpu")
    assert (platform != "cpu") == tokdrop_keras.backend.has_accelerator()
    ```
    """
    import keras

    if keras.backend.backend() == "jax":
        import jax

        platform = jax.default_backend()
        return platform if platform in ("gpu", "tpu") else "cpu"
    import tensorflow as tf

    if tf.config.list_logical_devices("TPU"):
        return "tpu"
    return "gpu" if tf.config.list_logical_devices("GPU") else "cpu"


def fused_attention(query, key, value, key_lengths, scale, dropout_rate=0.0):
    """cuDNN's fused (flash) attention where it takes the call, else `None`.

    Only on JAX with a GPU. Elsewhere (CPU, TPU, TensorFlow) it returns
    `None` silently: the caller's XLA computation is the path there. On a
    GPU, a call cuDNN declines (float32, a head size or sequence length it
    does not take, a JAX without the kernel) returns `None` and logs the
    reason once. Each query row attends to its first `key_lengths` keys,
    as in `tokdrop_keras.layers.attention.dot_product_attention`.

    Args:
        query: `[batch, queries, heads, head_dim]`, bfloat16 or float16.
        key, value: `[batch, keys, heads, head_dim]`.
        key_lengths: int32 `[batch]` or `None` (all keys).
        scale: float multiplying the logits.
        dropout_rate: the attention-probability dropout this call needs;
            above 0 it declines (JAX's cuDNN call takes its dropout seed
            as a constant of the compiled step: the same mask every step).

    Example:
    ```python
    q = np.zeros((1, 4, 2, 8), "float32")
    out = tokdrop_keras.backend.fused_attention(q, q, q, None, 0.35)
    assert out is None or out.shape == (1, 4, 2, 8)  # None off a GPU
    ```
    """
    import keras

    if keras.backend.backend() != "jax":
        return None
    import jax

    if jax.default_backend() != "gpu":
        return None
    if dropout_rate > 0:
        return _decline(
            f"attention-probability dropout {dropout_rate} in training; "
            "`attention_dropout=0` keeps a dropout model on cuDNN."
        )
    dtype = keras.backend.standardize_dtype(query.dtype)
    if dtype not in FUSED_ATTENTION_DTYPES:
        return _decline(
            f"cuDNN's fused attention takes {' or '.join(FUSED_ATTENTION_DTYPES)}"
            f", not {dtype} (train with the mixed_bfloat16 policy)."
        )
    try:
        return jax.nn.dot_product_attention(
            query,
            key,
            value,
            scale=float(scale),
            key_value_seq_lengths=key_lengths,
            implementation="cudnn",
        )
    except Exception as error:  # cuDNN declines these shapes or this build.
        first_line = (str(error).strip().splitlines() or [""])[0][:300]
        return _decline(
            f"cuDNN declined query {tuple(query.shape)}, key "
            f"{tuple(key.shape)} {dtype}: {type(error).__name__}: {first_line}"
        )


# How `TokenDrop` gathers the kept tokens and `TokenRestore` puts them back,
# by platform. "take": index gathers and a scatter (cheap on a CPU, whose
# matmuls are slow). "one_hot": a matmul by the one-hot matrix of the kept
# positions and its transpose, no gather or scatter in the step, forward or
# backward (on a GPU or TPU that matmul costs microseconds: 2*B*K*S*H FLOPs,
# 6.4 GFLOP at B32 S512 K256 H768). Both give the same values exactly:
# one 1.0 times each value plus zeros, accumulated in float32. On float32
# tensors it would be exact only at full matmul precision, which GPUs do
# not use by default (TF32), so float32 takes "take" everywhere.
GATHER_BY_PLATFORM = {"cpu": "take", "gpu": "one_hot", "tpu": "one_hot"}
GATHER_METHODS = ("take", "one_hot")


def gather_method(dtype):
    """`"take"` or `"one_hot"`: how kept tokens of `dtype` are gathered and
    restored on this platform (`GATHER_BY_PLATFORM`; float32 always takes;
    `TOKDROP_GATHER` overrides, for benchmarks).

    Example:
    ```python
    assert tokdrop_keras.backend.gather_method("float32") == "take"
    ```
    """
    import keras

    chosen = os.environ.get("TOKDROP_GATHER")
    if chosen:
        if chosen not in GATHER_METHODS:
            raise ValueError(
                f"TOKDROP_GATHER={chosen!r}; choose one of {GATHER_METHODS}."
            )
        return chosen
    if keras.backend.standardize_dtype(dtype) not in FUSED_ATTENTION_DTYPES:
        return "take"
    return GATHER_BY_PLATFORM[accelerator_platform()]
