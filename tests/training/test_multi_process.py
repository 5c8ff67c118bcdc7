"""Several hosts on JAX: two processes on this machine (JAX's CPU
collectives, `keras.distribution.initialize`) train as one process does on
the same global batch; each reads its own shard, the importance table is
the same everywhere, the checkpoints are written once and restored by
both after a kill -9."""

import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="JAX's multi-process runtime"
)
SCRIPT = os.path.join(os.path.dirname(__file__), "multi_process_run.py")
REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(SCRIPT)))


def free_port():
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def launch(processes, folder, *extra):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": REPOSITORY, "KERAS_BACKEND": "jax"}
    running = [
        subprocess.Popen(
            [sys.executable, SCRIPT, str(i), str(processes), str(port), folder, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )
        for i in range(processes)
    ]
    return [(p.wait(timeout=600), p.stdout.read()) for p in running]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("multi_process")
    one, two = str(folder / "one"), str(folder / "two")
    for (code, output) in launch(1, one):
        assert code == 0, output[-3000:]
    # Both processes killed after step 3 (checkpoint at 2), then resumed.
    for (code, output) in launch(2, two, "3"):
        assert code == -9, output[-3000:]
    for (code, output) in launch(2, two):
        assert code == 0, output[-3000:]
    return {
        "one": dict(np.load(os.path.join(one, "process0.npz"))),
        "two": [dict(np.load(os.path.join(two, f"process{i}.npz"))) for i in range(2)],
        "files": sorted(os.listdir(os.path.join(two, "run"))),
        "data_state": sorted(os.listdir(os.path.join(two, "run", "data_state"))),
        "export": sorted(os.listdir(os.path.join(two, "export"))),
    }


def test_two_processes_train_as_one_on_the_same_global_batch(runs):
    one = runs["one"]
    for process in runs["two"]:
        assert int(process["resumed_from_step"]) == 2
        assert process["resumed_data_from"] == "recorded position"
        # The resumed run's losses: steps 3 and 4.
        np.testing.assert_allclose(process["losses"], one["losses"][2:], atol=1e-4)
        np.testing.assert_allclose(process["eval_loss"], one["eval_loss"], atol=1e-4)
        np.testing.assert_allclose(process["table"], one["table"], atol=1e-4)
    np.testing.assert_array_equal(runs["two"][0]["table"], runs["two"][1]["table"])
    assert not np.allclose(one["table"], 10.0)  # the table moved


def test_checkpoints_and_export_are_written_once(runs):
    assert runs["files"] == [
        "checkpoint.previous.weights.h5", "checkpoint.weights.h5",
        "data_state", "run_config.json", "summary.json",
    ]
    # Each process records its own shard's position, at the last two
    # checkpoints.
    assert runs["data_state"] == sorted(
        f"step{step}.shards{shard}-{shard}of2.json"
        for shard in (0, 1) for step in (2, 4)
    )
    assert runs["export"] == ["importance.tsv", "preset"]
