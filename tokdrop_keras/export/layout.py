"""The export folder's layout: the file names, and how to find each part.

    export_dir/
      preset/           a keras-hub preset (backbone, tokenizer, preprocessor)
      saved_model/      the encoder as a TF SavedModel, TF Hub's signature
      importance.tsv    the learned importance table
"""

import os

import tokdrop_keras.filesystem as filesystem

PRESET_DIR = "preset"
SAVED_MODEL_DIR = "saved_model"
IMPORTANCE_TABLE_FILE = "importance.tsv"
EXPORT_CONTENTS = (IMPORTANCE_TABLE_FILE, PRESET_DIR, SAVED_MODEL_DIR)

# Each part: (subfolder, the file that marks it, what it is).
EXPORT_PARTS = {
    "preset": (PRESET_DIR, "config.json", "keras-hub preset"),
    "saved_model": (SAVED_MODEL_DIR, "saved_model.pb", "SavedModel"),
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
