"""Token dropping for BERT-style pretraining, on Keras 3 and keras-hub.

`import tokdrop_keras` picks TensorFlow as the Keras backend when none is set
(and its XLA:CPU flag, see `tokdrop_keras.backend`), then registers the
Keras layers and models (so that `.keras` files load). The training, data
and export APIs load on first use.
"""

import importlib

from tokdrop_keras import backend as _backend

_backend.configure()
_backend.check_keras_backend()

from tokdrop_keras.layers import ImportanceTracker  # noqa: E402
from tokdrop_keras.layers import TokenDrop  # noqa: E402
from tokdrop_keras.layers import TokenRestore  # noqa: E402
from tokdrop_keras.models import TokenDropBackbone  # noqa: E402
from tokdrop_keras.models import TokenDropBertBackbone  # noqa: E402
from tokdrop_keras.models import TokenDropBertMaskedLM  # noqa: E402
from tokdrop_keras.models import TokenDropMaskedLM  # noqa: E402
from tokdrop_keras.special_tokens import special_token_ids  # noqa: E402

__version__ = "0.2.0"

# Loaded on first use: they bring in tf.data, TFDS, TensorBoard.
_LAZY = {
    "pretrain": "tokdrop_keras.training.pretraining",
    "PretrainConfig": "tokdrop_keras.training.config",
    "PretrainResult": "tokdrop_keras.training.pretraining",
    "finetune": "tokdrop_keras.training.finetuning",
    "FinetuneConfig": "tokdrop_keras.training.config",
    "FinetuneResult": "tokdrop_keras.training.finetuning",
    "load_tokenizer": "tokdrop_keras.data.tokenizers",
}


_SUBPACKAGES = ("data", "export", "training", "metrics", "optimizers", "inputs")


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"tokdrop_keras.{name}")
    raise AttributeError(f"module 'tokdrop_keras' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY) + list(_SUBPACKAGES))
