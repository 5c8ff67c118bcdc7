"""Input pipeline throughput next to what training consumes.

Prints examples/s of `pretraining_dataset` from text (the embedded corpus)
and from token-id TFRecords, and the examples/s that `TokenDropMaskedLM`
trains on for a tiny (L4/H128) and a small (L4/H512) BERT, on the same
machine; then, per architecture (its own tokenizer and packing), the
pipeline from text next to a tiny model of that architecture. The pipeline
should supply at least 5x what training consumes.

    python benchmarks/input_pipeline.py [--batch_size 32] [--architectures roberta]
"""

import argparse
import os
import tempfile
import time

import tokdrop_keras  # first: picks the Keras backend

import keras
import tensorflow as tf

from tokdrop_keras.data import embedded_corpus_files
from tokdrop_keras.data import load_tokenizer
from tokdrop_keras.data import pretraining_dataset
from tokdrop_keras.data import write_pretraining_tfrecords
from tokdrop_keras.models import SIZES
from tokdrop_keras.models import backbone_for_size

MODEL_SIZES = ("tiny", "small")


def pipeline_examples_per_second(dataset, batch_size, batches):
    iterator = iter(dataset)
    for _ in range(20):  # Warm-up: fill the shuffle buffers.
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / (time.perf_counter() - start)


def training_examples_per_second(
    size, batch, sequence_length, steps, architecture="bert"
):
    tokenizer = load_tokenizer(architecture)
    backbone = backbone_for_size(
        size,
        vocabulary_size=tokenizer.vocabulary_size(),
        max_sequence_length=sequence_length,
        architecture=architecture,
    )
    model = tokdrop_keras.TokenDropMaskedLM(
        backbone, **tokdrop_keras.special_token_ids(tokenizer)
    )
    model.compile(jit_compile=False)
    # One cached batch: time the model only, not the input pipeline.
    data = tf.data.Dataset.from_tensors(batch).repeat()
    model.fit(data, steps_per_epoch=3, epochs=1, verbose=0)  # Warm-up.
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    batch_size = batch[1].shape[0]
    return steps * batch_size / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--sequence_length", type=int, default=128)
    parser.add_argument("--pipeline_batches", type=int, default=300)
    parser.add_argument("--training_steps", type=int, default=10)
    parser.add_argument(
        "--architectures", nargs="*",
        default=["bert", "roberta", "xlm_roberta", "distil_bert"],
    )
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    options = dict(
        batch_size=args.batch_size, sequence_length=args.sequence_length
    )
    results = {}
    results["pipeline from text"] = pipeline_examples_per_second(
        pretraining_dataset(**options), args.batch_size, args.pipeline_batches
    )
    with tempfile.TemporaryDirectory() as directory:
        prefix = os.path.join(directory, "train")
        write_pretraining_tfrecords(
            embedded_corpus_files(), prefix, split="train", verbose=False
        )
        results["pipeline from TFRecords"] = pipeline_examples_per_second(
            pretraining_dataset(source=f"tfrecord:{prefix}-*", **options),
            args.batch_size,
            args.pipeline_batches,
        )
    batch = next(iter(pretraining_dataset(**options)))
    consumed = {
        f"training, {size} (L{SIZES[size]['num_layers']}/H"
        f"{SIZES[size]['hidden_dim']})": training_examples_per_second(
            size, batch, args.sequence_length, args.training_steps
        )
        for size in MODEL_SIZES
    }
    results.update(consumed)
    cores = os.cpu_count()
    print(
        f"\nS={args.sequence_length}, batch {args.batch_size}, "
        f"{cores} CPU cores, TensorFlow {tf.__version__}"
    )
    print(
        f"{'':28s} {'examples/s':>11s}  "
        + "  ".join(
            f"{'/ ' + name.split(',')[1].strip():>18s}" for name in consumed
        )
    )
    for name, rate in results.items():
        ratios = "  ".join(f"{rate / c:17.1f}x" for c in consumed.values())
        print(f"{name:28s} {rate:11.0f}  {ratios}")

    print(f"\n{'per architecture':16s} {'pipeline ex/s':>13s} "
          f"{'tiny training ex/s':>19s} {'ratio':>7s}")
    for architecture in args.architectures:
        data = pretraining_dataset(architecture=architecture, **options)
        pipeline = pipeline_examples_per_second(
            data, args.batch_size, args.pipeline_batches
        )
        training = training_examples_per_second(
            "tiny", next(iter(data)), args.sequence_length,
            args.training_steps, architecture,
        )
        print(f"{architecture:16s} {pipeline:13.0f} {training:19.0f} "
              f"{pipeline / training:6.1f}x")


if __name__ == "__main__":
    main()
