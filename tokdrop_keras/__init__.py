"""Token dropping for BERT pretraining, on Keras 3 and keras-hub."""

import os

# The layers use TensorFlow-only pieces (tf.distribute all-reduce, XLA), so
# pick the backend before Keras is first imported.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from tokdrop_keras.xla_flags import use_fast_xla_cpu_dropout  # noqa: E402

use_fast_xla_cpu_dropout()

import keras  # noqa: E402

if keras.backend.backend() != "tensorflow":
    raise ImportError(
        "tokdrop_keras needs the TensorFlow Keras backend, but Keras was "
        f"already loaded with backend={keras.backend.backend()!r}. Import "
        "tokdrop_keras before keras, or set KERAS_BACKEND=tensorflow."
    )

from tokdrop_keras.layers.importance_tracker import ImportanceTracker  # noqa
from tokdrop_keras.layers.importance_tracker import special_token_ids  # noqa
from tokdrop_keras.layers.token_drop import TokenDrop  # noqa: E402
from tokdrop_keras.layers.token_restore import TokenRestore  # noqa: E402
from tokdrop_keras.models.token_drop_bert_backbone import (  # noqa: E402
    TokenDropBertBackbone,
)
from tokdrop_keras.models.token_drop_bert_masked_lm import (  # noqa: E402
    TokenDropBertMaskedLM,
)

__version__ = "0.1.0"
