"""Fine-tuning sets for `keras_hub.models.BertTextClassifier`."""

import collections

from tokdrop_keras.data.sentiment import read_sentiment
from tokdrop_keras.data.adjacent_sentences import ADJACENT_SENTENCES_TASK

SENTIMENT_TASK = "sentiment"


class GlueTask(collections.namedtuple(
    "GlueTask", ("text_features", "num_classes", "dev_split")
)):
    """One GLUE task: its text features in the order the model reads them,
    its number of classes (`None`: regression, or no labels), and the split
    a fine-tuning run evaluates on (`None`: no training set).

    Example:
    ```python
    from tokdrop_keras.data.downstream import GlueTask
    mnli = tokdrop_keras.data.GLUE_TASKS["mnli"]
    assert mnli == GlueTask(("premise", "hypothesis"), 3, "validation_matched")
    assert mnli.text_features == ("premise", "hypothesis")
    assert tokdrop_keras.data.GLUE_TASKS["stsb"].num_classes is None
    ```
    """


GLUE_TASKS = {
    "cola": GlueTask(("sentence",), 2, "validation"),
    "sst2": GlueTask(("sentence",), 2, "validation"),
    "mrpc": GlueTask(("sentence1", "sentence2"), 2, "validation"),
    "qqp": GlueTask(("question1", "question2"), 2, "validation"),
    "stsb": GlueTask(("sentence1", "sentence2"), None, "validation"),
    "mnli": GlueTask(("premise", "hypothesis"), 3, "validation_matched"),
    "mnli_matched": GlueTask(("premise", "hypothesis"), 3, None),
    "mnli_mismatched": GlueTask(("premise", "hypothesis"), 3, None),
    "qnli": GlueTask(("question", "sentence"), 2, "validation"),
    "rte": GlueTask(("sentence1", "sentence2"), 2, "validation"),
    "wnli": GlueTask(("sentence1", "sentence2"), 2, "validation"),
    "ax": GlueTask(("premise", "hypothesis"), 3, None),
}


def classification_tasks():
    """The tasks `tokdrop_keras.finetune` trains a classifier on, with their
    number of classes: the embedded sentiment set, the adjacent-sentences
    pairs built from the corpus (`tokdrop_keras.data.adjacent_sentences`)
    and the GLUE classification tasks that have a training set.

    Example:
    ```python
    tasks = tokdrop_keras.data.classification_tasks()
    assert tasks["sentiment"] == 2 and tasks["glue/mnli"] == 3
    assert tasks["adjacent_sentences"] == 2
    assert "glue/stsb" not in tasks  # a regression task
    ```
    """
    tasks = {SENTIMENT_TASK: 2, ADJACENT_SENTENCES_TASK: 2}
    for name, task in GLUE_TASKS.items():
        if task.num_classes is not None and task.dev_split is not None:
            tasks[f"glue/{name}"] = task.num_classes
    return tasks


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
    from tokdrop_keras.data import sentiment_dataset
    dev = sentiment_dataset("dev")
    assert int(dev.cardinality()) == 1007
    sentence, label = next(iter(dev))
    assert sentence.dtype == tf.string and label.dtype == tf.int32
    tokenizer = tokdrop_keras.data.bert_tokenizer()
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(
        tokenizer, sequence_length=16
    )
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(), num_layers=2,
        num_heads=2, hidden_dim=16, intermediate_dim=32,
        max_sequence_length=16,
    )
    classifier = keras_hub.models.BertTextClassifier(
        backbone, num_classes=2, preprocessor=preprocessor
    )
    logits = classifier.predict(dev.map(lambda x, y: x).take(8).batch(4))
    assert logits.shape == (8, 2)
    ```
    """
    sentences, labels = read_sentiment(split)
    import tensorflow as tf

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
    from tokdrop_keras.data import glue_dataset
    try:
        glue_dataset("squad")  # checked before TFDS is asked
        raise AssertionError("an unknown task was accepted")
    except ValueError as error:
        assert "Unknown GLUE task 'squad'" in str(error)
    ```

    With network once (TFDS downloads and prepares GLUE), or a `data_dir`
    prepared elsewhere:
    ```
    mrpc = glue_dataset("mrpc", "train").batch(32)
    classifier.fit(mrpc)  # a BertTextClassifier
    ```
    """
    task = task.removeprefix("glue/")
    if task not in GLUE_TASKS:
        raise ValueError(
            f"Unknown GLUE task {task!r}; expected one of "
            f"{sorted(GLUE_TASKS)}."
        )
    names = GLUE_TASKS[task].text_features
    import tensorflow as tf

    from tokdrop_keras.data.tfds_builders import tfds_builder

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
    from tokdrop_keras.data.downstream import glue_features
    pair = {"sentence1": "a", "sentence2": "b", "label": 1}
    assert glue_features(pair, ("sentence1", "sentence2")) == (("a", "b"), 1)
    single = {"sentence": "a", "label": 0, "idx": 7}
    assert glue_features(single, ("sentence",)) == ("a", 0)
    ```
    """
    texts = tuple(example[name] for name in text_features)
    label = example["label"]
    return (texts[0] if len(texts) == 1 else texts), label
