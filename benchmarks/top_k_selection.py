"""Token selection: the bitwise search vs `ops.top_k` (sorting), per backend.

Times, in one process, (a) the selection alone, compiled, and (b) a whole
token-drop train step with each method (on TensorFlow's XLA:CPU a sort in
the step slowed its dropout RNG; see `tokdrop_keras.layers.top_k_selection`).
`SELECTION_BY_BACKEND` there records the choice these numbers support.

Usage:
    python benchmarks/top_k_selection.py --backend jax
    python benchmarks/top_k_selection.py --backend tensorflow
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "experiments"))
from backend_flag import use_backend_flag  # noqa: E402

use_backend_flag(sys.argv)

import argparse  # noqa: E402

import tokdrop_keras  # noqa: E402,F401

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tokdrop_keras import backend  # noqa: E402
from tokdrop_keras.layers import top_k_selection  # noqa: E402
from step_time import CONFIGS  # noqa: E402
from step_time import batch  # noqa: E402
from step_time import masked_lm  # noqa: E402
from step_time import synthetic_tokenizer  # noqa: E402

SELECTION_SHAPES = {"B32 S128 keep 64": (32, 128, 64), "B8 S512 keep 256": (8, 512, 256)}


def compiled(function):
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(function)
    import tensorflow as tf

    return tf.function(function, jit_compile=True)


def median_seconds(function, *args, repeats=50):
    keras.ops.convert_to_numpy(function(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        keras.ops.convert_to_numpy(function(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def selection_times():
    rows = []
    rng = np.random.default_rng(0)
    for name, (batch_size, length, keep) in SELECTION_SHAPES.items():
        scores = rng.integers(0, 50, (batch_size, length)).astype("float32")
        tie_keys = rng.integers(0, 2**31 - 1, (batch_size, length)).astype("int32")
        seconds = {}
        for method in ("search", "sort"):
            select = compiled(
                lambda s, t, method=method: top_k_selection.select_positions(
                    top_k_selection.sortable_keys(s), keep, tie_keys=t,
                    method=method,
                )
            )
            seconds[method] = median_seconds(select, scores, tie_keys)
        rows.append((name, seconds["search"], seconds["sort"]))
    return rows


def step_times(config, rounds, dropout):
    config = dict(config, vocabulary_size=30522)
    tokenizer = synthetic_tokenizer(config["vocabulary_size"])
    data = batch(config, tokenizer)
    models = {}
    for method in ("search", "sort"):
        top_k_selection.SELECTION_BY_PLATFORM[
            (keras.backend.backend(), backend.accelerator_platform())
        ] = method
        model = masked_lm(config, tokenizer, True, True, dropout)
        for _ in range(2):  # compiles with this method
            model.train_on_batch(*data)
        models[method] = model
    times = {method: [] for method in models}
    for _ in range(rounds):
        for method, model in models.items():
            start = time.perf_counter()
            model.train_on_batch(*data)
            times[method].append(time.perf_counter() - start)
    return {method: statistics.median(t) for method, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("auto", "tensorflow", "jax"), default="auto")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--config", action="append", choices=tuple(CONFIGS))
    args = parser.parse_args()
    backend = keras.backend.backend()
    print(f"Keras {keras.__version__} on {backend}, XLA on, "
          f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')}")
    print("| backend | selection | search s | sort s | sort / search |")
    print("| --- | --- | --- | --- | --- |")
    for name, search, sort in selection_times():
        print(f"| {backend} | {name} | {search * 1e3:.3f} ms | {sort * 1e3:.3f} ms "
              f"| {sort / search:.2f} |", flush=True)
    print("| backend | train step (token drop) | search s/step | sort s/step | sort / search |")
    print("| --- | --- | --- | --- | --- |")
    for name in args.config or CONFIGS:
        medians = step_times(CONFIGS[name], args.rounds, args.dropout)
        print(f"| {backend} | {name} | {medians['search']:.4f} | {medians['sort']:.4f} "
              f"| {medians['sort'] / medians['search']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
