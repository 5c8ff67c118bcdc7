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
