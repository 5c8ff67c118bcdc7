import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from tokdrop_keras.data import bert_tokenizer
from tokdrop_keras.data import glue_dataset
from tokdrop_keras.data import sentiment_dataset
from tokdrop_keras.data.downstream import glue_features


def test_sentiment_splits():
    sizes = {
        split: len(sentiment_dataset(split))
        for split in ("train", "dev", "test")
    }
    assert sizes == {"train": 8058, "dev": 1007, "test": 1007}
    sentences, labels = next(
        sentiment_dataset("dev").batch(1007).as_numpy_iterator()
    )
    assert set(labels.tolist()) == {0, 1}
    assert 0.3 < labels.mean() < 0.7
    assert (
        sentences[0]
        .decode()
        .startswith("Inherently caustic and oddly whimsical")
    )
    with pytest.raises(
        ValueError, match="Unknown sentiment split 'validation'"
    ):
        sentiment_dataset("validation")


def test_bert_text_classifier_consumes_sentiment_and_pairs():
    tokenizer = bert_tokenizer()
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=1,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=32,
    )
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(
        tokenizer, sequence_length=32
    )
    classifier = keras_hub.models.BertTextClassifier(
        backbone, num_classes=2, preprocessor=preprocessor
    )
    history = classifier.fit(
        sentiment_dataset("dev").batch(8).take(2), verbose=0
    )
    assert np.isfinite(history.history["loss"][0])

    pair = {
        "sentence1": tf.constant(["The cat sat.", "A dog ran."]),
        "sentence2": tf.constant(["It sat.", "It ran."]),
        "label": tf.constant([1, 0]),
    }
    features, labels = glue_features(pair, ("sentence1", "sentence2"))
    assert isinstance(features, tuple) and len(features) == 2
    x, _ = preprocessor(features, labels)
    # [CLS] a [SEP] b [SEP]: two segments.
    assert x["segment_ids"].numpy()[0].max() == 1
    classifier.fit(tf.data.Dataset.from_tensors((features, labels)), verbose=0)


def test_unknown_glue_task_raises():
    with pytest.raises(ValueError, match="Unknown GLUE task 'sst3'"):
        glue_dataset("glue/sst3")
