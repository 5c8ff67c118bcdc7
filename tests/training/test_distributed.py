"""Importance tables under tf.distribute (2 logical CPU devices).

Logical devices must be configured before TensorFlow starts, so the
distributed part runs in a fresh interpreter.
"""

import json
import os
import subprocess
import sys

import numpy as np

SCRIPT = r"""
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)
import keras
import numpy as np
import tokdrop_keras
from tiny_bert import SPECIAL_IDS, tiny_backbone, tiny_inputs

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
results = {}

# 1. Each replica sees different predictions of a shared id.
with strategy.scope():
    tracker = tokdrop_keras.ImportanceTracker(10, beta=0.5, always_keep_ids=[2])
batches = {
    0: ([5, 5, 7, 2], [1.0, 3.0, 2.0, 9.0], [1.0, 1.0, 1.0, 1.0]),
    1: ([5, 8, 8, 9], [5.0, 4.0, 6.0, 7.0], [2.0, 1.0, 1.0, 0.0]),
}
values = strategy.experimental_distribute_values_from_function(
    lambda context: tuple(
        tf.constant(v) for v in batches[context.replica_id_in_sync_group]
    )
)
strategy.run(tf.function(tracker.update), args=values)
results["tracker"] = [v.numpy().tolist() for v in tracker.importance.value.values]

# 2. fit: every replica ends with the same table.
def fit_tables(token_drop, distributed):
    scope = strategy.scope() if distributed else tf.distribute.get_strategy().scope()
    with scope:
        model = tokdrop_keras.TokenDropMaskedLM(
            tiny_backbone(), token_drop=token_drop, **SPECIAL_IDS
        )
        model.compile(optimizer=keras.optimizers.SGD(0.1))
    x, y, w = tiny_inputs(batch_size=8, num_predictions=4)
    model.fit(x, y, sample_weight=w, batch_size=8, epochs=2, verbose=0,
              shuffle=False)
    variable = model.importance_tracker.importance
    if distributed:
        return [v.numpy().tolist() for v in variable.value.values]
    return [variable.numpy().tolist()]

results["token_drop"] = fit_tables(True, True)

# 3. pretrain(strategy="mirrored"), on both logical CPUs.
model = tokdrop_keras.pretrain(tokdrop_keras.PretrainConfig(
    strategy="mirrored", size="nano", num_layers=2, hidden_dim=32,
    intermediate_dim=64, seq_length=32, batch_size=8, steps=3, eval_steps=1,
)).model
results["pretrain_replicas"] = model.distribute_strategy.num_replicas_in_sync
results["pretrain"] = [
    v.numpy().tolist() for v in model.importance_tracker.importance.value.values
]
results["baseline"] = fit_tables(False, True)
results["baseline_single_device"] = fit_tables(False, False)
print("RESULTS " + json.dumps(results))
"""


def run_script():
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(
        os.environ,
        PYTHONPATH=tests_dir,
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    process = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    line = [l for l in process.stdout.splitlines() if l.startswith("RESULTS ")]
    return json.loads(line[-1][len("RESULTS ") :])


def test_replicas_share_one_table():
    results = run_script()

    # Sums are all-reduced before the update: id 5 averages over both
    # replicas (1*1 + 3*1 + 5*2) / 4 = 3.5; id 8 (4 + 6) / 2 = 5.
    expected = np.full(10, 10.0)
    expected[5] = 0.5 * 10 + 0.5 * 3.5
    expected[7] = 0.5 * 10 + 0.5 * 2.0
    expected[8] = 0.5 * 10 + 0.5 * 5.0
    for table in results["tracker"]:
        np.testing.assert_array_equal(table, expected)

    assert results["pretrain_replicas"] == 2
    for arm in ("token_drop", "baseline", "pretrain"):
        first, second = results[arm]
        np.testing.assert_array_equal(first, second)
        assert np.any(np.array(first) != 10.0)
    # Two replicas of half the batch update the table as one device would.
    np.testing.assert_allclose(
        results["baseline"][0], results["baseline_single_device"][0], rtol=1e-5
    )
