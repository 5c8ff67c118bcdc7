"""The one attention function: equal to Keras' masked attention, padded
rows, dropout draws and keras-hub's encoder included."""

import keras
import keras_hub
import numpy as np
import pytest
from keras_test_case import restore_seeds
from keras_test_case import seed_snapshot

from tokdrop_keras import backend
from tokdrop_keras.layers.attention import dot_product_attention
from tokdrop_keras.layers.attention import key_lengths
from tokdrop_keras.layers.encoder_layer import encoder_layer
from tokdrop_keras.layers.encoder_layer import self_attention

LENGTHS = np.array([7, 4, 1])


def padding_mask(lengths=LENGTHS, sequence_length=7):
    return (np.arange(sequence_length)[None, :] < lengths[:, None]).astype("int32")


def hidden(seed=0, shape=(3, 7, 16)):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def attention_layer(dropout=0.0):
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8, dropout=dropout)
    x = hidden()
    layer(x, x)  # builds it
    return layer


def test_key_lengths_count_the_real_tokens():
    lengths = keras.ops.convert_to_numpy(key_lengths(padding_mask()))
    np.testing.assert_array_equal(lengths, LENGTHS)


def test_equals_keras_masked_attention_on_every_row():
    layer = attention_layer()
    x = hidden(1)
    expected = np.asarray(
        layer(x, x, attention_mask=padding_mask()[:, None, :].astype(bool))
    )
    got = np.asarray(self_attention(layer, x, x, LENGTHS))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    # Padded rows (row 2 from position 1) attend to the real keys, as
    # keras-hub's `[batch, 1, seq]` mask has them: not zeros.
    assert np.abs(got[2, 1:]).max() > 1e-2
    # The lengths matter: all keys give another output.
    unmasked = np.asarray(self_attention(layer, x, x, np.array([7, 7, 7])))
    assert np.abs(unmasked[1:] - got[1:]).max() > 1e-3


def test_queries_may_be_some_rows_of_the_keys():
    layer = attention_layer()
    x = hidden(2)
    full = np.asarray(self_attention(layer, x, x, LENGTHS))
    rows = np.array([[0, 3, 6], [0, 1, 2], [0, 4, 5]])
    query = np.take_along_axis(x, rows[:, :, None], axis=1)
    np.testing.assert_allclose(
        self_attention(layer, query, x, LENGTHS),
        np.take_along_axis(full, rows[:, :, None], axis=1),
        rtol=0,
        atol=1e-5,
    )


def test_training_draws_the_dropout_multi_head_attention_draws():
    layer = attention_layer(dropout=0.3)
    x = hidden(3)
    mask = padding_mask()[:, None, :].astype(bool)
    before = seed_snapshot(layer)
    expected = np.asarray(layer(x, x, attention_mask=mask, training=True))
    restore_seeds(layer, before)
    got = np.asarray(self_attention(layer, x, x, LENGTHS, training=True))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    inference = np.asarray(self_attention(layer, x, x, LENGTHS))
    assert np.abs(got - inference).max() > 1e-2  # dropout did something


def test_attention_dropout_zero_leaves_the_probabilities_alone():
    layer = attention_layer(dropout=0.3)
    x = hidden(4)
    got = self_attention(layer, x, x, LENGTHS, training=True, attention_dropout=0.0)
    np.testing.assert_allclose(
        got, self_attention(layer, x, x, LENGTHS), rtol=0, atol=1e-6
    )


def test_dropout_without_a_seed_generator_is_named():
    q = hidden(shape=(1, 4, 2, 8))
    with pytest.raises(ValueError, match="seed_generator"):
        dot_product_attention(q, q, q, dropout_rate=0.1, training=True)


@pytest.mark.parametrize("normalize_first", [False, True])
@pytest.mark.parametrize("training", [False, True])
def test_encoder_layer_is_keras_hubs_encoder(normalize_first, training):
    encoder = keras_hub.layers.TransformerEncoder(
        intermediate_dim=32, num_heads=2, dropout=0.2,
        normalize_first=normalize_first,
    )
    x = hidden(5)
    encoder(x)  # builds it
    before = seed_snapshot(encoder)
    expected = np.asarray(encoder(x, padding_mask=padding_mask(), training=training))
    restore_seeds(encoder, before)
    got = np.asarray(encoder_layer(encoder, x, x, LENGTHS, training=training))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_off_a_gpu_there_is_no_fused_call_and_nothing_is_logged(caplog):
    q = hidden(shape=(1, 4, 2, 8))
    with caplog.at_level("WARNING", logger="tokdrop_keras"):
        assert backend.fused_attention(q, q, q, None, 0.35) is None
    assert caplog.records == []


@pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="the fused path is JAX's"
)
def test_a_declined_fused_call_falls_back_with_one_log_line(monkeypatch, caplog):
    import jax

    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    monkeypatch.setattr(backend, "_declined", set())
    q, k, v = (hidden(seed, (2, 4, 2, 8)) for seed in range(3))
    lengths = np.array([4, 2], "int32")
    with caplog.at_level("WARNING", logger="tokdrop_keras"):
        # float32: declined before trying; twice, logged once.
        first = dot_product_attention(q, k, v, key_lengths=lengths)
        dot_product_attention(q, k, v, key_lengths=lengths)
        # bfloat16 on this CPU: cuDNN itself declines, with its reason.
        bf16 = [keras.ops.cast(t, "bfloat16") for t in (q, k, v)]
        dot_product_attention(*bf16, key_lengths=lengths)
        # Attention dropout in training: Keras' path, said once.
        layer = attention_layer(dropout=0.3)
        x = hidden(6)
        self_attention(layer, x, x, LENGTHS, training=True)
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 3, messages
    assert "not float32" in messages[0]
    assert "cuDNN declined" in messages[1]
    assert "dropout 0.3 in training" in messages[2]
    monkeypatch.undo()
    np.testing.assert_allclose(
        first, dot_product_attention(q, k, v, key_lengths=lengths), atol=0
    )
