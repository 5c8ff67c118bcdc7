import statistics
import sys
import time
import warnings

import keras
import numpy as np

from tokdrop_keras.backend import tensorflow_installed


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite; training was stopped.

    `tokdrop_keras.pretrain` raises it after `StopOnNonFiniteLoss` stopped
    the run, naming the step and the last good checkpoint.

    Example:
    ```python
    from tokdrop_keras.training.callbacks import NonFiniteLossError
    try:
        raise NonFiniteLossError("The training loss became non-finite at step 7")
    except RuntimeError as error:
        assert "step 7" in str(error)
    ```
    """


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops training at the first step whose loss is NaN or infinite.

    Unlike `keras.callbacks.TerminateOnNaN` it remembers the step
    (`stopped_at_step`), so that the run can say where it diverged, and the
    checkpoint callback of `RunDirectory` does not save the diverged epoch.

    Example:
    ```python
    guard = tokdrop_keras.training.callbacks.StopOnNonFiniteLoss()
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(1e30), loss="mse")
    model.fit(np.ones((8, 1)) * 1e10, np.ones((8, 1)), batch_size=1,
              callbacks=[guard], verbose=0)
    assert guard.stopped_at_step is not None and guard.stopped_at_step < 8
    ```
    """

    def __init__(self):
        super().__init__()
        self.stopped_at_step = None
        self._warned = False

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        skipped = logs.get("nonfinite_losses")
        if skipped is not None and float(skipped) > 0 and not self._warned:
            self._warned = True
            warnings.warn(
                f"{int(float(skipped))} masked-LM losses were NaN or infinite "
                "in this epoch; they were left out of the importance table."
            )
        loss = logs.get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            self.stopped_at_step = int(self.model.optimizer.iterations.numpy())
            self.model.stop_training = True

    def raise_if_stopped(self, saved_step=None, model_dir=None):
        """Raises `NonFiniteLossError` if training was stopped, naming the
        step and the last good checkpoint (`saved_step` in `model_dir`)."""
        if self.stopped_at_step is None:
            return
        raise NonFiniteLossError(
            f"The training loss became non-finite at step "
            f"{self.stopped_at_step} (too high a learning rate?); training "
            "stopped there and nothing was exported. "
            + (
                f"The last good checkpoint (step {saved_step}) in {model_dir} "
                "is intact."
                if saved_step
                else "No checkpoint had been written."
            )
        )


class TrainingLog(keras.callbacks.Callback):
    """Step times, throughput and the loss curve of a pretraining run.

    Records `(step, training seconds, loss)` after every step and
    `(step, training seconds, val_loss, val_accuracy)` after every epoch
    with validation, for plots (training seconds: the summed step times,
    without evaluations and callbacks); writes
    `examples_per_second`, `tokens_per_second` and `learning_rate` to
    TensorBoard every `log_every` steps, and, when stdout is not a terminal
    (a TPU job's log, CI), prints a one-line summary instead of the progress
    bar.

    Args:
        batch_size: int. Global batch size.
        sequence_length: int.
        log_every: int. Steps between summaries.
        log_dir: folder for TensorBoard scalars, or `None`.
        print_summaries: bool. Print one line per `log_every` steps; defaults
            to `not sys.stdout.isatty()`.

    Example:
    ```python
    from tokdrop_keras.training import TrainingLog
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    log = TrainingLog(batch_size=2, sequence_length=4, log_every=2,
                      print_summaries=False)
    model.fit(np.ones((8, 4)), np.ones((8, 1)), batch_size=2, epochs=1,
              callbacks=[log], verbose=0)
    assert [step for step, seconds, loss in log.history] == [1, 2, 3, 4]
    assert log.median_step_seconds(skip=1) > 0
    ```
    """

    def __init__(
        self,
        batch_size,
        sequence_length,
        log_every=100,
        log_dir=None,
        print_summaries=None,
    ):
        super().__init__()
        self.batch_size = batch_size
        self.sequence_length = sequence_length
        self.log_every = log_every
        # TensorBoard scalars where TensorFlow writes them.
        self.writer = None
        if log_dir and tensorflow_installed():
            import tensorflow as tf

            self.writer = tf.summary.create_file_writer(log_dir)
        self.print_summaries = (
            not sys.stdout.isatty() if print_summaries is None else print_summaries
        )
        self.history = []
        self.evaluations = []
        self.step_seconds = []
        # Seconds from one step's end to the next one's start: reading the
        # batch (what the input pipeline did not prefetch) and Keras' own.
        self.wait_seconds = []
        self._batch_start = None
        self._batch_end = None
        self._running_mean = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self._batch_start = time.perf_counter()
        if self._batch_end is not None and batch > 0:
            self.wait_seconds.append(self._batch_start - self._batch_end)

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        self._batch_end = now
        self.step_seconds.append(now - self._batch_start)
        step = int(self.model.optimizer.iterations.numpy())
        # Keras logs the epoch's running mean; recover this step's loss.
        running_mean = float(logs["loss"])
        previous_mean = self._running_mean if batch > 0 else 0.0
        loss = (batch + 1) * running_mean - batch * previous_mean
        self._running_mean = running_mean
        self.history.append((step, sum(self.step_seconds), loss))
        if step % self.log_every:
            return
        recent = self.step_seconds[-self.log_every :]
        examples_per_second = self.batch_size * len(recent) / sum(recent)
        learning_rate = float(
            keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
        )
        if self.writer is not None:
            import tensorflow as tf

            with self.writer.as_default(step=step):
                tf.summary.scalar("examples_per_second", examples_per_second)
                tf.summary.scalar(
                    "tokens_per_second",
                    examples_per_second * self.sequence_length,
                )
                tf.summary.scalar("learning_rate", learning_rate)
            self.writer.flush()
        if self.print_summaries:
            metrics = " ".join(f"{k}={float(v):.4f}" for k, v in logs.items())
            print(
                f"step {step}: {metrics} lr={learning_rate:.3g} "
                f"examples/s={examples_per_second:.1f}",
                flush=True,
            )

    def on_epoch_end(self, epoch, logs=None):
        if logs and "val_loss" in logs:
            self.evaluations.append(
                (
                    int(self.model.optimizer.iterations.numpy()),
                    sum(self.step_seconds),
                    float(logs["val_loss"]),
                    float(logs["val_accuracy"]),
                )
            )

    def median_step_seconds(self, skip=5):
        """Median step time, leaving out the first (compiling) steps; `None`
        before any step."""
        times = self.step_seconds[skip:] or self.step_seconds
        return statistics.median(times) if times else None

    def summary(self, losses):
        """The run summary's timing and loss entries; `losses` are `fit`'s
        per-epoch training losses (`history.history["loss"]`)."""
        step_seconds = self.median_step_seconds()
        return {
            "median_step_seconds": step_seconds,
            "tokens_per_second": (
                self.batch_size * self.sequence_length / step_seconds
                if step_seconds
                else None
            ),
            "data_wait_share": (
                sum(self.wait_seconds)
                / (sum(self.wait_seconds) + sum(self.step_seconds))
                if self.wait_seconds
                else None
            ),
            "loss_history": self.history,
            "eval_history": self.evaluations,
            "final_train_loss": losses[-1] if losses else None,
        }
