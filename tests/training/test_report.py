import os

import pytest

from tokdrop_keras.training import report


def run(train_seconds, eval_history, **extra):
    return {
        "train_seconds": train_seconds,
        "median_step_seconds": train_seconds / 100,
        "tokens_per_second": 409600 / train_seconds,
        "eval_history": eval_history,
        "loss_history": [(1, 1.0, 9.0), (2, 2.0, 8.0)],
        **extra,
    }


def test_time_to_loss_interpolates_between_evaluations():
    history = [(10, 100.0, 8.0, 0.1), (20, 200.0, 6.0, 0.2), (30, 300.0, 5.0, 0.3)]
    assert report.time_to_loss(history, 7.0) == pytest.approx(150.0)
    assert report.time_to_loss(history, 8.5) == pytest.approx(100.0)
    assert report.time_to_loss(history, 4.0) is None


def test_table_and_plots(tmp_path):
    table_path = os.path.join(tmp_path, "importance.tsv")
    with open(table_path, "w") as file:
        file.write("token\timportance\ttimes_seen\nthe\t9.5\t3\n,\t8.0\t5\nzz\t10.0\t0\n")
    results = {
        "baseline": run(400.0, [(50, 200.0, 7.0, 0.1), (100, 400.0, 6.0, 0.2)]),
        "token_drop": run(300.0, [(50, 150.0, 7.2, 0.1), (100, 300.0, 5.8, 0.2)],
                          importance_table=table_path),
    }
    table = report.write_report(results, str(tmp_path))
    assert "| pretraining wall-clock, evaluations included (s) | 400 | 300 | 0.750 |" in table
    # 6.0 is reached between 150 s (7.2) and 300 s (5.8): 150 + 150 * 1.2 / 1.4
    assert "(6.000) | 400 | 279 | 0.696 |" in table
    assert {"loss_curves.png", "importance.png", "results.md", "results.json"} <= set(
        os.listdir(tmp_path)
    )


def test_a_zero_baseline_value_has_no_ratio():
    # A tiny run's held-out accuracy can be exactly 0.
    table = report.results_table({
        "baseline": {"eval_accuracy": 0.0, "eval_loss": 8.0},
        "token_drop": {"eval_accuracy": 0.25, "eval_loss": 6.0},
    })
    assert "| held-out MLM accuracy (full model) | 0.000 | 0.250 | n/a |" in table
    assert "| held-out MLM loss (full model) | 8.000 | 6.000 | 0.750 |" in table
