"""`finetune(config)`: fine-tune an export as a keras-hub text classifier."""

import dataclasses
import sys
import time

import keras
import keras_hub
import numpy as np

from tokdrop_keras.data.adjacent_sentences import ADJACENT_SENTENCES_SPLITS
from tokdrop_keras.data.adjacent_sentences import ADJACENT_SENTENCES_TASK
from tokdrop_keras.data.adjacent_sentences import adjacent_sentence_pairs
from tokdrop_keras.data.downstream import GLUE_TASKS
from tokdrop_keras.data.downstream import SENTIMENT_TASK
from tokdrop_keras.data.downstream import classification_tasks
from tokdrop_keras.data.sentiment import read_sentiment
from tokdrop_keras.data.tokenizers import load_tokenizer
from tokdrop_keras.models.architectures import architecture_of_tokenizer
from tokdrop_keras.export.layout import PRESET_DIR
from tokdrop_keras.export.layout import SAVED_MODEL_DIR
from tokdrop_keras.export.layout import find_export_part
from tokdrop_keras.export.saved_model import load_bert_saved_model
from tokdrop_keras.training.run_directory import write_json


@dataclasses.dataclass
class FinetuneResult:
    """What `finetune` returns.

    Attributes:
        classifier: the fine-tuned keras-hub text classifier of the
            export's architecture (`BertTextClassifier`, ...).
        summary: dict: task, encoder, epochs run, seconds, dev and (where
            the task has one) test accuracy.

    Example:
    ```python
    import dataclasses
    fields = dataclasses.fields(tokdrop_keras.FinetuneResult)
    assert [field.name for field in fields] == ["classifier", "summary"]
    result = tokdrop_keras.FinetuneResult(
        classifier=keras.Sequential([keras.layers.Dense(2)]),
        summary={"task": "sentiment", "dev_accuracy": 0.75},
    )
    assert result.summary["dev_accuracy"] == 0.75
    ```
    """

    classifier: keras.Model
    summary: dict


def export_tokenizer(config):
    """The tokenizer to fine-tune with: the export's, checked against
    `config.vocabulary`, or that vocabulary's for a bare SavedModel.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.training.finetuning import export_tokenizer
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [
        f"w{i}" for i in range(40)
    ]
    export_dir = tempfile.mkdtemp()
    preset = os.path.join(export_dir, "preset")
    keras_hub.models.BertBackbone(
        vocabulary_size=len(vocabulary), num_layers=2, num_heads=2,
        hidden_dim=16, intermediate_dim=32, max_sequence_length=16,
    ).save_to_preset(preset)
    keras_hub.models.BertTokenizer(vocabulary=vocabulary).save_to_preset(preset)
    config = tokdrop_keras.FinetuneConfig(export_dir=export_dir)
    tokenizer = export_tokenizer(config)
    assert tokenizer.get_vocabulary() == vocabulary
    with open("other_vocab.txt", "w") as file:
        file.write("".join(token + os.linesep for token in vocabulary[:-1]))
    try:
        export_tokenizer(config.replace(vocabulary="other_vocab.txt"))
        raise AssertionError("a different vocabulary was accepted")
    except ValueError as error:
        assert "differs from `vocabulary`" in str(error)
    ```
    """
    preset = find_export_part(
        config.export_dir, PRESET_DIR, required=config.encoder == PRESET_DIR
    )
    if config.vocabulary is None:
        if preset is None:
            raise ValueError(
                f"{config.export_dir} holds no keras-hub preset to take the "
                "vocabulary from: pass `vocabulary` (--vocabulary), the one "
                "the SavedModel was pretrained with."
            )
        return keras_hub.tokenizers.Tokenizer.from_preset(preset)
    if preset is None:  # a bare SavedModel: BERT's
        return load_tokenizer("bert", config.vocabulary)
    exported = keras_hub.tokenizers.Tokenizer.from_preset(preset)
    architecture = architecture_of_tokenizer(exported)
    tokenizer = load_tokenizer(architecture.name, config.vocabulary)
    if exported.get_vocabulary() != tokenizer.get_vocabulary():
        raise ValueError(
            f"The export's vocabulary ({exported.vocabulary_size()} "
            f"tokens, {preset}) differs from `vocabulary` "
            f"{config.vocabulary} ({tokenizer.vocabulary_size()} tokens): "
            "the model would read the task's token ids as other tokens."
        )
    return tokenizer


def build_classifier(config):
    """The architecture's keras-hub text classifier (`BertTextClassifier`,
    `RobertaTextClassifier`, ...) whose encoder is the export's preset backbone
    or its SavedModel, as `config.encoder` says.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.training.finetuning import build_classifier
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [
        f"w{i}" for i in range(40)
    ]
    export_dir = tempfile.mkdtemp()
    preset = os.path.join(export_dir, "preset")
    keras_hub.models.BertBackbone(
        vocabulary_size=len(vocabulary), num_layers=2, num_heads=2,
        hidden_dim=16, intermediate_dim=32, max_sequence_length=16,
    ).save_to_preset(preset)
    keras_hub.models.BertTokenizer(vocabulary=vocabulary).save_to_preset(preset)
    classifier = build_classifier(tokdrop_keras.FinetuneConfig(
        export_dir=export_dir, seq_length=16,
    ))
    assert isinstance(classifier, keras_hub.models.BertTextClassifier)
    assert classifier.num_classes == 2  # the sentiment task
    assert classifier.preprocessor.sequence_length == 16
    ```
    """
    tokenizer = export_tokenizer(config)
    architecture = architecture_of_tokenizer(tokenizer)
    preprocessor = architecture.classifier_preprocessor_class(
        tokenizer, sequence_length=config.seq_length
    )
    num_classes = classification_tasks()[config.task]
    if config.encoder == PRESET_DIR:
        classifier = architecture.classifier_class.from_preset(
            find_export_part(config.export_dir, PRESET_DIR),
            num_classes=num_classes,
            preprocessor=preprocessor,
        )
        _check_sequence_length(config, classifier.backbone.max_sequence_length)
        return classifier
    if architecture.name != "bert":
        raise ValueError(
            "Fine-tuning through the SavedModel is for BERT (TF Hub's BERT "
            f"signature); fine-tune this {architecture.name} export's "
            "keras-hub preset (encoder='preset')."
        )
    encoder = load_bert_saved_model(
        find_export_part(config.export_dir, SAVED_MODEL_DIR)
    )
    _check_sequence_length(
        config, encoder.get_layer("bert_saved_model").max_sequence_length
    )
    embedding_rows = encoder.get_layer("bert_saved_model").vocabulary_size
    if embedding_rows != tokenizer.vocabulary_size():
        raise ValueError(
            f"The SavedModel has {embedding_rows} token embeddings but the "
            f"vocabulary {tokenizer.vocabulary_size()} tokens: the model "
            "would read the task's token ids as other tokens."
        )
    return keras_hub.models.BertTextClassifier(
        backbone=encoder, num_classes=num_classes, preprocessor=preprocessor
    )


def _check_sequence_length(config, max_sequence_length):
    if config.seq_length > max_sequence_length:
        raise ValueError(
            f"`seq_length` ({config.seq_length}) is above the export's "
            f"max_sequence_length ({max_sequence_length}): its position "
            "embedding has no rows for the later positions."
        )


def task_data(task, data_dir=None):
    """`(train, dev, test)` tf.data datasets of `(features, label)`; test
    is `None` where its labels are hidden (GLUE).

    Example:
    ```python
    from tokdrop_keras.training.finetuning import task_data
    train, dev, test = task_data("sentiment")
    assert [int(data.cardinality()) for data in (train, dev, test)] == [
        8058, 1007, 1007
    ]
    train, dev, test = task_data("adjacent_sentences")
    assert [int(data.cardinality()) for data in (train, dev, test)] == [
        8000, 947, 766
    ]
    ```
    """
    from tokdrop_keras.data.adjacent_sentences import adjacent_sentences_dataset
    from tokdrop_keras.data.downstream import glue_dataset
    from tokdrop_keras.data.downstream import sentiment_dataset

    if task == SENTIMENT_TASK:
        return tuple(
            sentiment_dataset(split) for split in ("train", "dev", "test")
        )
    if task == ADJACENT_SENTENCES_TASK:
        return tuple(
            adjacent_sentences_dataset(split)
            for split in ADJACENT_SENTENCES_SPLITS
        )
    name = task.removeprefix("glue/")
    return (
        glue_dataset(name, "train", data_dir=data_dir),
        glue_dataset(name, GLUE_TASKS[name].dev_split, data_dir=data_dir),
        None,
    )


def task_examples(task):
    """`(train, dev, test)` lists of `(features, label)` of a task read
    without TensorFlow (the embedded sets: sentiment, adjacent sentences).

    Raises:
        ValueError: for GLUE, which TFDS (TensorFlow) reads.

    Example:
    ```python
    from tokdrop_keras.training.finetuning import task_examples
    train, dev, test = task_examples("sentiment")
    assert [len(examples) for examples in (train, dev, test)] == [8058, 1007, 1007]
    (a, b), label = task_examples("adjacent_sentences")[1][0]
    assert isinstance(a, str) and label in (0, 1)
    ```
    """
    if task == SENTIMENT_TASK:
        return tuple(
            list(zip(*read_sentiment(split))) for split in ("train", "dev", "test")
        )
    if task == ADJACENT_SENTENCES_TASK:
        return tuple(
            [((a, b), label) for a, b, label in adjacent_sentence_pairs(split)]
            for split in ADJACENT_SENTENCES_SPLITS
        )
    raise ValueError(
        f"task={task!r} is read from TFDS, which needs TensorFlow: use "
        "data_pipeline='tf.data' (the Grain pipeline has the embedded "
        f"tasks {SENTIMENT_TASK!r} and {ADJACENT_SENTENCES_TASK!r})."
    )


def _stack(examples):
    """A Grain batch: texts as lists (pairs as a tuple of lists), labels
    as an int32 array, as keras-hub's preprocessors take them."""
    features, labels = zip(*examples)
    if isinstance(features[0], tuple):
        features = tuple(list(column) for column in zip(*features))
    else:
        features = list(features)
    return features, np.asarray(labels, np.int32)


class TaskBatches:
    """A task's batches from either pipeline: `tf.data` datasets, or
    Grain datasets of the examples (`task_examples`).

    Example:
    ```python
    from tokdrop_keras.training.finetuning import TaskBatches
    batches = TaskBatches("sentiment", batch_size=4, data_pipeline="grain")
    texts, labels = next(iter(batches.dev))
    assert len(texts) == 4 and labels.shape == (4,)
    assert batches.train_examples == 8058
    ```
    """

    def __init__(self, task, batch_size, data_pipeline, seed=0, data_dir=None):
        if data_pipeline == "grain":
            import grain

            def batched(examples):
                return grain.MapDataset.source(examples).batch(
                    batch_size, batch_fn=_stack
                )

            train, dev, test = task_examples(task)
            self.train_examples = len(train)
            self.train = (
                grain.MapDataset.source(train)
                .shuffle(seed=seed)
                .repeat()
                .batch(batch_size, batch_fn=_stack)
            )
        else:
            import tensorflow as tf

            def batched(data):
                return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)

            train, dev, test = task_data(task, data_dir)
            self.train_examples = int(train.cardinality())
            self.train = batched(train.shuffle(10_000, seed=seed)).repeat()
        self.dev = batched(dev)
        self.test = batched(test) if test is not None else None


def finetune(config):
    """Fine-tunes an export as its architecture's keras-hub text classifier.

    Early-stops on dev accuracy (restoring the best weights) and reports dev
    and test accuracy.

    Args:
        config: a `tokdrop_keras.FinetuneConfig`.

    Returns:
        A `FinetuneResult`.

    Example:
    ```python
    import tempfile
    export_dir = os.path.join(tempfile.mkdtemp(), "export")
    tokdrop_keras.pretrain(tokdrop_keras.PretrainConfig(
        size="nano", num_layers=2, seq_length=32, batch_size=4, steps=1,
        eval_steps=1, export_dir=export_dir,
    ))
    result = tokdrop_keras.finetune(tokdrop_keras.FinetuneConfig(
        export_dir=export_dir, seq_length=32, epochs=1, steps_per_epoch=2,
        batch_size=8,
    ))
    assert result.summary["epochs_run"] == 1
    ```
    """
    config.validate()
    keras.utils.set_random_seed(config.seed)
    classifier = build_classifier(config)
    data = TaskBatches(
        config.task,
        config.batch_size,
        config.data_pipeline,
        seed=config.seed,
        data_dir=config.data_dir,
    )
    classifier.compile(
        optimizer=keras.optimizers.AdamW(config.learning_rate, weight_decay=0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )

    start = time.perf_counter()
    history = classifier.fit(
        data.train,
        validation_data=data.dev,
        epochs=config.epochs,
        steps_per_epoch=(
            config.steps_per_epoch or data.train_examples // config.batch_size
        ),
        callbacks=[
            keras.callbacks.EarlyStopping(
                monitor="val_accuracy",
                patience=config.patience,
                restore_best_weights=True,
                mode="max",
            )
        ],
        verbose=1 if sys.stdout.isatty() else 2,
    )
    summary = {
        "config": config.to_dict(),
        "task": config.task,
        "encoder": config.encoder,
        "epochs_run": len(history.history["loss"]),
        "finetune_seconds": time.perf_counter() - start,
        "dev_accuracy": classifier.evaluate(
            data.dev, return_dict=True, verbose=0
        )["accuracy"],
    }
    if data.test is not None:
        summary["test_accuracy"] = classifier.evaluate(
            data.test, return_dict=True, verbose=0
        )["accuracy"]
    if config.output_file:
        write_json(config.output_file, summary)
    return FinetuneResult(classifier=classifier, summary=summary)
