"""The export folder's layout: the file names, and how to find each part.

    export_dir/
      preset/           a keras-hub preset (backbone, tokenizer, preprocessor)
      saved_model/      the encoder as a TF SavedModel, TF Hub's signature
      hf/               encoder + MLM head as a Hugging Face transformers checkpoint
      importance.tsv    the learned importance table
"""

import os

import tokdrop_keras.filesystem as filesystem

from tokdrop_keras.models.checkpoints import PRESET_DIR
SAVED_MODEL_DIR = "saved_model"
HF_DIR = "hf"
IMPORTANCE_TABLE_FILE = "importance.tsv"
EXPORT_CONTENTS = (HF_DIR, IMPORTANCE_TABLE_FILE, PRESET_DIR, SAVED_MODEL_DIR)

# Each part: (subfolder, the file that marks it, what it is).
EXPORT_PARTS = {
    PRESET_DIR: (PRESET_DIR, "config.json", "keras-hub preset"),
    SAVED_MODEL_DIR: (SAVED_MODEL_DIR, "saved_model.pb", "SavedModel"),
    "transformers": (HF_DIR, "model.safetensors", "Hugging Face checkpoint"),
}


def find_export_part(export_dir, part, required=True):
    """The folder of an export's `part` (`"preset"` or `"saved_model"`).

    Looks in `export_dir/<subfolder>` and in `export_dir` itself, so that
    both the export and the part's own folder work.

    Args:
        export_dir: an export folder, or one of its parts' folders.
        part: a key of `EXPORT_PARTS`.
        required: bool. Raise, rather than return `None`, when absent.

    Example:
    ```python
    import tempfile
    export_dir = tempfile.mkdtemp()
    os.makedirs(os.path.join(export_dir, "preset"))
    open(os.path.join(export_dir, "preset", "config.json"), "w").close()
    found = tokdrop_keras.export.find_export_part(export_dir, "preset")
    assert found == os.path.join(export_dir, "preset")
    assert tokdrop_keras.export.find_export_part(
        export_dir, "saved_model", required=False
    ) is None
    ```
    """
    if part not in EXPORT_PARTS:
        raise ValueError(
            f"Unknown export part {part!r}; expected one of {list(EXPORT_PARTS)}."
        )
    subfolder, marker, description = EXPORT_PARTS[part]
    for path in (os.path.join(export_dir, subfolder), export_dir):
        if filesystem.exists(os.path.join(path, marker)):
            return path
    if required:
        raise ValueError(
            f"{export_dir} holds no {description} (no {marker} in it or in "
            f"its {subfolder}/ folder); pass the folder that "
            "`export_pretrained` (pretrain.py --export_dir) wrote."
        )
    return None


def find_importance_table(path):
    """The `importance.tsv` of the export `path` is, or is a part of
    (`preset/`, `hf/`); `None` if there is none.

    Example:
    ```python
    import tempfile
    export_dir = tempfile.mkdtemp()
    os.makedirs(os.path.join(export_dir, "preset"))
    assert tokdrop_keras.export.find_importance_table(export_dir) is None
    open(os.path.join(export_dir, "importance.tsv"), "w").close()
    found = tokdrop_keras.export.find_importance_table(
        os.path.join(export_dir, "preset")
    )
    assert found == os.path.join(export_dir, "importance.tsv")
    ```
    """
    path = os.fspath(path).rstrip("/")
    folders = [path]
    if os.path.basename(path) in (PRESET_DIR, HF_DIR):
        folders.append(os.path.dirname(path))
    for folder in folders:
        candidate = os.path.join(folder, IMPORTANCE_TABLE_FILE)
        if filesystem.exists(candidate):
            return candidate
    return None
