"""The distribution of a run: a `tf.distribute` strategy on TensorFlow,
`keras.distribution` on JAX, behind one `scope()` / `num_replicas_in_sync`."""

import contextlib

import keras

try:
    import tensorflow as tf
except ImportError:
    tf = None

_MIRRORED_STRATEGIES = {}


class JaxStrategy:
    """A run's `keras.distribution` on JAX, used like a `tf.distribute`
    strategy: `scope()` sets it for the model's building and training.

    Args:
        distribution: a `keras.distribution.Distribution`, or `None` for
            one device.

    Example:
    ```python
    from tokdrop_keras.training.distribution import JaxStrategy
    strategy = JaxStrategy(None)
    with strategy.scope():
        pass
    assert strategy.num_replicas_in_sync == 1
    ```
    """

    def __init__(self, distribution):
        self.distribution = distribution

    @property
    def num_replicas_in_sync(self):
        if self.distribution is None:
            return 1
        return self.distribution.device_mesh.devices.size

    @contextlib.contextmanager
    def scope(self):
        if self.distribution is None:
            yield
            return
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(self.distribution)
        try:
            yield
        finally:
            keras.distribution.set_distribution(previous)


def process_shard():
    """This process's share of a run's data: `shard_index` and
    `shard_count` (JAX's process index and count after
    `keras.distribution.initialize()`; one shard elsewhere).

    Example:
    ```python
    from tokdrop_keras.training.distribution import process_shard
    assert process_shard() == {"shard_index": 0, "shard_count": 1}
    ```
    """
    if keras.backend.backend() != "jax":
        return {"shard_index": 0, "shard_count": 1}
    import jax

    return {"shard_index": jax.process_index(), "shard_count": jax.process_count()}


MULTI_PROCESS_VARIABLES = (
    "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    "KERAS_DISTRIBUTION_NUM_PROCESSES",
    "KERAS_DISTRIBUTION_PROCESS_ID",
)


def initialize_processes(environ=None):
    """Joins JAX's multi-process runtime (`keras.distribution.initialize()`)
    where the environment describes one: any of `MULTI_PROCESS_VARIABLES`
    set (on a Cloud TPU VM slice `KERAS_DISTRIBUTION_NUM_PROCESSES` alone:
    JAX finds the rest). Call it before anything runs on a device, as
    `experiments/pretrain.py` does. Returns whether it did.

    Example:
    ```python
    from tokdrop_keras.training.distribution import initialize_processes
    assert not initialize_processes(environ={})  # one process: nothing to do
    ```
    """
    import os

    environ = os.environ if environ is None else environ
    if not any(environ.get(name) for name in MULTI_PROCESS_VARIABLES):
        return False
    if keras.backend.backend() != "jax":
        raise ValueError(
            f"{', '.join(MULTI_PROCESS_VARIABLES)} start JAX's multi-process "
            "runtime: run with --backend jax (TensorFlow's multi-worker "
            "strategies read TF_CONFIG)."
        )
    keras.distribution.initialize()
    return True


def is_chief():
    """Whether this process writes the run's files: the first of a
    multi-process JAX run's processes, and every other run's one process.

    Example:
    ```python
    from tokdrop_keras.training.distribution import is_chief
    assert is_chief()
    ```
    """
    return process_shard()["shard_index"] == 0


def make_strategy(name, tpu=""):
    """The distribution strategy called `name`, for the loaded backend.

    Args:
        name: `"default"` (one device); on JAX `"data_parallel"`
            (`keras.distribution.DataParallel` over all local devices: each
            step sees the global batch, sharded); on TensorFlow
            `"mirrored"` (all GPUs, or all logical CPUs),
            `"multi_worker_mirrored"` or `"tpu"`.
        tpu: the TPU's address or name, for `"tpu"`.

    Example:
    ```python
    strategy = tokdrop_keras.training.make_strategy("default")
    assert strategy.num_replicas_in_sync == 1
    ```
    """
    if keras.backend.backend() == "jax":
        if name == "default":
            return JaxStrategy(None)
        if name == "data_parallel":
            # Every process reads its own part of each batch (the Grain
            # pipeline's shards): Keras assembles the global batch from them.
            return JaxStrategy(
                keras.distribution.DataParallel(auto_shard_dataset=False)
            )
        raise ValueError(
            f"Strategy {name!r} is not one of JAX's: use 'data_parallel' "
            "(keras.distribution.DataParallel) or 'default'."
        )
    if name == "data_parallel":
        raise ValueError(
            "Strategy 'data_parallel' is JAX's; on TensorFlow use 'mirrored'."
        )
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return _mirrored_strategy()
    if name == "multi_worker_mirrored":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name != "tpu":
        raise ValueError(
            f"Unknown strategy {name!r}; choose one of default, mirrored, "
            "multi_worker_mirrored, tpu."
        )
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError) as error:
        raise ValueError(f"Could not reach the TPU {tpu!r}: {error}") from error
    return tf.distribute.TPUStrategy(resolver)


def check_batch_size(batch_size, strategy, name):
    """Raises unless the global `batch_size` splits evenly over the
    replicas of `strategy` (called `name`).

    Example:
    ```python
    from tokdrop_keras.training.distribution import check_batch_size
    strategy = tokdrop_keras.training.make_strategy("default")
    check_batch_size(3, strategy, "default")  # one replica
    ```
    """
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ValueError(
            f"`batch_size={batch_size}` does not split over the {replicas} "
            f"replicas of strategy {name!r}; use a multiple of {replicas}."
        )


def _mirrored_strategy():
    """A `MirroredStrategy` over all GPUs; without any, all (logical) CPUs.

    Every `MirroredStrategy` numbers its collective ops from the same keys,
    and TensorFlow remembers each key's shape for the whole process: a
    second strategy over the same devices fails with "Shape mismatch in the
    collective instance 100" (tensorflow/tensorflow#62790). So runs in one
    process share one strategy, and CPUs, which share host memory, reduce
    through one device, with no collective ops to collide with those of a
    strategy made elsewhere (a test, a notebook).
    """
    devices = tf.config.list_logical_devices("GPU")
    cross_device_ops = None
    if not devices:
        devices = tf.config.list_logical_devices("CPU")
        cross_device_ops = tf.distribute.ReductionToOneDevice()
    names = tuple(device.name for device in devices)
    if names not in _MIRRORED_STRATEGIES:
        _MIRRORED_STRATEGIES[names] = tf.distribute.MirroredStrategy(
            list(names), cross_device_ops=cross_device_ops
        )
    return _MIRRORED_STRATEGIES[names]
