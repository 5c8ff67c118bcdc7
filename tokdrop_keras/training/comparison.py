"""`compare(config)`: baseline vs token dropping, pretrain → export →
fine-tune, same data, seed and steps; one table and plots (`make demo`)."""

import os

from tokdrop_keras.export.layout import IMPORTANCE_TABLE_FILE
from tokdrop_keras.training.finetuning import finetune
from tokdrop_keras.training.pretraining import pretrain
from tokdrop_keras.training.report import ARMS
from tokdrop_keras.training.report import finetune_results
from tokdrop_keras.training.report import write_report


def _run_arm(config, arm):
    """Pretrains, exports and fine-tunes one arm; returns its results."""
    pretrain_config = config.pretrain_config(arm)
    print(f"== {arm}: pretraining {config.steps} steps", flush=True)
    summary = dict(pretrain(pretrain_config).summary)
    print(f"== {arm}: fine-tuning on the sentiment set", flush=True)
    summary.update(finetune_results(finetune(config.finetune_config(arm)).summary))
    summary["importance_table"] = os.path.join(
        pretrain_config.export_dir, IMPORTANCE_TABLE_FILE
    )
    return summary


def compare(config):
    """Runs both arms and writes the report to `config.output_dir`.

    Writes `results.md` (the table: pretraining wall-clock and step time,
    tokens/s, full-model held-out MLM loss and accuracy, sentiment accuracy,
    time to the baseline's final held-out loss), `results.json` and plots
    (MLM loss vs step and vs wall-clock; the most and least important
    tokens).

    Args:
        config: a `tokdrop_keras.ComparisonConfig`.

    Returns:
        `(results, table)`: the two arms' results by arm name, and the
        markdown table.

    Example:
    ```python
    import tempfile
    results, table = tokdrop_keras.compare(tokdrop_keras.ComparisonConfig(
        output_dir=tempfile.mkdtemp(), architecture="distil_bert", size="nano",
        num_layers=2,
        seq_length=32, batch_size=4, steps=4, eval_steps=1,
        saved_model=False, finetune_steps=2, finetune_seq_length=32,
    ))
    assert results["token_drop"]["steps"] == 4
    assert "| held-out MLM loss (full model) |" in table
    ```
    """
    config.validate()
    os.makedirs(config.output_dir, exist_ok=True)
    results = {arm: _run_arm(config, arm) for arm in ARMS}
    table = write_report(results, config.output_dir)
    return results, table
