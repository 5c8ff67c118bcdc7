"""One process of a multi-process `pretrain` on JAX's CPU collectives;
run by `test_multi_process.py` (`python multi_process_run.py PROCESS
PROCESSES PORT FOLDER [KILL_AT_STEP]`). With one process it is the
reference: the same global batch (`data_shards=2`) on one device. Writes
its losses and importance table to `FOLDER/process<PROCESS>.npz`."""

import os
import signal
import sys

os.environ["KERAS_BACKEND"] = "jax"

import jax  # noqa: E402

jax.config.update("jax_cpu_collectives_implementation", "gloo")

import keras  # noqa: E402

process, processes, port, folder = sys.argv[1:5]
process, processes = int(process), int(processes)
kill_at_step = int(sys.argv[5]) if len(sys.argv) > 5 else None
if processes > 1:  # as experiments/pretrain.py joins them
    from tokdrop_keras.training.distribution import initialize_processes

    os.environ["KERAS_DISTRIBUTION_JOB_ADDRESSES"] = f"localhost:{port}"
    os.environ["KERAS_DISTRIBUTION_NUM_PROCESSES"] = str(processes)
    os.environ["KERAS_DISTRIBUTION_PROCESS_ID"] = str(process)
    assert initialize_processes()

import numpy as np  # noqa: E402

import tokdrop_keras  # noqa: E402


class KillAtStep(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) == kill_at_step:
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup of any kind


config = tokdrop_keras.PretrainConfig(
    size="nano", num_layers=4, hidden_dim=32, num_heads=2, intermediate_dim=64,
    seq_length=32, batch_size=8, eval_steps=1, log_every=1, dropout=0.1,
    steps=4, checkpoint_every=2, data_pipeline="grain", data_shards=2,
    strategy="data_parallel" if processes > 1 else "default",
    model_dir=os.path.join(folder, "run"),
    export_dir=os.path.join(folder, "export"), transformers=False,
)
callbacks = [KillAtStep()] if kill_at_step else []
result = tokdrop_keras.pretrain(config, callbacks=callbacks)
np.savez(
    os.path.join(folder, f"process{process}.npz"),
    losses=[loss for _, _, loss in result.summary["loss_history"]],
    eval_loss=result.eval_loss,
    resumed_from_step=result.summary["resumed_from_step"],
    resumed_data_from=str(result.summary["resumed_data_from"]),
    table=keras.ops.convert_to_numpy(result.model.importance_tracker.importance),
)
