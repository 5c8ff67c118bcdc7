"""The quickstart notebook runs top to bottom; its TPU commands parse."""

import math
import os
import re
import shlex

import nbformat
from nbclient import NotebookClient

import tokdrop_keras
from tokdrop_keras.training.flags import parse_config

NOTEBOOK = os.path.join(
    os.path.dirname(__file__), "..", "colab", "token_dropping_quickstart.ipynb"
)
# The config class of each script's flags.
SCRIPT_CONFIGS = {
    "experiments/pretrain.py": tokdrop_keras.PretrainConfig,
    "experiments/finetune.py": tokdrop_keras.FinetuneConfig,
}
# One row of the printed importance table: most important token and its
# importance, least important token and its importance.
TABLE_ROW = re.compile(r"^\s*(\S+)\s+(\d+\.\d{4})\s+(\S+)\s+(\d+\.\d{4})\s*$", re.M)


def read_notebook():
    return nbformat.read(NOTEBOOK, as_version=4)


def shell_commands(script):
    """The `python experiments/...` commands of a markdown cell."""
    text = "\n".join(
        block for block in re.findall(r"```\n(.*?)```", script, flags=re.S)
    ).replace("\\\n", " ")
    return [
        shlex.split(line)
        for line in text.splitlines()
        if line.startswith("python experiments/")
    ]


def images_of(cells):
    return [
        output
        for cell in cells
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]


def stdout_of(cell):
    return "".join(
        output.get("text", "")
        for output in cell.outputs
        if output.get("name") == "stdout"
    )


def test_notebook_runs_top_to_bottom_at_the_smallest_size(monkeypatch):
    monkeypatch.setenv("TOKDROP_NOTEBOOK_SIZE", "TINY")
    notebook = read_notebook()
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": os.path.dirname(NOTEBOOK)}},
    ).execute()
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    outputs = "".join(stdout_of(cell) for cell in code_cells)
    assert "size=TINY" in outputs
    # The layout picture and the importance histogram are both shown (a
    # library import that switches matplotlib's backend would hide them).
    assert len(images_of(code_cells)) >= 2

    # Step time: the two arms' ratio is a real measurement, and token
    # dropping is not much slower than the baseline even at TINY on CPU,
    # where per-step overhead dominates (at larger sizes it is faster).
    ratio = float(re.search(r"token drop / baseline: (\S+)", outputs)[1])
    assert math.isfinite(ratio) and 0.0 < ratio < 1.5

    # The importance table: 15 rows, learned (every listed hard token above
    # every listed easy one), with frequent tokens among the easiest.
    (table_cell,) = [
        cell for cell in code_cells if "most important" in stdout_of(cell)
    ]
    rows = TABLE_ROW.findall(stdout_of(table_cell))
    assert len(rows) == 15
    most = [float(row[1]) for row in rows]
    least = [float(row[3]) for row in rows]
    assert min(most) > max(least)
    assert {"the", ",", "."} & {row[2] for row in rows}

    # Fine-tuning ran to the end. (At TINY, 40 fine-tuning steps of a 40-step
    # pretrained model are not reliably above the majority class, so the
    # accuracy itself is not checked here; the committed run shows it.)
    assert re.search(r"sentiment test accuracy: \d\.\d{3}", outputs)


def test_cloud_tpu_commands_parse():
    markdown = "\n".join(
        cell.source for cell in read_notebook().cells if cell.cell_type == "markdown"
    )
    commands = shell_commands(markdown)
    assert [argv[1] for argv in commands].count("experiments/pretrain.py") == 2
    assert [argv[1] for argv in commands].count("experiments/finetune.py") == 1
    for argv in commands:
        config_class = SCRIPT_CONFIGS[argv[1]]
        config = parse_config(config_class, argv[2:])
        if config_class is tokdrop_keras.PretrainConfig:
            assert config.strategy == "tpu" and config.tpu
        config.validate()  # settings only, not paths


def test_committed_notebook_shows_a_real_run():
    notebook = read_notebook()
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code_cells)
    assert len(images_of(code_cells)) >= 2
