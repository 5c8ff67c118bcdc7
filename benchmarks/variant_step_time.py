"""Train-step time of the token-dropping variants, side by side.

In one process, alternating step by step after warm-up, on one synthetic
batch: the full-length baseline, importance dropping (the paper's), random
and mixed selection, and a ScTD consistency step (the token-drop and the
full-length forward on the same batch). Prints each median relative to
the baseline, the amortised cost of consistency every N steps, and what a
change of the kept fraction costs (the first step at a new K: a retrace).

Usage:
    python benchmarks/variant_step_time.py           # L12 H128 S128 B32
    python benchmarks/variant_step_time.py --quick   # tiny sizes, a smoke run
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "experiments"))
from backend_flag import use_backend_flag  # noqa: E402

use_backend_flag(sys.argv)

import tokdrop_keras  # noqa: E402

import keras  # noqa: E402

from step_time import CONFIGS  # noqa: E402
from step_time import QUICK_CONFIGS  # noqa: E402
from step_time import batch  # noqa: E402
from step_time import shape_of  # noqa: E402
from step_time import synthetic_tokenizer  # noqa: E402
from tokdrop_keras.models import backbone_for_size  # noqa: E402

CONFIG = "L12 H128 S128 B32"
VOCABULARY_SIZE = 8192  # the shipped WordPiece vocabulary's size
VARIANTS = {
    "baseline": dict(token_drop=False),
    "importance": dict(),
    "random": dict(selection="random"),
    "mixed": dict(selection="mixed"),
    "consistency step": dict(consistency_weight=1.0),
}


def build(config, tokenizer, options, jit_compile):
    backbone = backbone_for_size(
        config["size"],
        vocabulary_size=config["vocabulary_size"],
        max_sequence_length=config["sequence_length"],
        seed=0,
        num_layers=shape_of(config)["num_layers"],
    )
    model = tokdrop_keras.TokenDropMaskedLM(
        backbone, **options, **tokdrop_keras.special_token_ids(tokenizer)
    )
    model.compile(jit_compile=jit_compile)
    if options.get("consistency_weight"):
        model.use_train_step(consistency_step=True)
    return model


def timed_step(model, data):
    start = time.perf_counter()
    model.train_on_batch(*data)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("auto", "tensorflow", "jax"), default="auto")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--consistency_every", type=int, default=4)
    args = parser.parse_args()
    jit_compile = keras.backend.backend() == "jax"
    name, config = (
        next(iter(QUICK_CONFIGS.items())) if args.quick else (CONFIG, CONFIGS[CONFIG])
    )
    config = dict(config, vocabulary_size=VOCABULARY_SIZE)
    tokenizer = synthetic_tokenizer(config["vocabulary_size"])
    data = batch(config, tokenizer)
    models = {
        variant: build(config, tokenizer, options, jit_compile)
        for variant, options in VARIANTS.items()
    }
    for model in models.values():
        for _ in range(args.warmup):
            model.train_on_batch(*data)
    times = {variant: [] for variant in models}
    for _ in range(args.rounds):
        for variant, model in models.items():
            times[variant].append(timed_step(model, data))
    medians = {variant: statistics.median(t) for variant, t in times.items()}
    base = medians["baseline"]

    # A change of K: the first step at a new fraction traces a new step.
    model = models["importance"]
    model.use_train_step(keep_fraction=0.25)
    first_at_new_k = timed_step(model, data)
    at_new_k = statistics.median(timed_step(model, data) for _ in range(3))
    model.use_train_step(keep_fraction=0.5)
    back = timed_step(model, data)

    print(
        f"{name}, vocabulary {config['vocabulary_size']}, backend "
        f"{keras.backend.backend()}, XLA {'on' if jit_compile else 'off'}, "
        f"{args.rounds} rounds"
    )
    print("| variant | median s/step | / baseline |")
    print("| --- | --- | --- |")
    for variant, seconds in medians.items():
        print(f"| {variant} | {seconds:.4f} | {seconds / base:.3f} |")
    every = args.consistency_every
    amortised = (
        (every - 1) * medians["importance"] + medians["consistency step"]
    ) / every
    print(
        f"| importance + consistency every {every} steps (amortised) "
        f"| {amortised:.4f} | {amortised / base:.3f} |"
    )
    print(
        f"\nkeep fraction 0.5 -> 0.25: first step {first_at_new_k:.2f} s "
        f"(a retrace), then {at_new_k:.4f} s/step; back to 0.5 (traced "
        f"before): {back:.4f} s"
    )


if __name__ == "__main__":
    main()
