import numpy as np
import tensorflow as tf


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
    write_importance_table(
        model.importance_tracker, tokenizer.get_vocabulary(), "table.tsv"
    )
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
    with tf.io.gfile.GFile(path, "w") as file:
        file.write("token\timportance\ttimes_seen\n")
        for token_id in order:
            file.write(
                f"{vocabulary[token_id]}\t{importance[token_id]:.6f}\t"
                f"{counts[token_id]}\n"
            )
