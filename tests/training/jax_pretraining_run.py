"""`pretrain` on JAX with `data_parallel` over two XLA host devices; run by
`test_jax_pretraining.py` in a subprocess (KERAS_BACKEND=jax,
XLA_FLAGS=--xla_force_host_platform_device_count=2). Writes what it saw to
`folder/results.json`."""

import json
import os
import sys

import jax
import keras
import numpy as np

import tokdrop_keras
from tokdrop_keras.training.run_directory import RunDirectory


def config(folder, name, **overrides):
    settings = dict(
        size="nano", num_layers=2, seq_length=32, batch_size=4, steps=4,
        checkpoint_every=2, eval_steps=1, log_every=1, seed=0,
        model_dir=os.path.join(folder, name),
    )
    return tokdrop_keras.PretrainConfig(**{**settings, **overrides})


def losses(result):
    return np.array([loss for _, _, loss in result.summary["loss_history"]])


def table(model):
    return model.importance_tracker.importance.numpy()


def main(folder):
    results = {"devices": len(jax.devices())}
    parallel = tokdrop_keras.pretrain(config(
        folder, "parallel", strategy="data_parallel",
        export_dir=os.path.join(folder, "export"),
    ))
    importance = parallel.model.importance_tracker.importance.value
    shards = [np.asarray(s.data) for s in importance.addressable_shards]
    results["table_shards"] = len(shards)
    results["table_replicated"] = bool(importance.sharding.is_fully_replicated)
    results["shards_equal"] = all(np.array_equal(s, shards[0]) for s in shards)
    results["kernel_sharding_devices"] = len(
        parallel.model.backbone.weights[0].value.sharding.device_set
    )
    single = tokdrop_keras.pretrain(config(folder, "single"))
    results["table_difference"] = float(
        np.max(np.abs(table(parallel.model) - table(single.model))
               / np.abs(table(single.model)))
    )
    results["loss_difference"] = float(np.max(np.abs(
        losses(parallel) - losses(single)
    )))
    results["table_moved"] = int(np.sum(table(parallel.model) != 10.0))
    results["steps"] = parallel.summary["steps"]
    results["export"] = sorted(os.listdir(os.path.join(folder, "export")))

    # Resume: the checkpoint holds the table.
    fresh = tokdrop_keras.training.pretraining.build_masked_lm(
        config(folder, "parallel", strategy="data_parallel"), parallel.tokenizer
    )
    fresh.optimizer.build(fresh.trainable_variables)
    results["restored_step"] = RunDirectory(
        os.path.join(folder, "parallel")
    ).restore(fresh)
    results["restored_table_equal"] = bool(
        np.array_equal(table(fresh), table(parallel.model))
    )
    # Mixed precision, data parallel.
    keras.mixed_precision.set_global_policy("float32")
    mixed = tokdrop_keras.pretrain(config(
        folder, "mixed", strategy="data_parallel",
        mixed_precision="mixed_bfloat16", steps=2,
    ))
    # pretrain leaves the global policy as it found it.
    results["policy_after_mixed_run"] = keras.mixed_precision.global_policy().name
    results["mixed_losses_finite"] = bool(
        np.all(np.isfinite(losses(mixed)))
    )
    results["mixed_table_dtype"] = str(table(mixed.model).dtype)
    results["mixed_compute_dtype"] = mixed.model.backbone.compute_dtype
    with open(os.path.join(folder, "results.json"), "w") as file:
        json.dump(results, file, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
