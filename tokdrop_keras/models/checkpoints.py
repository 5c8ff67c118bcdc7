"""What a checkpoint folder is: a Hugging Face transformers checkpoint, a
keras-hub preset, or our export holding one (`preset/`)."""

import json
import os

import tokdrop_keras.filesystem as filesystem

from tokdrop_keras.models.architectures import ARCHITECTURES
from tokdrop_keras.models.transformers_checkpoint import is_transformers_checkpoint
from tokdrop_keras.models.transformers_checkpoint import read_transformers_config

TRANSFORMERS = "transformers"
KERAS_HUB = "keras_hub"
PRESET_SUBFOLDER = "preset"  # an export's keras-hub preset


def find_checkpoint(path):
    """`(kind, folder, architecture)` of a checkpoint folder.

    `kind` is `"transformers"` or `"keras_hub"`; `folder` the folder that
    holds it (an export's `preset/`); `architecture` our name for its
    encoder.

    Raises:
        ValueError: for a folder that is neither, or an encoder token
            dropping does not support (naming the supported ones).

    Example:
    ```python
    import json, tempfile
    from tokdrop_keras.models.checkpoints import find_checkpoint
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "config.json"), "w") as file:
        json.dump({"model_type": "distilbert"}, file)
    assert find_checkpoint(folder) == ("transformers", folder, "distil_bert")
    ```
    """
    path = os.fspath(path)
    if is_transformers_checkpoint(path):
        return TRANSFORMERS, path, read_transformers_config(path)[0]
    for folder in (os.path.join(path, PRESET_SUBFOLDER), path):
        config_path = os.path.join(folder, "config.json")
        if filesystem.exists(config_path):
            break
    else:
        raise ValueError(
            f"{path} is neither a Hugging Face checkpoint nor a keras-hub "
            f"preset (no config.json in it or in its {PRESET_SUBFOLDER}/ "
            "folder)."
        )
    with filesystem.open_file(config_path) as file:
        class_name = json.load(file).get("class_name")
    for architecture in ARCHITECTURES:
        if class_name == architecture.backbone_class.__name__:
            return KERAS_HUB, folder, architecture.name
    supported = [a.backbone_class.__name__ for a in ARCHITECTURES]
    raise ValueError(
        f"{config_path}: a {class_name}; token dropping supports the keras-hub "
        f"backbones {supported}."
    )


def checkpoint_num_layers(path):
    """The number of transformer layers of a checkpoint, from its
    config.json alone.

    Example:
    ```python
    import json, tempfile
    from tokdrop_keras.models.checkpoints import checkpoint_num_layers
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "config.json"), "w") as file:
        json.dump({"model_type": "distilbert", "n_layers": 6}, file)
    assert checkpoint_num_layers(folder) == 6
    ```
    """
    kind, folder, architecture = find_checkpoint(path)
    with filesystem.open_file(os.path.join(folder, "config.json")) as file:
        config = json.load(file)
    if kind == KERAS_HUB:
        return int(config["config"]["num_layers"])
    name = "n_layers" if architecture == "distil_bert" else "num_hidden_layers"
    if name not in config:
        raise ValueError(f"{folder}/config.json lacks {name!r}.")
    return int(config[name])
