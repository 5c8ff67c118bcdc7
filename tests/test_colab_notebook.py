"""The quickstart notebook runs top to bottom; its TPU commands parse."""

import os
import re
import shlex

import nbformat
from nbclient import NotebookClient

import finetune
import pretrain

NOTEBOOK = os.path.join(
    os.path.dirname(__file__), "..", "colab", "token_dropping_quickstart.ipynb"
)


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


def test_notebook_runs_top_to_bottom_at_the_smallest_size(monkeypatch):
    monkeypatch.setenv("TOKDROP_NOTEBOOK_SIZE", "TINY")
    notebook = read_notebook()
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": os.path.dirname(NOTEBOOK)}},
    ).execute()
    outputs = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "size=TINY" in outputs
    assert "token drop / baseline:" in outputs
    accuracy = float(re.search(r"sentiment test accuracy: ([\d.]+)", outputs)[1])
    assert 0.0 <= accuracy <= 1.0


def test_cloud_tpu_commands_parse():
    markdown = "\n".join(
        cell.source for cell in read_notebook().cells if cell.cell_type == "markdown"
    )
    commands = shell_commands(markdown)
    scripts = {"experiments/pretrain.py": pretrain, "experiments/finetune.py": finetune}
    assert [argv[1] for argv in commands].count("experiments/pretrain.py") == 2
    for argv in commands:
        module = scripts[argv[1]]
        args = module.build_parser().parse_args(argv[2:])
        if module is pretrain:
            assert args.strategy == "tpu" and args.tpu
            pretrain.validate(args, check_paths=False)


def test_committed_notebook_shows_a_real_run():
    notebook = read_notebook()
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code_cells)
    images = [
        output
        for cell in code_cells
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert len(images) >= 2
