"""The embedded sentiment set (movie-review sentences, 1 positive, 0
negative), read without TensorFlow."""

import csv
import os

from tokdrop_keras.data.corpus import ASSETS_DIR

SENTIMENT_SPLITS = ("train", "dev", "test")


def sentiment_file(split):
    """The TSV file of a split of the embedded sentiment set.

    Args:
        split: `"train"`, `"dev"` or `"test"`.

    Example:
    ```python
    from tokdrop_keras.data.sentiment import sentiment_file
    path = sentiment_file("dev")
    assert path.endswith(os.path.join("assets", "sentiment", "dev.tsv"))
    with open(path) as file:
        assert file.readline().split() == ["sentence", "label"]
    ```
    """
    if split not in SENTIMENT_SPLITS:
        raise ValueError(
            f"Unknown sentiment split {split!r}; expected one of "
            f"{SENTIMENT_SPLITS}."
        )
    return os.path.join(ASSETS_DIR, "sentiment", f"{split}.tsv")


def read_sentiment(split):
    """Reads a split of the embedded sentiment set.

    Args:
        split: `"train"` (8,058), `"dev"` (1,007) or `"test"` (1,007).

    Returns:
        Two lists: the sentences and their labels (1 positive, 0 negative).

    Example:
    ```python
    from tokdrop_keras.data import read_sentiment
    sentences, labels = read_sentiment("dev")
    assert len(sentences) == len(labels) == 1007
    assert set(labels) == {0, 1} and isinstance(sentences[0], str)
    ```
    """
    path = sentiment_file(split)
    with open(path, encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file, delimiter="\t", quoting=csv.QUOTE_NONE))
    if rows[0] != ["sentence", "label"]:
        raise ValueError(f"{path}: expected the header sentence<TAB>label.")
    return [row[0] for row in rows[1:]], [int(row[1]) for row in rows[1:]]
