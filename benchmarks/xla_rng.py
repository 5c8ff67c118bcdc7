"""Dropout's random numbers under XLA:CPU, per RNG algorithm.

Keras' TensorFlow backend draws dropout masks with
`tf.nn.experimental.stateless_dropout` and the default algorithm
(`"auto_select"`). This prints nanoseconds per element of one dropout call,
with and without XLA, for each algorithm. With XLA:CPU's fusion emitters on
(TensorFlow's default) `"auto_select"` is ~30x slower than without XLA;
`tokdrop_keras` turns them off on import (`tokdrop_keras.backend`).

Usage:
    python benchmarks/xla_rng.py                          # TensorFlow's default
    python benchmarks/xla_rng.py --fusion_emitters off    # as tokdrop_keras runs
"""

import argparse
import os
import statistics
import time

import tensorflow as tf

ALGORITHMS = ("auto_select", "philox", "threefry")


def nanoseconds_per_element(shape, algorithm, jit_compile, repeats):
    inputs = tf.ones(shape)
    seed = tf.constant([1, 2])

    @tf.function(jit_compile=jit_compile)
    def dropout(inputs, seed):
        return tf.nn.experimental.stateless_dropout(
            inputs, rate=0.1, seed=seed, rng_alg=algorithm
        )

    dropout(inputs, seed)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        dropout(inputs, seed).numpy()
        times.append(time.perf_counter() - start)
    return 1e9 * statistics.median(times) / inputs.shape.num_elements()


def cell(shape, algorithm, jit_compile, repeats):
    try:
        return f"{nanoseconds_per_element(shape, algorithm, jit_compile, repeats):.1f}"
    except tf.errors.InvalidArgumentError:
        return "unsupported"  # TF's own kernels lack ThreeFry


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--fusion_emitters", choices=("on", "off"), default="on",
        help="XLA:CPU's fusion emitters (on is TensorFlow's default)",
    )
    args = parser.parse_args()
    # XLA reads XLA_FLAGS at its first compilation, which is below.
    enabled = "true" if args.fusion_emitters == "on" else "false"
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + f" --xla_cpu_use_fusion_emitters={enabled}"
    ).strip()
    print(
        f"TensorFlow {tf.__version__}; XLA_FLAGS={os.environ['XLA_FLAGS']}; "
        "ns per element of one dropout call"
    )
    print("| shape | XLA | " + " | ".join(ALGORITHMS) + " |")
    print("|" + " --- |" * (2 + len(ALGORITHMS)))
    # Attention probabilities and hidden states of L12 H256 S512 B8, full
    # and with half the tokens kept.
    for shape in ((8, 4, 512, 512), (8, 4, 256, 256), (8, 512, 256)):
        for jit_compile in (False, True):
            cells = [
                cell(shape, algorithm, jit_compile, args.repeats)
                for algorithm in ALGORITHMS
            ]
            print(
                f"| {list(shape)} | {'on' if jit_compile else 'off'} | "
                + " | ".join(cells) + " |",
                flush=True,
            )


if __name__ == "__main__":
    main()
