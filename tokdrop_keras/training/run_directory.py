"""A pretraining run's `model_dir`: its settings, checkpoints and summary.

    model_dir/
      run_config.json                 the run's PretrainConfig, written first
      checkpoint.weights.h5           weights, optimizer state (its step
                                      count included), importance table and
                                      the random generators' states
      checkpoint.previous.weights.h5  the one before, kept until the next
                                      one is whole
      data_state/stepN.shardsA-B.json the Grain pipeline's position at the
                                      checkpoint's step, per process (its
                                      shards A..B): a resumed run reads on
                                      from there instead of re-reading
      logs/                           TensorBoard
      summary.json                    the result, with the whole config

Resuming needs only public Keras API: `save_weights` / `load_weights` hold
the optimizer's step counter, so the step to resume from is read from the
checkpoint itself, never from a separate file that could disagree with it.
The random generators' states (dropout's, the tie-breaking's), which Keras
does not save, are part of `TokenDropMaskedLM`'s own saved variables, so
that a resumed run continues bit for bit as an uninterrupted one would.
"""

import json
import os
import tempfile
import uuid
import warnings

import keras
import numpy as np
import tokdrop_keras.filesystem as filesystem

RUN_CONFIG_FILE = "run_config.json"
CHECKPOINT_FILE = "checkpoint.weights.h5"
PREVIOUS_CHECKPOINT_FILE = "checkpoint.previous.weights.h5"
SUMMARY_FILE = "summary.json"
LOG_DIR = "logs"
DATA_STATE_DIR = "data_state"
TEMPORARY_SUFFIX = ".tmp.weights.h5"


def write_json(path, value):
    """Writes `value` as JSON to `path` atomically (temporary file + rename).

    Example:
    ```python
    import tempfile
    path = os.path.join(tempfile.mkdtemp(), "a.json")
    tokdrop_keras.training.write_json(path, {"steps": 3})
    assert open(path).read() == '{"steps": 3}'
    ```
    """
    temporary = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
    with filesystem.open_file(temporary, "w") as file:
        json.dump(value, file)
    filesystem.rename(temporary, path, overwrite=True)


def read_json(path):
    """Reads the JSON file `path` (local or `gs://`).

    Example:
    ```python
    import tempfile
    from tokdrop_keras.training.run_directory import read_json
    path = os.path.join(tempfile.mkdtemp(), "summary.json")
    tokdrop_keras.training.write_json(path, {"steps": 3, "loss": [9.0, 8.5]})
    assert read_json(path) == {"steps": 3, "loss": [9.0, 8.5]}
    ```
    """
    with filesystem.open_file(path) as file:
        return json.load(file)


class RunDirectory:
    """The files of one run in `model_dir` (local or `gs://`).

    Args:
        model_dir: the folder.

    Example:
    ```python
    import tempfile
    run = tokdrop_keras.training.RunDirectory(tempfile.mkdtemp())
    config = tokdrop_keras.PretrainConfig(steps=10, checkpoint_every=5)
    run.claim(config)  # a new run: writes run_config.json
    run.claim(config.replace(log_every=1))  # same run: fine
    try:
        run.claim(config.replace(steps=20))
        raise AssertionError("a different run was accepted")
    except ValueError as error:
        assert "steps: 10 -> 20" in str(error)
    ```
    """

    def __init__(self, model_dir, writer=True):
        self.model_dir = model_dir
        # Of a multi-process run's processes, one writes (the others read
        # the same checkpoints to resume).
        self.writer = writer
        # The step of the last checkpoint this process wrote or read.
        self.saved_step = None

    def path(self, name):
        return os.path.join(self.model_dir, name)

    def claim(self, config):
        """Records `config` as this folder's run, or checks it is the same.

        Raises:
            ValueError: if the folder holds a run with other settings (other
                than those a resumed run may change,
                `PretrainConfig.RESUMABLE_CHANGES`), naming them.
        """
        path = self.path(RUN_CONFIG_FILE)
        if not self.writer:
            return
        if filesystem.exists(path):
            recorded = type(config).from_dict(read_json(path))
            differences = recorded.differences(
                config, ignore=config.RESUMABLE_CHANGES
            )
            if differences:
                listed = ", ".join(
                    f"{name}: {old!r} -> {new!r}"
                    for name, (old, new) in differences.items()
                )
                raise ValueError(
                    f"{self.model_dir} holds a run with other settings "
                    f"({listed}); resuming it would mix two runs. Use "
                    "another model_dir, or the recorded settings "
                    f"({path})."
                )
        filesystem.makedirs(self.model_dir)
        write_json(path, config.to_dict())

    def restore(self, model):
        """Loads the latest whole checkpoint into `model` (compiled, with a
        built optimizer); returns the steps it had trained, 0 if none.

        A checkpoint that cannot be read (a torn write) is skipped, with a
        warning, for the previous one. Stale temporary files of an
        interrupted save are removed.
        """
        self._remove_stale_temporaries()
        for name in (CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE):
            path = self.path(name)
            if not filesystem.exists(path):
                continue
            with tempfile.TemporaryDirectory() as local:
                local_path = os.path.join(local, CHECKPOINT_FILE)
                try:
                    filesystem.copy(path, local_path, overwrite=True)
                    model.load_weights(local_path)
                except Exception as error:  # h5py / Keras raise several types
                    warnings.warn(
                        f"Could not read the checkpoint {path} ({error}); "
                        "trying the previous one."
                    )
                    continue
            self.saved_step = int(
                keras.ops.convert_to_numpy(model.optimizer.iterations)
            )
            return self.saved_step
        return 0

    def save(self, model):
        """Writes a checkpoint of `model` (`save_weights`: weights, optimizer
        state, table and random-generator states), keeping the previous one
        until the new one is whole."""
        self.saved_step = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
        temporary = self.path(f".{uuid.uuid4().hex[:8]}{TEMPORARY_SUFFIX}")
        with tempfile.TemporaryDirectory() as local:
            local_path = os.path.join(local, CHECKPOINT_FILE)
            # Every process takes part (gathering sharded values may be a
            # collective); one writes.
            model.save_weights(local_path)
            if not self.writer:
                return
            filesystem.copy(local_path, temporary, overwrite=True)
        latest = self.path(CHECKPOINT_FILE)
        if filesystem.exists(latest):
            filesystem.rename(
                latest, self.path(PREVIOUS_CHECKPOINT_FILE), overwrite=True
            )
        filesystem.rename(temporary, latest, overwrite=True)

    def data_state_path(self, step, key):
        return self.path(os.path.join(DATA_STATE_DIR, f"step{step}.{key}.json"))

    def save_data_state(self, step, key, state):
        """Writes the input pipeline's `state` at `step` for this process's
        data (`key`); every process writes its own, before the checkpoint
        of `step`. Keeps the states of the last two checkpoints."""
        filesystem.makedirs(self.path(DATA_STATE_DIR))
        write_json(self.data_state_path(step, key), state)
        kept = {step, self.saved_step}
        for name in filesystem.listdir(self.path(DATA_STATE_DIR)):
            stem, _, rest = name.partition(".")
            if rest == f"{key}.json" and stem[4:].isdigit() and int(stem[4:]) not in kept:
                filesystem.remove(self.path(os.path.join(DATA_STATE_DIR, name)))

    def read_data_state(self, step, key):
        """The state `save_data_state` wrote at `step` for `key`, or `None`."""
        path = self.data_state_path(step, key)
        return read_json(path) if filesystem.exists(path) else None

    def _remove_stale_temporaries(self):
        if not self.writer or not filesystem.isdir(self.model_dir):
            return
        for name in filesystem.listdir(self.model_dir):
            if name.endswith(TEMPORARY_SUFFIX) or ".json.tmp-" in name:
                filesystem.remove(self.path(name))

    def checkpoint_callback(self):
        """A Keras callback that saves a checkpoint after every epoch."""
        return _SaveCheckpoint(self)

    def write_summary(self, summary):
        if self.writer:
            write_json(self.path(SUMMARY_FILE), summary)


class _SaveCheckpoint(keras.callbacks.Callback):
    def __init__(self, run_directory):
        super().__init__()
        self.run_directory = run_directory

    def on_epoch_end(self, epoch, logs=None):
        # A diverged epoch is not saved: the last good checkpoint stays.
        if logs and not np.isfinite(float(logs.get("loss", 0.0))):
            return
        self.run_directory.save(self.model)
