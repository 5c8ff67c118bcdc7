"""The study harness of experiments/: its configs, errors, tables and
report, and one whole two-arm run at the smallest size."""

import json
import os

import numpy as np
import pytest

import study
from study import run as study_run
from study import tables
from study.config import StudyConfig
from tokdrop_keras.training import run_directory

RECIPE = {"finetune_steps": 80, "finetune_seq_length": 64,
          "finetune_batch_size": 32, "finetune_learning_rate": 2e-4}


def result(seed, loss, accuracy, history, recipe=RECIPE, median=1.0):
    return {
        "seed": seed,
        "pretrain": {"steps": history[-1][0], "median_step_seconds": median,
                     "train_seconds": history[-1][1] + 10.0, "eval_loss": loss,
                     "eval_accuracy": 0.05, "eval_history": history},
        "finetune": {task: {"dev_accuracy": accuracy, "test_accuracy": accuracy,
                            "selected_test_accuracy": accuracy,
                            "recipe": dict(recipe),
                            "runs": [{"finetune_seed": seed, "dev_accuracy": accuracy,
                                      "test_accuracy": accuracy}]}
                     for task in study.TASKS},
    }


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    run_directory.write_json(path, value)


def test_arms_change_only_their_settings():
    study_config = StudyConfig(seed=2, equal_time_steps=300)
    configs = {arm: study_config.pretrain_config(arm) for arm in study.ARMS}
    assert not configs["baseline"].token_drop
    assert configs["importance"].token_drop and configs["importance"].selection == "importance"
    assert configs["random"].selection == "random"
    assert configs["mixed"].selection == "mixed"
    assert (configs["sctd"].consistency_weight, configs["sctd"].consistency_every) == (1.0, 4)
    # Same model, data order and steps everywhere.
    for arm, config in configs.items():
        assert (config.num_layers, config.seq_length, config.seed) == (12, 128, 2)
        if arm != "importance_equal_time":
            assert config.steps == StudyConfig().steps
    assert configs["importance_equal_time"].steps == 300
    assert set(configs["baseline"].differences(configs["importance"])) == {
        "token_drop", "export_dir"}


def test_the_demo_is_two_arms_at_one_seed():
    config = study.DemoConfig()
    assert config.arm_list() == ["baseline", "importance"]
    assert config.task_list() == ["sentiment"]
    baseline = config.pretrain_config("baseline")
    assert baseline.checkpoint_every == 100 and baseline.num_layers == 8
    assert config.replace(architecture="distil_bert").pretrain_config(
        "importance").architecture == "distil_bert"


def test_training_clock_is_steps_times_the_median_step():
    run = result(0, 6.0, 0.5, [(120, 300.0, 6.5, 0.1), (240, 400.0, 6.0, 0.1)], median=1.5)
    assert tables.training_clock(run) == [(120, 180.0, 6.5, 0.1), (240, 360.0, 6.0, 0.1)]


def test_equal_time_steps_come_from_seed_0_median_steps(tmp_path):
    config = StudyConfig(output_dir=str(tmp_path), arms="importance_equal_time",
                         steps=240, evaluations=4)
    arm = "importance_equal_time"
    with pytest.raises(ValueError, match="baseline/seed0/result.json is missing"):
        config.arm_steps(arm)
    # Median steps 1.3 s and 1.0 s: 240 x 1.3 = 312 steps, rounded to a
    # multiple of the 60-step evaluation interval.
    for other, median in (("baseline", 1.3), ("importance", 1.0)):
        write_json(os.path.join(tmp_path, other, "seed0", "result.json"),
                   result(0, 6.0, 0.5, [(240, 500.0, 6.0, 0.1)], median=median))
    assert config.arm_steps(arm) == 300
    assert config.pretrain_config(arm).steps == 300
    assert config.replace(equal_time_steps=360).arm_steps(arm) == 360
    with pytest.raises(ValueError, match="multiple of steps / evaluations"):
        config.replace(equal_time_steps=350).validate()


@pytest.mark.parametrize("change, message", [
    (dict(arms="baseline,everything"), "Unknown arm 'everything'"),
    (dict(arms=""), "Name at least one arm"),
    (dict(tasks="sentiment,glue"), "Unknown task 'glue'"),
    (dict(stage="eval"), "Unknown stage 'eval'"),
    (dict(steps=250), "must be a multiple of `evaluations`"),
    (dict(finetune_learning_rate=0.0), "learning_rate"),
    (dict(finetune_runs=0), "`finetune_runs` must be at least 1, got 0"),
])
def test_bad_settings_are_errors(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        StudyConfig(output_dir=str(tmp_path), **change).validate()


def test_finetune_stage_needs_a_finished_run(tmp_path):
    config = StudyConfig(output_dir=str(tmp_path), arms="random", seed=1, stage="finetune")
    with pytest.raises(ValueError, match="random/seed1/result.json is missing"):
        config.validate()
    write_json(os.path.join(tmp_path, "random", "seed1", "result.json"), {})
    with pytest.raises(ValueError, match="export/preset is missing"):
        config.validate()


def test_table_keeps_each_fine_tuning_recipe_apart():
    new = dict(RECIPE, finetune_steps=300, finetune_learning_rate=1e-3)
    history = [(120, 100.0, 6.5, 0.1), (240, 200.0, 6.0, 0.1)]
    worse = [(120, 100.0, 6.5, 0.1), (240, 200.0, 6.2, 0.1)]
    faster = [(120, 999.0, 6.4, 0.1), (240, 999.0, 5.8, 0.1)]  # stalled
    results = {
        "baseline": [result(0, 6.0, 0.5, history), result(1, 6.2, 0.7, worse, new)],
        "random": [result(0, 5.8, 0.6, faster, new, median=0.8),
                   result(1, 5.9, 0.8, faster, new, median=0.8)],
    }
    table = tables.results_table(results)
    assert "| held-out MLM loss (full model) | 6.100 ± 0.141 | 5.850 ± 0.071 |" in table
    assert ("| sentiment dev accuracy (80 steps, batch 32, S=64, lr 0.0002) | "
            "0.500 (seeds 0) | — |") in table
    assert ("| sentiment test accuracy (300 steps, batch 32, S=64, lr 0.001) | "
            "0.700 (seeds 1) | 0.700 ± 0.141 (seeds 0, 1) |") in table
    # The baseline's mean final loss, 6.1, on the median-step clock:
    # baseline seed 0 crosses it at 120 + 120 * 0.4 / 0.5 = 216 s, seed 1
    # never; random (0.8 s a step, whatever its stalls) at
    # 96 + 96 * 0.3 / 0.6 = 144 s.
    assert "(6.100) | 216 (1/2 reached) | 144 ± 0 (2/2 reached) |" in table
    # The same in steps (free of the machine): baseline seed 0 at
    # 120 + 120 * 0.4 / 0.5 = 216, random at 120 + 120 * 0.3 / 0.6 = 180.
    assert ("| steps to the baseline's mean final held-out loss (6.100) | "
            "216 (1/2 reached) | 180 ± 0 (2/2 reached) |") in table


def test_table_pairs_each_arm_with_the_same_seeds_baseline():
    history = [(240, 200.0, 6.0, 0.1)]
    results = {
        "baseline": [result(0, 6.0, 0.5, history), result(1, 6.4, 0.5, history)],
        "random": [result(0, 5.9, 0.5, history), result(1, 6.1, 0.5, history),
                   result(2, 5.0, 0.5, history)],  # seed 2: no baseline to pair
    }
    table = tables.results_table(results)
    # -0.1 and -0.3: mean -0.2, sample sd 0.141.
    assert "| held-out loss minus the same seed's baseline | — | -0.200 ± 0.141 (n=2) |" in table


def test_history_table_averages_each_evaluation():
    results = {"baseline": [
        result(0, 6.0, 0.5, [(60, 1.0, 7.0, 0.05), (120, 2.0, 6.0, 0.10)], median=1.0),
        result(1, 6.2, 0.5, [(60, 1.0, 7.2, 0.07), (120, 2.0, 6.2, 0.12)], median=1.2),
    ]}
    table = tables.history_table(results)
    assert "| baseline | 60 | 66 | 7.100 ± 0.141 | 0.0600 ± 0.0141 |" in table
    assert "| baseline | 120 | 132 | 6.100 ± 0.141 | 0.1100 ± 0.0141 |" in table


def test_finetune_stage_replaces_only_the_downstream_results(tmp_path, monkeypatch):
    seen = []

    class Tuned:
        def __init__(self, config):
            seen.append((config.task, config.steps_per_epoch, config.batch_size,
                         config.learning_rate, config.export_dir))
            self.summary = {"dev_accuracy": 0.625, "test_accuracy": 0.75,
                            "finetune_seconds": 3.0, "epochs_run": 1}

    monkeypatch.setattr(study_run, "finetune", Tuned)
    config = StudyConfig(output_dir=str(tmp_path), arms="random", seed=1,
                         stage="finetune", finetune_steps=120,
                         finetune_learning_rate=5e-5)
    arm_dir = os.path.join(tmp_path, "random", "seed1")
    os.makedirs(os.path.join(arm_dir, "export", "preset"))
    old = result(1, 5.9, 0.5, [(480, 400.0, 5.9, 0.1)])
    write_json(os.path.join(arm_dir, "result.json"), old)
    (new,) = study.run_arms(config).values()
    assert new["pretrain"] == run_directory.read_json(os.path.join(arm_dir, "result.json"))["pretrain"]
    assert new["pretrain"]["eval_loss"] == 5.9
    export = os.path.join(arm_dir, "export")
    assert seen == [(task, 120, 16, 5e-5, export) for task in study.TASKS]
    assert new["finetune"]["adjacent_sentences"] == {
        "dev_accuracy": 0.625, "test_accuracy": 0.75,
        "selected_test_accuracy": 0.75, "finetune_seconds": 3.0,
        "recipe": {"finetune_steps": 120, "finetune_seq_length": 64,
                   "finetune_batch_size": 16, "finetune_learning_rate": 5e-5},
        "runs": [{"finetune_seed": 1, "dev_accuracy": 0.625, "test_accuracy": 0.75,
                  "finetune_seconds": 3.0}],
    }
    assert tables.recipe_label(new) == "120 steps, batch 16, S=64, lr 5e-05"


def test_more_fine_tuning_runs_keep_the_recorded_one(tmp_path, monkeypatch):
    # Fine-tuning seed -> (dev, test): seed 2001 has the best dev accuracy.
    accuracies = {1001: (0.55, 0.60), 2001: (0.70, 0.64), 3001: (0.60, 0.70)}
    seen = []

    class Tuned:
        def __init__(self, config):
            seen.append((config.task, config.seed))
            dev, test = accuracies[config.seed]
            self.summary = {"dev_accuracy": dev, "test_accuracy": test,
                            "finetune_seconds": 2.0}

    monkeypatch.setattr(study_run, "finetune", Tuned)
    arm_dir = os.path.join(tmp_path, "random", "seed1")
    os.makedirs(os.path.join(arm_dir, "export", "preset"))
    config = StudyConfig(output_dir=str(tmp_path), arms="random", seed=1,
                         stage="finetune", finetune_runs=3)
    assert config.finetune_seeds() == [1, 1001, 2001]
    recorded = result(1, 5.9, 0.5, [(480, 400.0, 5.9, 0.1)],
                      recipe=config.finetune_recipe())
    recorded["finetune"]["sentiment"]["runs"][0]["finetune_seconds"] = 4.0
    recorded["finetune"]["adjacent_sentences"]["recipe"]["finetune_steps"] = 10
    write_json(os.path.join(arm_dir, "result.json"), recorded)
    accuracies[1] = (0.40, 0.40)  # adjacent sentences' run 0 is done again
    (new,) = study.run_arms(config).values()
    # Sentiment's recorded run (seed 1, same recipe) is kept; adjacent
    # sentences' was of another recipe, so all three run.
    assert seen == [("sentiment", 1001), ("sentiment", 2001),
                    ("adjacent_sentences", 1), ("adjacent_sentences", 1001),
                    ("adjacent_sentences", 2001)]
    sentiment = new["finetune"]["sentiment"]
    assert [run["finetune_seed"] for run in sentiment["runs"]] == [1, 1001, 2001]
    assert sentiment["runs"][0]["dev_accuracy"] == 0.5
    assert sentiment["dev_accuracy"] == pytest.approx((0.5 + 0.55 + 0.70) / 3)
    assert sentiment["test_accuracy"] == pytest.approx((0.5 + 0.60 + 0.64) / 3)
    assert sentiment["selected_test_accuracy"] == 0.64
    assert sentiment["finetune_seconds"] == 8.0
    assert new["finetune"]["adjacent_sentences"]["test_accuracy"] == pytest.approx(
        (0.40 + 0.60 + 0.64) / 3)
    assert tables.recipe_label(new).endswith("lr 0.0001, mean of 3 runs")
    # Run again: nothing left to fine-tune.
    seen.clear()
    assert study.run_arms(config)["random"]["finetune"] == new["finetune"]
    assert seen == []
    table = tables.results_table({"random": [new]})
    assert ("| sentiment test accuracy of the run with the best dev accuracy "
            "(300 steps, batch 16, S=64, lr 0.0001, mean of 3 runs) | 0.640 (seeds 1) |") in table
    assert "| random | 1 | 0.500 / 0.500, 0.550 / 0.600, 0.700 / 0.640 |" in (
        tables.downstream_table({"random": [new]}))


def test_table_compares_first_fine_tuning_runs_across_results_with_and_without_repeats():
    recipe = dict(RECIPE, finetune_batch_size=16)
    history = [(240, 200.0, 6.0, 0.1)]
    single = result(1, 6.0, 0.60, history, recipe)
    repeated = result(0, 6.0, 0.0, history, recipe)
    for task in repeated["finetune"].values():
        task["runs"] = [{"finetune_seed": seed, "dev_accuracy": dev, "test_accuracy": test}
                        for seed, dev, test in ((0, 0.5, 0.52), (1000, 0.7, 0.68), (2000, 0.6, 0.62))]
        task.update(dev_accuracy=0.6, test_accuracy=0.6067, selected_test_accuracy=0.68)
    table = tables.results_table({"random": [repeated, single]})
    recipe_text = "80 steps, batch 16, S=64, lr 0.0002"
    # Both results' first runs (0.52 and 0.60): mean 0.56, sd 0.057.
    assert (f"| sentiment test accuracy ({recipe_text}, first fine-tuning run) | "
            "0.560 ± 0.057 (seeds 0, 1) |") in table
    # The means over repeats: seed 0 alone.
    assert f"| sentiment test accuracy ({recipe_text}, mean of 3 runs) | 0.607 (seeds 0) |" in table
    assert (f"| sentiment test accuracy of the run with the best dev accuracy "
            f"({recipe_text}, mean of 3 runs) | 0.680 (seeds 0) |") in table
    assert f"({recipe_text}) |" not in table  # no rows for the recipe without a run count


def test_time_to_loss_interpolates_between_evaluations():
    history = [(10, 100.0, 8.0, 0.1), (20, 200.0, 6.0, 0.2), (30, 300.0, 5.0, 0.3)]
    assert tables.time_to_loss(history, 7.0) == pytest.approx(150.0)
    assert tables.time_to_loss(history, 8.5) == pytest.approx(100.0)
    assert tables.time_to_loss(history, 4.0) is None


def test_the_report_covers_every_result_written(tmp_path):
    with pytest.raises(ValueError, match="No results under"):
        study.write_report(str(tmp_path))
    history = [(4, 4.0, 8.0, 0.03), (8, 8.0, 7.0, 0.05)]
    write_json(os.path.join(tmp_path, "baseline", "seed0", "result.json"),
               result(0, 7.0, 0.5, history, median=1.0))
    write_json(os.path.join(tmp_path, "random", "seed0", "result.json"),
               result(0, 7.2, 0.5, [(4, 3.0, 8.1, 0.03), (8, 6.0, 7.2, 0.05)], median=0.75))
    report = study.write_report(str(tmp_path), str(tmp_path / "images"))
    assert "| held-out MLM loss (full model) | 7.000 | 7.200 |" in report
    assert "| median step time / the same seed's baseline's | — | 0.750 (n=1) |" in report
    assert "| random | 8 | 6 | 7.200 | 0.0500 |" in report
    assert open(tmp_path / "report.md").read() == report
    assert os.listdir(tmp_path / "images") == ["ablation_loss_vs_time.png"]
    saved = run_directory.read_json(os.path.join(tmp_path, "report.json"))
    assert saved["random"][0]["pretrain"]["eval_loss"] == 7.2


def test_the_demo_runs_both_arms_and_reports(tmp_path):
    config = study.DemoConfig(
        output_dir=str(tmp_path), architecture="distil_bert", size="nano",
        num_layers=2, seq_length=32, batch_size=4, steps=4, evaluations=2,
        eval_steps=1, saved_model=False, transformers=False, finetune_steps=2,
        finetune_seq_length=32,
    )
    results, report = study.run_study(config)
    assert set(results) == {"baseline", "importance"}
    for arm, record in results.items():
        assert record["pretrain"]["steps"] == 4
        assert [step for step, *_ in record["pretrain"]["eval_history"]] == [2, 4]
        assert set(record["finetune"]) == {"sentiment"}
        assert record["finetune"]["sentiment"]["recipe"]["finetune_steps"] == 2
        assert run_directory.read_json(
            os.path.join(tmp_path, arm, "seed0", "result.json")) == json.loads(json.dumps(record))
    # The importance arm's table learned; snapshots at the start and at
    # each evaluation.
    snapshots = np.load(os.path.join(tmp_path, "importance", "seed0", "importance_snapshots.npz"))
    assert list(snapshots["steps"]) == [0, 2, 4]
    assert (snapshots["tables"][0] == 10.0).all()
    assert (snapshots["tables"][-1] < 10.0).any()
    assert "| seeds | 0 | 0 |" in report
    assert "(n=1) |" in report.split("median step time / the same seed's baseline's")[1].splitlines()[0]
    assert {"ablation_loss_vs_time.png", "ablation_importance_evolution.png",
            "ablation_importance.png", "report.md"} <= set(os.listdir(tmp_path))
