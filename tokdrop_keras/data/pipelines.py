"""The two pretraining input pipelines, and which one a run uses.

`"tf.data"` (`pretraining_dataset`: tf-text tokenizers, every source,
TensorFlow's TPU input) and `"grain"` (`grain_pretraining_dataset`:
`tokenizers` / `sentencepiece` on Grain, no TensorFlow; text and
`tfrecord:` sources). The default is tf.data where TensorFlow is installed,
else Grain.
"""

import importlib.util

DATA_PIPELINES = ("tf.data", "grain")
# Sources whose files are already one split: they have no held-out part.
SINGLE_SPLIT_PREFIXES = ("tfrecord:", "model_garden:")


def default_data_pipeline():
    """`"tf.data"` where TensorFlow is importable, else `"grain"`.

    Example:
    ```python
    from tokdrop_keras.data import default_data_pipeline
    expected = "grain" if not tokdrop_keras.backend.tensorflow_installed() else "tf.data"
    assert default_data_pipeline() == expected
    ```
    """
    if importlib.util.find_spec("tensorflow") is not None:
        return "tf.data"
    return "grain"


def has_validation_split(source):
    """Whether `source` has a held-out split (`split="validation"`).

    Text and TFDS sources hold out 2% of their documents; record sources
    (`"tfrecord:"`, `"model_garden:"`) are one split already.

    Example:
    ```python
    assert tokdrop_keras.data.has_validation_split("embedded")
    assert not tokdrop_keras.data.has_validation_split("tfrecord:a/*.tfrecord")
    ```
    """
    return not source.startswith(SINGLE_SPLIT_PREFIXES)


def masked_lm_dataset(data_pipeline=None, **options):
    """Masked-LM batches from either pipeline: `pretraining_dataset(**options)`
    for `"tf.data"`, `grain_pretraining_dataset(**options)` for `"grain"`.

    Args:
        data_pipeline: `"tf.data"`, `"grain"` or `None`
            (`default_data_pipeline()`).
        **options: the pipelines' common arguments (`source`, `split`,
            `sequence_length`, `batch_size`, `seed`, `repeat`, `shuffle`,
            `architecture`, `tokenizer`, ...).

    Returns:
        A `tf.data.Dataset` or a Grain `IterDataset` of
        `(x, mask_ids, mask_weights)`; both have `skip(n)` and `take(n)`.

    Example:
    ```python
    from tokdrop_keras.data import masked_lm_dataset
    dataset = masked_lm_dataset(
        "grain", sequence_length=16, batch_size=2, shuffle=False
    )
    x, mask_ids, mask_weights = next(iter(dataset))
    assert x["token_ids"].shape == (2, 16)
    ```
    """
    data_pipeline = data_pipeline or default_data_pipeline()
    if data_pipeline not in DATA_PIPELINES:
        raise ValueError(
            f"Unknown data_pipeline {data_pipeline!r}; choose one of "
            f"{list(DATA_PIPELINES)}."
        )
    if data_pipeline == "grain":
        from tokdrop_keras.data.grain_pipeline import grain_pretraining_dataset

        return grain_pretraining_dataset(**options)
    if importlib.util.find_spec("tensorflow") is None:
        raise ImportError(
            "data_pipeline='tf.data' needs TensorFlow, which is not "
            "installed: use data_pipeline='grain'."
        )
    from tokdrop_keras.data.pretraining import pretraining_dataset

    return pretraining_dataset(**options)
