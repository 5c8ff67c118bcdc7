"""XLA:CPU settings the package makes before the first XLA compilation."""

import importlib.metadata
import os

FUSION_EMITTERS_FLAG = "--xla_cpu_use_fusion_emitters"
# The TensorFlow release series the flag was measured on. XLA aborts the
# process on a flag its build does not know, so other versions are left alone.
MEASURED_TENSORFLOW = "2.21."


def installed_tensorflow_version():
    """The installed TensorFlow's version string, read without importing it."""
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

    >>> environ = {"XLA_FLAGS": "--xla_cpu_enable_fast_math=true"}
    >>> use_fast_xla_cpu_dropout(environ, tensorflow_version="2.21.0")
    >>> environ["XLA_FLAGS"]
    '--xla_cpu_enable_fast_math=true --xla_cpu_use_fusion_emitters=false'
    """
    if tensorflow_version is None:
        tensorflow_version = installed_tensorflow_version()
    if not (tensorflow_version or "").startswith(MEASURED_TENSORFLOW):
        return
    flags = environ.get("XLA_FLAGS", "")
    if FUSION_EMITTERS_FLAG not in flags:
        environ["XLA_FLAGS"] = f"{flags} {FUSION_EMITTERS_FLAG}=false".strip()
