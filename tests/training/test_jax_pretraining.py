"""`pretrain` on JAX: `data_parallel` over two XLA host devices keeps one
table (replicated, equal to a one-device run's), checkpoints restore the
table, `mixed_bfloat16` trains, the export has the preset, the table and
the SavedModel (converted in a TensorFlow process)."""

import json
import os
import subprocess
import sys

import keras
import pytest

# One worker runs this module (make test: --dist loadgroup).
pytestmark = [
    pytest.mark.xdist_group("jax_pretraining"),
    pytest.mark.skipif(
        keras.backend.backend() != "tensorflow",
        reason="runs JAX in a subprocess from the TensorFlow suite",
    ),
]


# Session scope: built once per worker even when xdist runs other modules'
# tests between this module's (a module fixture is torn down and rebuilt).
@pytest.fixture(scope="session")
def results(tmp_path_factory):
    pytest.importorskip("jax")
    folder = str(tmp_path_factory.mktemp("jax_pretraining"))
    here = os.path.dirname(__file__)
    subprocess.run(
        [sys.executable, os.path.join(here, "jax_pretraining_run.py"), folder],
        env=dict(
            os.environ,
            KERAS_BACKEND="jax",
            XLA_FLAGS="--xla_force_host_platform_device_count=2",
            PYTHONPATH=os.path.dirname(here),
        ),
        check=True,
    )
    with open(os.path.join(folder, "results.json")) as file:
        return json.load(file)


def test_data_parallel_keeps_one_table(results):
    assert results["devices"] == 2
    assert results["table_shards"] == 2
    assert results["table_replicated"] and results["shards_equal"]
    assert results["kernel_sharding_devices"] == 2
    # The global batch updates the table once: as on one device.
    assert results["table_moved"] > 0
    assert results["table_difference"] < 1e-5
    assert results["loss_difference"] < 1e-4
    assert results["steps"] == 4


def test_checkpoints_restore_the_table(results):
    # What pretrain's resume loads: the step and the table.
    assert results["restored_step"] == 4
    assert results["restored_table_equal"]


def test_mixed_bfloat16_and_the_export(results):
    assert results["mixed_losses_finite"]
    assert results["mixed_table_dtype"] == "float32"
    assert results["mixed_compute_dtype"] == "bfloat16"
    assert results["policy_after_mixed_run"] == "float32"
    assert results["export"] == ["hf", "importance.tsv", "preset", "saved_model"]
