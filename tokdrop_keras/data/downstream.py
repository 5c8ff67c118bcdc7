"""Fine-tuning sets for `keras_hub.models.BertTextClassifier`."""

import tensorflow as tf

from tokdrop_keras.data.tfds_builders import read_sentiment
from tokdrop_keras.data.tfds_builders import tfds_builder

# The text features of each GLUE task, in the order the model reads them.
GLUE_TEXT_FEATURES = {
    "cola": ("sentence",),
    "sst2": ("sentence",),
    "mrpc": ("sentence1", "sentence2"),
    "qqp": ("question1", "question2"),
    "stsb": ("sentence1", "sentence2"),
    "mnli": ("premise", "hypothesis"),
    "mnli_matched": ("premise", "hypothesis"),
    "mnli_mismatched": ("premise", "hypothesis"),
    "qnli": ("question", "sentence"),
    "rte": ("sentence1", "sentence2"),
    "wnli": ("sentence1", "sentence2"),
    "ax": ("premise", "hypothesis"),
}


def sentiment_dataset(split="train"):
    """The embedded movie-review sentiment set, as `(sentence, label)`.

    Binary (1 positive, 0 negative); it plays the role of GLUE's SST-2 (see
    `tokdrop_keras/data/assets/README.md`).

    Args:
        split: `"train"` (8,058 examples), `"dev"` (1,007) or `"test"`
            (1,007).

    Returns:
        An unbatched `tf.data.Dataset` of `(sentence, label)`: a string
        scalar and an int32 scalar, as `BertTextClassifier.fit` consumes.

    Example:
    ```python
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(
        bert_tokenizer(), sequence_length=128
    )
    classifier = keras_hub.models.BertTextClassifier(
        backbone, num_classes=2, preprocessor=preprocessor
    )
    classifier.fit(sentiment_dataset("train").batch(32),
                   validation_data=sentiment_dataset("dev").batch(32))
    ```
    """
    sentences, labels = read_sentiment(split)
    return tf.data.Dataset.from_tensor_slices(
        (tf.constant(sentences), tf.constant(labels, "int32"))
    )


def glue_dataset(task, split="train", data_dir=None):
    """A GLUE task from TFDS, as `(features, label)`.

    Single-sentence tasks (`cola`, `sst2`) give a string per example; the
    sentence-pair tasks a tuple of two strings, which
    `BertTextClassifierPreprocessor` packs as `[CLS] a [SEP] b [SEP]`.
    GLUE's test labels are hidden (-1).

    Args:
        task: a GLUE task (`"sst2"`) or its TFDS name (`"glue/mrpc"`).
        split: a TFDS split, e.g. `"train"` or `"validation"`.
        data_dir: TFDS data directory. Preparing needs network once; offline
            and unprepared, this fails at once with a clear message.

    Returns:
        An unbatched `tf.data.Dataset` of `(features, label)`.

    Example:
    ```python
    mrpc = glue_dataset("mrpc", "train").batch(32)
    classifier.fit(mrpc)
    ```
    """
    task = task.removeprefix("glue/")
    if task not in GLUE_TEXT_FEATURES:
        raise ValueError(
            f"Unknown GLUE task {task!r}; expected one of "
            f"{sorted(GLUE_TEXT_FEATURES)}."
        )
    names = GLUE_TEXT_FEATURES[task]
    builder = tfds_builder(f"glue/{task}", data_dir=data_dir)
    return builder.as_dataset(split=split).map(
        lambda example: glue_features(example, names),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def glue_features(example, text_features):
    """Maps a GLUE example dict to `(features, label)`.

    Args:
        example: a dict of tensors, with `label` and the text features.
        text_features: the names of the text features, in order.

    Example:
    ```python
    glue_features({"sentence1": "a", "sentence2": "b", "label": 1},
                  ("sentence1", "sentence2"))  # (("a", "b"), 1)
    ```
    """
    texts = tuple(example[name] for name in text_features)
    label = example["label"]
    return (texts[0] if len(texts) == 1 else texts), label
