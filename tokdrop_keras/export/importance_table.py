import numpy as np
import tokdrop_keras.filesystem as filesystem


def write_importance_table(importance_tracker, vocabulary, path):
    """Writes the importance table as TSV, most important token first.

    Columns: `token`, `importance` (EMA of the token's MLM loss), `times_seen`
    (weighted predictions folded in). Ids never predicted keep the initial
    importance and `times_seen` 0.

    Args:
        importance_tracker: an `ImportanceTracker`.
        vocabulary: list of tokens, indexed by id.
        path: output file (local or `gs://`).

    Example:
    ```python
    from tokdrop_keras.export import write_importance_table
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "whale"]
    tracker = tokdrop_keras.ImportanceTracker(
        vocabulary_size=len(vocabulary), initial_importance=1.0, beta=0.5
    )
    tracker.update(np.array([5, 6, 6]), losses=np.array([0.5, 3.0, 5.0]),
                   weights=np.array([1.0, 1.0, 1.0]))
    write_importance_table(tracker, vocabulary, "table.tsv")
    with open("table.tsv") as file:
        rows = [line.split("\\t") for line in file.read().splitlines()]
    assert rows[:3] == [
        ["token", "importance", "times_seen"],
        ["whale", "2.500000", "2"],  # 0.5 * 1.0 + 0.5 * mean(3.0, 5.0)
        ["[PAD]", "1.000000", "0"],  # never predicted: initial importance
    ]
    assert rows[-1] == ["the", "0.750000", "1"]
    ```
    """
    importance = importance_tracker.importance.numpy()
    counts = importance_tracker.prediction_counts.numpy()
    if len(vocabulary) != len(importance):
        raise ValueError(
            f"The vocabulary has {len(vocabulary)} tokens but the importance "
            f"table {len(importance)} entries."
        )
    # Most important first; among equals, the most often seen first.
    order = np.lexsort((-counts, -importance))
    with filesystem.open_file(path, "w") as file:
        file.write("token\timportance\ttimes_seen\n")
        for token_id in order:
            file.write(
                f"{vocabulary[token_id]}\t{importance[token_id]:.6f}\t"
                f"{counts[token_id]}\n"
            )


def read_importance_table(path, vocabulary):
    """The table `write_importance_table` wrote, by id: `(importance,
    times_seen)` NumPy arrays in `vocabulary`'s order.

    Raises:
        ValueError: if the file's tokens are not exactly `vocabulary`'s.

    Example:
    ```python
    from tokdrop_keras.export import read_importance_table
    from tokdrop_keras.export import write_importance_table
    vocabulary = ["[PAD]", "[UNK]", "the", "whale"]
    tracker = tokdrop_keras.ImportanceTracker(vocabulary_size=4, beta=0.5)
    tracker.update(np.array([3]), losses=np.array([4.0]), weights=np.array([1.0]))
    write_importance_table(tracker, vocabulary, "table.tsv")
    importance, counts = read_importance_table("table.tsv", vocabulary)
    np.testing.assert_allclose(importance, [10.0, 10.0, 10.0, 7.0])
    assert counts.tolist() == [0, 0, 0, 1]
    ```
    """
    ids = {token: index for index, token in enumerate(vocabulary)}
    importance = np.full(len(vocabulary), np.nan, "float32")
    counts = np.zeros(len(vocabulary), "int64")
    with filesystem.open_file(path) as file:
        lines = file.read().split("\n")
    rows = [line.split("\t") for line in lines[1:] if line]
    unknown = [row[0] for row in rows if row[0] not in ids]
    if unknown or len(rows) != len(vocabulary):
        raise ValueError(
            f"{path} is the table of another vocabulary: {len(rows)} tokens "
            f"for a vocabulary of {len(vocabulary)}"
            + (f"; not in it: {unknown[:5]}" if unknown else "")
            + "."
        )
    for token, value, seen in rows:
        importance[ids[token]] = float(value)
        counts[ids[token]] = int(seen)
    return importance, counts


def restore_importance_table(importance_tracker, path, vocabulary):
    """Sets an `ImportanceTracker` from a table file (`importance.tsv`):
    continuing our own export continues its table.

    Example:
    ```python
    from tokdrop_keras.export import restore_importance_table
    from tokdrop_keras.export import write_importance_table
    vocabulary = ["[PAD]", "[UNK]", "the", "whale"]
    trained = tokdrop_keras.ImportanceTracker(vocabulary_size=4, beta=0.5)
    trained.update(np.array([2]), losses=np.array([1.0]), weights=np.array([1.0]))
    write_importance_table(trained, vocabulary, "table.tsv")
    fresh = tokdrop_keras.ImportanceTracker(vocabulary_size=4, beta=0.5)
    restore_importance_table(fresh, "table.tsv", vocabulary)
    np.testing.assert_allclose(fresh.importance.numpy(), [10, 10, 5.5, 10])
    ```
    """
    importance, counts = read_importance_table(path, vocabulary)
    importance_tracker.importance.assign(
        importance.astype(importance_tracker.importance.dtype)
    )
    importance_tracker.prediction_counts.assign(
        counts.astype(importance_tracker.prediction_counts.dtype)
    )
