"""benchmarks/gpu_step_time.py: its HLO reading, kernel kinds and --quick run."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import gpu_step_time  # noqa: E402

HLO = """
  %fusion.3 = bf16[32,512,768]{2,1,0} fusion(%p0), kind=kLoop, metadata={op_name="jit(train_step)/token_drop_backbone/token_drop/take_along_axis"}
  %gather.1 = bf16[32,256,768]{2,1,0} gather(%a, %b), metadata={op_name="jit(train_step)/token_drop_backbone/token_drop/gather"}
  %scatter.2 = f32[30522]{0} scatter(%t, %i, %u), metadata={op_name="jit(train_step)/importance_update/scatter-add"}
  %custom-call.4 = (bf16[32,512,12,64]{3,2,1,0}, u8[0]{0}) custom-call(%q, %k, %v), custom_call_target="__cudnn$fmhaSoftmax", metadata={op_name="jit(train_step)/dot_product_attention/cudnn"}
  %dot.5 = f32[8,8]{1,0} dot(%x, %y), metadata={op_name="jit(train_step)/mlm_head/dot_general"}
  %add.6 = u32[4]{0} add(%r, %s), metadata={op_name="jit(train_step)/dropout/jit(_bernoulli)/jit(_uniform)/add"}
  ROOT %multiply.7 = f32[8]{0} multiply(%m, %n), metadata={op_name="jit(train_step)/adam_w/multiply"}
"""


def test_hlo_counts_tell_the_paths_apart():
    counts = gpu_step_time.hlo_counts(HLO)
    assert counts == {
        "fused_attention_calls": 1,
        "gathers": 1,
        "scatters": 1,
        "dots": 1,
        "random_draws": 1,
        "sorts": 0,
    }


def test_every_kernel_gets_its_kind():
    table = gpu_step_time.instruction_table(HLO)
    kinds = {name: gpu_step_time.kind_of(*table[name], name=name) for name in table}
    assert kinds == {
        "fusion.3": "token-drop machinery",
        "gather.1": "token-drop machinery",
        "scatter.2": "table update",
        "custom-call.4": "attention",
        "dot.5": "matmul",
        "add.6": "random bits",
        "multiply.7": "optimizer",
    }


def test_quick_run_writes_the_json(tmp_path):
    out = tmp_path / "quick.json"
    process = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "benchmarks", "gpu_step_time.py"),
            "--quick", "--configs", "2", "--profile", "--no_peer",
            "--out", str(out),
        ],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert process.returncode == 0, process.stderr[-3000:]
    record = json.loads(out.read_text())
    assert record["versions"]["platform"] == "cpu"
    [config] = record["configs"].values()
    hlo = config["hlo"]
    # On the CPU: XLA's einsum attention, no fused call.
    assert config["attention_path"] == {
        "baseline": "xla einsum", "token_drop": "xla einsum"
    }
    assert hlo["baseline"]["fused_attention_calls"] == 0
    # Selection, gather and restore add gathers/scatters (CPU takes).
    assert hlo["token_drop"]["gathers"] > hlo["baseline"]["gathers"]
    assert 0.5 < config["flop_ratio"] < 1.0
    assert all(ms > 0 for ms in config["median_step_ms"].values())
    profile = record["profile"]
    assert profile["baseline"]["ms_per_step"]["token-drop machinery"] == 0
    assert profile["token_drop"]["ms_per_step"]["token-drop machinery"] > 0
    assert profile["token_drop"]["ms_per_step"]["attention"] > 0
    assert profile["token_drop"]["kernels_matched_to_hlo"] > 10
    # The cuDNN variants of the attention study say why they did not run.
    assert "cuDNN" in record["attention_alone_ms"]["cudnn, no dropout"]
    assert record["errors"] == []
