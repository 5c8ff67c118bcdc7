"""One encoder layer on half the tokens: its share of a full layer's time.

Times the forward and backward pass of a single keras-hub
`TransformerEncoder` (dropout 0.1) on `[batch, S, hidden]` and on
`[batch, S/2, hidden]`, with XLA off and on, next to the FLOP ratio of the
two. A kept-token layer of the token-drop model runs at this share; where it
exceeds the FLOP ratio, the smaller matmuls run less efficiently.

Usage:
    python benchmarks/encoder_layer_time.py
"""

import argparse
import statistics
import time

import tokdrop_keras  # noqa: F401  (sets the Keras backend and XLA flags)

import keras
import keras_hub
import tensorflow as tf
from step_time import CONFIGS
from step_time import shape_of

from tokdrop_keras.layers import kept_token_count
from tokdrop_keras.models.flops import layer_flops


def seconds_per_pass(layer, shape, jit_compile, repeats):
    inputs = tf.random.normal(shape)
    padding_mask = tf.ones(shape[:2], tf.int32)

    @tf.function(jit_compile=jit_compile)
    def forward_backward(inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = layer(inputs, padding_mask=padding_mask, training=True)
            loss = tf.reduce_sum(outputs * outputs)
        return tape.gradient(loss, [inputs] + layer.trainable_variables)

    for _ in range(3):
        forward_backward(inputs)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        forward_backward(inputs)[0].numpy()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    print(
        "| config | XLA | full layer ms | half-token layer ms | time ratio "
        "| FLOP ratio |"
    )
    print("|" + " --- |" * 6)
    for name, config in CONFIGS.items():
        keras.utils.set_random_seed(0)
        shape = shape_of(config)
        layer = keras_hub.layers.TransformerEncoder(
            intermediate_dim=shape["intermediate_dim"],
            num_heads=shape["num_heads"],
            dropout=0.1,
            activation=keras.activations.gelu,
        )
        hidden, seq = shape["hidden_dim"], config["sequence_length"]
        kept = kept_token_count(seq)
        layer.build((None, None, hidden))
        flops = [
            layer_flops(s, s, hidden, shape["intermediate_dim"])
            for s in (seq, kept)
        ]
        for jit_compile in (False, True):
            full, half = (
                seconds_per_pass(
                    layer, (config["batch_size"], s, hidden), jit_compile,
                    args.repeats,
                )
                for s in (seq, kept)
            )
            print(
                f"| {name} | {'on' if jit_compile else 'off'} "
                f"| {1e3 * full:.1f} | {1e3 * half:.1f} | {half / full:.3f} "
                f"| {flops[1] / flops[0]:.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
