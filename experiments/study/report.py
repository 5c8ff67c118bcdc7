"""The study's report over every arm and seed written so far."""

import os

from study.config import RESULT_FILE
from study.config import SNAPSHOTS_FILE
from study.plots import plot_importance
from study.plots import plot_importance_evolution
from study.plots import plot_loss_vs_time
from study.tables import downstream_table
from study.tables import history_table
from study.tables import load_results
from study.tables import results_table
from tokdrop_keras.export.layout import IMPORTANCE_TABLE_FILE
from tokdrop_keras.training.run_directory import write_json

REPORT_FILE = "report.md"
LOSS_PLOT = "ablation_loss_vs_time.png"
EVOLUTION_PLOT = "ablation_importance_evolution.png"
IMPORTANCE_PLOT = "ablation_importance.png"


def write_report(output_dir, image_dir=None):
    """Writes `report.md` (`results_table`, `history_table`,
    `downstream_table`), `report.json` and the plots into `output_dir` (the
    images into `image_dir` if given); returns the text of `report.md`.

    The importance plots are of the importance arm's lowest seed.
    """
    results = load_results(output_dir)
    if not results:
        raise ValueError(f"No results under {output_dir} (no ARM/seedN/{RESULT_FILE}).")
    image_dir = image_dir or output_dir
    os.makedirs(image_dir, exist_ok=True)
    plot_loss_vs_time(results, os.path.join(image_dir, LOSS_PLOT))
    if "importance" in results:
        seed = min(r["seed"] for r in results["importance"])
        arm_dir = os.path.join(output_dir, "importance", f"seed{seed}")
        for name, plot, image in (
            (SNAPSHOTS_FILE, plot_importance_evolution, EVOLUTION_PLOT),
            (IMPORTANCE_TABLE_FILE, plot_importance, IMPORTANCE_PLOT),
        ):
            if os.path.exists(os.path.join(arm_dir, name)):
                plot(os.path.join(arm_dir, name), os.path.join(image_dir, image))
    report = "\n\n".join(
        [results_table(results), history_table(results), downstream_table(results)]
    ) + "\n"
    with open(os.path.join(output_dir, REPORT_FILE), "w") as file:
        file.write(report)
    write_json(os.path.join(output_dir, "report.json"), {
        arm: [{"seed": r["seed"],
               "pretrain": {k: v for k, v in r["pretrain"].items() if k != "loss_history"},
               "finetune": r["finetune"]} for r in runs]
        for arm, runs in results.items()
    })
    return report
