"""Writes legacy_masked_lm.keras + legacy_masked_lm.npz (run once, on c69d7e4).

The `.keras` file is a `TokenDropBertMaskedLM` saved by the code before the
library redesign; the test checks that today's code loads it and predicts
the same logits and holds the same importance table.

    python tests/assets/make_legacy_masked_lm.py
"""

import os
import sys

import numpy as np

import tokdrop_keras  # noqa: F401

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tiny_bert import SPECIAL_IDS, tiny_backbone, tiny_inputs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

model = tokdrop_keras.TokenDropBertMaskedLM(
    tiny_backbone(), keep_fraction=0.5, seed=1, **SPECIAL_IDS
)
model.compile()
x, y, w = tiny_inputs()
for _ in range(3):
    model.train_on_batch(x, y, sample_weight=w)
model.save(os.path.join(HERE, "legacy_masked_lm.keras"))
np.savez(
    os.path.join(HERE, "legacy_masked_lm.npz"),
    logits=model.predict(x, verbose=0),
    importance=model.importance_tracker.importance.numpy(),
    **{f"x_{k}": v for k, v in x.items()},
)
