"""The scripts in experiments/: bad input ends in one clear line, exit 2."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def run_script(name, *argv):
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "experiments", name), *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=300,
    )


@pytest.mark.parametrize(
    "script, argv, message",
    [
        ("pretrain.py", ["--size", "huge"], "pretrain.py: error: Unknown size 'huge'"),
        ("pretrain.py", ["--preset", "tiny"], "unrecognized arguments: --preset tiny"),
        ("finetune.py", [], "finetune.py: error: `export_dir` is required"),
        ("demo.py", ["--steps", "30"], "demo.py: error: `steps` (30) must be a multiple of `evaluations` (4)"),
        ("pretrain.py", ["--backend", "torch"], "pretrain.py: error: --backend 'torch' is not supported; choose one of auto, tensorflow, jax"),
        ("pretrain.py", ["--backend", "jax", "--strategy", "mirrored"], "on JAX use strategy='data_parallel'"),
        ("pretrain.py", ["--backend=jax", "--strategy", "tpu", "--tpu", "x"], "on JAX use strategy='data_parallel'"),
        ("pretrain.py", ["--strategy", "data_parallel"], "on TensorFlow use 'mirrored'"),
        ("ablation_report.py", ["/nonexistent/runs"], "ablation_report.py: error: No results under /nonexistent/runs"),
        ("ablation.py", ["--arms", "baseline,everything"], "ablation.py: error: Unknown arm 'everything'"),
    ],
)
def test_bad_input_is_one_line_naming_it(script, argv, message):
    process = run_script(script, *argv)
    assert process.returncode == 2
    assert message in process.stderr
    assert "Traceback" not in process.stderr
