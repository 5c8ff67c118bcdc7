"""Train-step time of BERT-base on a GPU: our baseline and token drop, the peer.

One command, one JSON (written after every measurement, so a run cut off
still leaves numbers):

    python benchmarks/gpu_step_time.py --out gpu_step_time.json [--profile]

- BERT-base (`--size`), `mixed_bfloat16`, the package's AdamW, compiled
  `train_on_batch` on device-resident synthetic padding-free batches with
  15% predictions; baseline and token drop alternate, median of `--rounds`
  rounds of `--steps` steps.
- Configurations: S512 B32 and S128 B128, each with dropout 0.1 (BERT's
  recipe: attention-probability dropout too), dropout 0.1 with
  `attention_dropout=0` (hidden dropout only: fused attention) and
  dropout 0.
- Per model: the count of cuDNN fused-attention calls, gathers, scatters,
  dots and random-bit ops in the optimized HLO of the train step (read from
  an XLA dump), MFU against 989 TFLOP/s (H100/H200 dense bf16) counting the
  FLOPs the step computes (`tokdrop_keras.models.flops`, x3 for training),
  and peak device memory.
- Attention alone, one layer forward + backward: cuDNN with and without
  its own dropout, Keras' einsum path with dropout, and the random bits of
  that dropout with and without JAX's GPU threefry kernel
  (`jax_threefry_gpu_kernel_lowering`) -- the ways to keep BERT's
  attention dropout (GPU only).
- The peer: transformers' `BertForMaskedLM` (SDPA, bf16 autocast, fused
  AdamW, eager and `torch.compile`, head on the masked positions), run in a
  subprocess when torch and transformers import.
- `--profile`: a `jax.profiler` trace of a few steps of each model of the
  first configuration, summed into step time by kind of kernel (attention,
  matmul, random bits, gather/scatter, token-drop selection/gather/restore,
  table update, optimizer, other), each kernel classified by the HLO
  instruction it ran and that instruction's JAX name scope.

`--quick` runs the same code at a tiny size on the CPU (CI runs it).
"""

import argparse
import contextlib
import glob
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEAK_FLOPS = 989e12  # H100 / H200 SXM dense bf16, datasheet
BERT_VOCABULARY = 30522
PAD, UNK, CLS, SEP, MASK = 0, 100, 101, 102, 103
# (sequence length, batch, dropout, attention_dropout): None follows dropout.
FULL_PLAN = (
    (512, 32, 0.1, None),
    (512, 32, 0.1, 0.0),
    (512, 32, 0.0, None),
    (128, 128, 0.1, None),
    (128, 128, 0.1, 0.0),
    (128, 128, 0.0, None),
)
QUICK_PLAN = ((32, 4, 0.1, None), (32, 4, 0.1, 0.0), (16, 8, 0.0, None))
KINDS = (
    "attention",
    "matmul",
    "random bits",
    "gather/scatter",
    "token-drop machinery",
    "table update",
    "optimizer",
    "other",
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=None, help="the JSON to write")
    parser.add_argument("--quick", action="store_true",
                        help="tiny shapes on the CPU (CI)")
    parser.add_argument("--profile", action="store_true",
                        help="step time by kind of kernel, from a trace")
    parser.add_argument("--size", default=None,
                        help="model size (default base; nano with --quick)")
    parser.add_argument("--configs", default=None,
                        help="indices into the plan, e.g. 0,2 (default all)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--budget_s", type=float, default=540,
                        help="skip what would not finish in this time")
    parser.add_argument("--no_peer", action="store_true")
    parser.add_argument("--threefry_gpu_kernel", action="store_true",
                        help="set jax_threefry_gpu_kernel_lowering for the run")
    parser.add_argument("--gather", choices=("auto", "take", "one_hot"),
                        default="auto",
                        help="how kept rows are gathered (TOKDROP_GATHER); "
                        "auto: the platform's")
    parser.add_argument("--peer_only", action="store_true",
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


class Record:
    """The JSON, written after every change."""

    def __init__(self, path):
        self.path = path
        self.data = {"errors": []}
        self.start = time.time()

    def save(self):
        self.data["elapsed_s"] = round(time.time() - self.start, 1)
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path, "w") as f:
            json.dump(self.data, f, indent=1, default=str)

    def error(self, what):
        self.data["errors"].append(f"{what}: {traceback.format_exc()[-2000:]}")
        print("ERROR", what, traceback.format_exc()[-1500:], flush=True)
        self.save()


def log(*parts):
    print(time.strftime("[%H:%M:%S]"), *parts, flush=True)


# === HLO of the train step ===


RANDOM_SCOPE = r'op_name="([^"]*?jit\((?:_uniform|_randint|_bernoulli|_random_bits)\))'


def hlo_counts(text):
    """Counts of the instructions that tell the step's paths apart."""
    return {
        "fused_attention_calls": text.count('custom_call_target="__cudnn$fmha'),
        "gathers": len(re.findall(r"= \S+ gather\(", text)),
        "scatters": len(re.findall(r"= \S+ scatter\(", text)),
        "dots": len(re.findall(r"= \S+ dot\(", text))
        + text.count('custom_call_target="__cublas'),
        # One per random draw: the distinct JAX scopes of jax.random's
        # samplers (threefry inlined on CPU, a kernel on GPU).
        "random_draws": len(set(re.findall(RANDOM_SCOPE, text))),
        "sorts": len(re.findall(r"= \S+ sort\(", text)),
    }


def instruction_table(text):
    """HLO instruction name -> (opcode, custom-call target, JAX op_name)."""
    table = {}
    pattern = re.compile(r"^\s*(?:ROOT )?%?([\w.\-]+) = .+? ([\w\-]+)\(")
    for line in text.splitlines():
        match = pattern.match(line)
        if not match:
            continue
        target = re.search(r'custom_call_target="([^"]+)"', line)
        op_name = re.search(r'op_name="([^"]+)"', line)
        table[match.group(1)] = (
            match.group(2),
            target.group(1) if target else "",
            op_name.group(1) if op_name else "",
        )
    return table


def kind_of(opcode, target, op_name, name=""):
    """One of `KINDS` for a kernel."""
    scope = op_name.lower()
    what = f"{opcode} {target} {name}".lower()
    if "fmha" in what or "dot_product_attention" in scope:
        return "attention"
    if "importance_update" in scope or "importance_tracker" in scope:
        return "table update"
    if re.search(r"token_drop/|token_drop\b|token_restore", scope):
        return "token-drop machinery"
    if "optimizer" in scope or "adam" in scope or "/apply" in scope:
        return "optimizer"
    if (
        "rng" in what
        or "threefry" in what + scope
        or re.search(r"_uniform|_randint|_bernoulli|random_bits", scope)
        or "dropout" in scope
    ):
        return "random bits"
    if "gather" in what or "scatter" in what:
        return "gather/scatter"
    if "dot" in what or "gemm" in what or "cublas" in what or "conv" in what:
        return "matmul"
    return "other"


# === The models ===


def synthetic_batch(sequence_length, batch_size, vocabulary_size, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    predictions = round(0.15 * sequence_length)
    ids = rng.integers(MASK + 1, vocabulary_size, (batch_size, sequence_length))
    ids[:, 0], ids[:, -1] = CLS, SEP
    positions = np.sort(
        np.stack(
            [
                rng.choice(sequence_length - 2, predictions, replace=False) + 1
                for _ in range(batch_size)
            ]
        ),
        axis=1,
    )
    targets = np.take_along_axis(ids, positions, axis=1)
    np.put_along_axis(ids, positions, MASK, axis=1)
    x = {
        "token_ids": ids.astype("int32"),
        "segment_ids": np.zeros_like(ids, dtype="int32"),
        "padding_mask": np.ones_like(ids, dtype="int32"),
        "mask_positions": positions.astype("int32"),
    }
    return x, targets.astype("int32"), np.ones(targets.shape, "float32")


def build(size, vocabulary_size, sequence_length, dropout, attention_dropout,
          token_drop):
    import tokdrop_keras
    from tokdrop_keras.models import backbone_for_size

    backbone = backbone_for_size(
        size,
        vocabulary_size=vocabulary_size,
        max_sequence_length=sequence_length,
        seed=0,
        dropout=dropout,
    )
    model = tokdrop_keras.TokenDropMaskedLM(
        backbone,
        token_drop=token_drop,
        always_keep_ids=(UNK, CLS, SEP, MASK),
        always_drop_ids=(PAD,),
        attention_dropout=attention_dropout,
        seed=0,
    )
    model.compile()
    return model


def step_flops(size, vocabulary_size, sequence_length, batch_size, token_drop):
    import tokdrop_keras
    from tokdrop_keras.models import encoder_flops
    from tokdrop_keras.models import token_drop_layout

    shape = tokdrop_keras.models.size_config(size)
    hidden, intermediate = shape["hidden_dim"], shape["intermediate_dim"]
    layout = token_drop_layout(shape["num_layers"], sequence_length)
    baseline, dropped = encoder_flops(layout, hidden, intermediate)
    head = 2 * round(0.15 * sequence_length) * hidden * (hidden + vocabulary_size)
    return 3 * batch_size * ((dropped if token_drop else baseline) + head)


def peak_bytes():
    import jax

    try:
        return jax.devices()[0].memory_stats().get("peak_bytes_in_use")
    except Exception:
        return None


class HloDump:
    """The optimized HLO modules XLA dumps, read as they appear."""

    def __init__(self, folder):
        self.folder = folder
        self.seen = set()

    def new_train_steps(self):
        files = set(
            glob.glob(os.path.join(self.folder, "*train*after_optimizations.txt"))
        )
        new = sorted(files - self.seen)
        self.seen |= files
        return "\n".join(open(f, errors="ignore").read() for f in new)


def run_config(args, record, plan_item, dump, profile_dir):
    import jax
    import keras
    import numpy as np

    sequence_length, batch_size, dropout, attention_dropout = plan_item
    key = (
        f"S{sequence_length} B{batch_size} dropout {dropout}"
        + ("" if attention_dropout is None else f" attention_dropout {attention_dropout}")
    )
    log("config", key)
    data = jax.device_put(
        synthetic_batch(sequence_length, batch_size, args.vocabulary_size)
    )
    models, compile_s, hlo = {}, {}, {}
    instructions = {}
    for name, token_drop in (("baseline", False), ("token_drop", True)):
        start = time.time()
        model = build(
            args.size, args.vocabulary_size, sequence_length, dropout,
            attention_dropout, token_drop,
        )
        model.train_on_batch(*data)
        model.train_on_batch(*data)
        compile_s[name] = round(time.time() - start, 1)
        text = dump.new_train_steps()
        hlo[name] = hlo_counts(text)
        instructions[name] = instruction_table(text)
        models[name] = model
        log(name, "compiled in", compile_s[name], "s;", hlo[name])
    times = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                logs = model.train_on_batch(*data, return_dict=True)
            jax.block_until_ready(logs)
            times[name].append((time.perf_counter() - start) / args.steps)
    median = {name: statistics.median(t) for name, t in times.items()}
    flops = {
        name: step_flops(
            args.size, args.vocabulary_size, sequence_length, batch_size,
            name == "token_drop",
        )
        for name in models
    }
    result = {
        "sequence_length": sequence_length,
        "batch_size": batch_size,
        "dropout": dropout,
        "attention_dropout": attention_dropout,
        "compile_s": compile_s,
        "hlo": hlo,
        "attention_path": {
            name: "cudnn fused" if counts["fused_attention_calls"] else "xla einsum"
            for name, counts in hlo.items()
        },
        "median_step_ms": {n: round(v * 1e3, 3) for n, v in median.items()},
        "round_step_ms": {n: [round(v * 1e3, 3) for v in t] for n, t in times.items()},
        "ratio": median["token_drop"] / median["baseline"],
        "flop_ratio": flops["token_drop"] / flops["baseline"],
        "tokens_per_s": {
            n: sequence_length * batch_size / v for n, v in median.items()
        },
        "mfu": {n: flops[n] / v / PEAK_FLOPS for n, v in median.items()},
        "last_loss": {
            n: float(np.asarray(m.train_on_batch(*data, return_dict=True)["loss"]))
            for n, m in models.items()
        },
        "peak_bytes_in_use": peak_bytes(),
    }
    result["ratio_minus_flop_ratio"] = result["ratio"] - result["flop_ratio"]
    record.data["configs"][key] = result
    record.save()
    log(key, result["median_step_ms"], "ratio %.3f (FLOP ratio %.3f)" % (
        result["ratio"], result["flop_ratio"]), "MFU", result["mfu"])
    if profile_dir is not None:
        record.data["profile"] = {"config": key}
        for name, model in models.items():
            try:
                record.data["profile"][name] = profile(
                    model, data, args.steps, instructions[name],
                    os.path.join(profile_dir, name),
                )
                log("profile", name, record.data["profile"][name]["ms_per_step"])
            except Exception:
                record.error(f"profile {name}")
            record.save()
    del models
    keras.backend.clear_session()


# === --profile ===


def trace_events(folder):
    files = glob.glob(os.path.join(folder, "**", "*.trace.json.gz"), recursive=True)
    files += glob.glob(
        os.path.join(folder, "**", "perfetto_trace.json.gz"), recursive=True
    )
    if not files:
        raise FileNotFoundError(f"no trace written under {folder}")
    with gzip.open(sorted(files)[-1], "rt") as f:
        trace = json.load(f)
    return trace["traceEvents"] if isinstance(trace, dict) else trace


def profile(model, data, steps, instructions, folder):
    """Step time by kind of kernel over `steps` traced steps."""
    import jax

    shutil.rmtree(folder, ignore_errors=True)
    with jax.profiler.trace(folder, create_perfetto_trace=True):
        for _ in range(steps):
            logs = model.train_on_batch(*data, return_dict=True)
        jax.block_until_ready(logs)
    events = trace_events(folder)
    # Device kernels where there are any (GPU streams); else XLA:CPU's ops.
    pids = {}
    for event in events:
        if event.get("ph") == "M" and event.get("name") == "process_name":
            pids[event["pid"]] = str(event.get("args", {}).get("name", ""))
    device = {p for p, n in pids.items() if "/device:" in n and "CPU" not in n}
    by_kind = {kind: 0.0 for kind in KINDS}
    matched = unmatched = 0
    for event in events:
        if event.get("ph") != "X" or "dur" not in event:
            continue
        if device and event.get("pid") not in device:
            continue
        event_args = event.get("args", {}) or {}
        name = str(event_args.get("hlo_op") or event.get("name", ""))
        found = instructions.get(name)
        if found is None:
            if device:
                unmatched += 1
                by_kind[kind_of("", "", "", event.get("name", ""))] += event["dur"]
            continue
        matched += 1
        by_kind[kind_of(*found, name=name)] += event["dur"]
    total = sum(by_kind.values())
    return {
        "ms_per_step": {k: round(v / 1e3 / steps, 3) for k, v in by_kind.items()},
        "share": {k: round(v / total, 4) if total else 0.0 for k, v in by_kind.items()},
        "kernels_matched_to_hlo": matched,
        "kernels_unmatched": unmatched,
        "source": "device kernels" if device else "XLA:CPU ops",
    }


# === Attention alone (GPU) ===


def attention_study(record, quick):
    import jax
    import jax.numpy as jnp

    batch, length, heads, head_dim = (4, 64, 2, 32) if quick else (32, 512, 12, 64)
    keys = jax.random.split(jax.random.key(0), 3)
    q, k, v = (
        jax.random.normal(key, (batch, length, heads, head_dim), jnp.bfloat16)
        for key in keys
    )
    lengths = jnp.full((batch,), length, jnp.int32)
    scale = head_dim ** -0.5

    def einsum_dropout(q, k, v, rng):
        scores = jnp.einsum("bsnh,btnh->bnts", k, q * scale).astype(jnp.float32)
        probabilities = jax.nn.softmax(scores, axis=-1).astype(q.dtype)
        keep = jax.random.bernoulli(rng, 0.9, probabilities.shape)
        probabilities = jnp.where(keep, probabilities / 0.9, 0)
        return jnp.einsum("bnts,bsnh->btnh", probabilities, v)

    def cudnn(q, k, v, rng, rate=0.0):
        from jax._src.cudnn.fused_attention_stablehlo import MaskType
        from jax._src.cudnn.fused_attention_stablehlo import (
            dot_product_attention as cudnn_attention,
        )

        return cudnn_attention(
            q, k, v, None, None, lengths, lengths, scale=scale,
            mask_type=MaskType.PADDING, dropout_rate=rate,
        )

    variants = {
        "cudnn, no dropout": lambda q, k, v, rng: cudnn(q, k, v, rng),
        "cudnn, its dropout 0.1 (seed fixed at trace time)": (
            lambda q, k, v, rng: cudnn(q, k, v, rng, 0.1)
        ),
        "einsum + softmax + dropout 0.1 (Keras' path)": einsum_dropout,
    }
    study = record.data.setdefault("attention_alone_ms", {})
    rng = jax.random.key(1)
    for name, function in variants.items():
        try:
            grad = jax.jit(
                jax.grad(
                    lambda q, k, v: function(q, k, v, rng).astype(jnp.float32).sum(),
                    argnums=(0, 1, 2),
                )
            )
            study[name] = round(timed(grad, q, k, v) * 1e3, 4)
        except Exception as error:
            study[name] = f"{type(error).__name__}: {str(error)[:200]}"
        log("attention alone:", name, study[name])
        record.save()
    bits = record.data.setdefault("dropout_bits_ms", {})
    shape = (batch, heads, length, length)
    for flag in (False, True):
        label = f"threefry kernel {'on' if flag else 'off'}"
        try:
            with threefry_kernel(flag):
                draw = jax.jit(lambda key: jax.random.bits(key, shape))
                bits[label] = round(timed(draw, rng) * 1e3, 4)
        except Exception as error:
            bits[label] = f"{type(error).__name__}: {str(error)[:200]}"
        log("random bits of one layer's probabilities,", label, bits[label])
        record.save()


@contextlib.contextmanager
def threefry_kernel(on):
    import jax

    before = jax.config.jax_threefry_gpu_kernel_lowering
    jax.config.update("jax_threefry_gpu_kernel_lowering", on)
    try:
        yield
    finally:
        jax.config.update("jax_threefry_gpu_kernel_lowering", before)


def timed(function, *args, repeats=20):
    import jax

    jax.block_until_ready(function(*args))
    start = time.perf_counter()
    for _ in range(repeats):
        out = function(*args)
    jax.block_until_ready(out)
    return (time.perf_counter() - start) / repeats


# === The peer: transformers on PyTorch ===


def peer_main(args):
    """Runs in a subprocess: transformers' BertForMaskedLM, as fast as it goes."""
    import torch
    import torch.nn.functional as F
    import transformers
    from transformers import BertConfig
    from transformers import BertForMaskedLM

    record = Record(args.out)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = True
    hidden, layers, heads, intermediate = (
        (64, 4, 2, 256) if args.quick else (768, 12, 12, 3072)
    )
    vocabulary = args.vocabulary_size
    record.data["versions"] = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
    }
    record.data["configs"] = {}

    def flops(length, batch):
        predictions = round(0.15 * length)
        layer = 2 * length * (4 * hidden * hidden + 2 * hidden * intermediate)
        layer += 4 * length * length * hidden
        head = 2 * predictions * hidden * (hidden + vocabulary)
        return 3 * batch * (layers * layer + head)

    for length, batch, dropout, attention_dropout in args.plan:
        for compiled in (False, True):
            key = f"S{length} B{batch} dropout {dropout}" + (
                "" if attention_dropout is None
                else f" attention_dropout {attention_dropout}"
            ) + (" compiled" if compiled else " eager")
            if time.time() - record.start > args.budget_s:
                record.data["errors"].append(f"skipped {key}: budget")
                continue
            try:
                torch.manual_seed(0)
                config = BertConfig(
                    vocab_size=vocabulary, hidden_size=hidden,
                    num_hidden_layers=layers, num_attention_heads=heads,
                    intermediate_size=intermediate,
                    max_position_embeddings=max(512, length),
                    hidden_dropout_prob=dropout,
                    attention_probs_dropout_prob=(
                        dropout if attention_dropout is None else attention_dropout
                    ),
                )
                config._attn_implementation = "sdpa"
                model = BertForMaskedLM(config).to(device).train()
                optimizer = torch.optim.AdamW(
                    model.parameters(), lr=1e-4, fused=device == "cuda"
                )
                x, targets, _ = synthetic_batch(length, batch, vocabulary)
                ids = torch.tensor(x["token_ids"], device=device).long()
                positions = torch.tensor(x["mask_positions"], device=device).long()
                targets = torch.tensor(targets, device=device).long()

                def loss_fn(ids, positions, targets):
                    sequence = model.bert(input_ids=ids).last_hidden_state
                    rows = torch.gather(
                        sequence, 1,
                        positions.unsqueeze(-1).expand(-1, -1, sequence.size(-1)),
                    )
                    logits = model.cls(rows)
                    return F.cross_entropy(
                        logits.float().reshape(-1, vocabulary), targets.reshape(-1)
                    )

                step_loss = torch.compile(loss_fn) if compiled else loss_fn

                def step():
                    with torch.autocast(device, dtype=torch.bfloat16):
                        loss = step_loss(ids, positions, targets)
                    loss.backward()
                    optimizer.step()
                    optimizer.zero_grad(set_to_none=True)
                    return loss

                if device == "cuda":
                    torch.cuda.reset_peak_memory_stats()
                for _ in range(3):
                    step()
                times = []
                for _ in range(args.rounds):
                    if device == "cuda":
                        torch.cuda.synchronize()
                    start = time.perf_counter()
                    for _ in range(args.steps):
                        loss = step()
                    if device == "cuda":
                        torch.cuda.synchronize()
                    times.append((time.perf_counter() - start) / args.steps)
                median = statistics.median(times)
                record.data["configs"][key] = {
                    "median_step_ms": round(median * 1e3, 3),
                    "mfu": flops(length, batch) / median / PEAK_FLOPS,
                    "last_loss": float(loss),
                    "peak_bytes": (
                        torch.cuda.max_memory_allocated() if device == "cuda" else None
                    ),
                }
                log("peer", key, record.data["configs"][key])
                del model, optimizer
            except Exception:
                record.error(f"peer {key}")
            record.save()
    record.save()


def run_peer(args, record):
    try:
        import importlib.util

        if not all(
            importlib.util.find_spec(name) for name in ("torch", "transformers")
        ):
            record.data["peer"] = "not run: torch or transformers does not import"
            return
        peer_out = record.path + ".peer.json"
        left = max(30.0, args.budget_s - (time.time() - record.start))
        command = [sys.executable, __file__, "--peer_only", "--out", peer_out] + (
            ["--quick"] if args.quick else []
        ) + ["--budget_s", str(left - 20)]
        if args.configs:
            command += ["--configs", args.configs]
        log("peer:", " ".join(command))
        subprocess.run(command, timeout=left, check=False)
        if os.path.exists(peer_out):
            with open(peer_out) as f:
                record.data["peer"] = json.load(f)
            os.remove(peer_out)
    except Exception:
        record.error("peer")


# === main ===


def resolve(args):
    args.size = args.size or ("nano" if args.quick else "base")
    args.vocabulary_size = 1000 if args.quick else BERT_VOCABULARY
    args.rounds = args.rounds or (2 if args.quick else 7)
    args.steps = args.steps or (2 if args.quick else 10)
    plan = QUICK_PLAN if args.quick else FULL_PLAN
    if args.configs:
        plan = tuple(plan[int(i)] for i in args.configs.split(","))
    args.plan = plan
    if args.out is None:
        args.out = os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "results",
            "gpu_step_time_quick.json" if args.quick else "gpu_step_time.json",
        )
    return args


def main(argv=None):
    args = resolve(parse_args(argv))
    if args.peer_only:
        return peer_main(args)
    dump = tempfile.mkdtemp(prefix="tokdrop_hlo_")
    os.environ["KERAS_BACKEND"] = "jax"
    if args.gather != "auto":
        os.environ["TOKDROP_GATHER"] = args.gather
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + f" --xla_dump_to={dump} --xla_dump_hlo_as_text"
        + " --xla_dump_hlo_module_re=.*train.*"
    )
    record = Record(args.out)
    sys.path.insert(0, REPOSITORY)  # the package, installed or not
    import jax
    import keras
    import keras_hub

    import tokdrop_keras

    if args.threefry_gpu_kernel:
        jax.config.update("jax_threefry_gpu_kernel_lowering", True)
    record.data["command"] = " ".join(["python"] + sys.argv)
    record.data["versions"] = {
        "python": sys.version.split()[0],
        "jax": jax.__version__,
        "keras": keras.__version__,
        "keras_hub": keras_hub.__version__,
        "tokdrop_keras": tokdrop_keras.__version__,
        "device": jax.devices()[0].device_kind,
        "platform": jax.default_backend(),
    }
    record.data["settings"] = {
        "size": args.size, "vocabulary_size": args.vocabulary_size,
        "rounds": args.rounds, "steps": args.steps,
        "dtype_policy": "mixed_bfloat16",
        "gather_method": tokdrop_keras.backend.gather_method("bfloat16"),
        "threefry_gpu_kernel": args.threefry_gpu_kernel,
    }
    record.data["configs"] = {}
    log(record.data["versions"])
    keras.config.set_dtype_policy("mixed_bfloat16")
    if jax.default_backend() == "gpu" or args.quick:
        try:
            attention_study(record, args.quick)
        except Exception:
            record.error("attention study")
    profile_dir = tempfile.mkdtemp(prefix="tokdrop_trace_") if args.profile else None
    hlo = HloDump(dump)
    for index, item in enumerate(args.plan):
        # A BERT-base pair compiles in about a minute and times in ~20 s.
        if time.time() - record.start > args.budget_s - (10 if args.quick else 90):
            record.data["errors"].append(f"skipped {item}: budget")
            continue
        try:
            run_config(args, record, item, hlo, profile_dir if index == 0 else None)
        except Exception:
            record.error(f"config {item}")
    if not args.no_peer:
        run_peer(args, record)
    record.save()
    shutil.rmtree(dump, ignore_errors=True)
    log("wrote", args.out)


if __name__ == "__main__":
    main()
