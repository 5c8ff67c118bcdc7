"""What a checkpoint folder is (a Hugging Face transformers checkpoint, a
keras-hub preset, or our export holding one in `preset/`), and loading a
`TokenDropMaskedLM` from any of them."""

import json
import os
import warnings

import keras_hub

import tokdrop_keras.filesystem as filesystem

from tokdrop_keras.models.architectures import ARCHITECTURES
from tokdrop_keras.models.architectures import architecture_of
from tokdrop_keras.models.numerics import KERAS_HUB_MLM_HEAD
from tokdrop_keras.models.numerics import NUMERICS_FILE
from tokdrop_keras.models.transformers_checkpoint import load_transformers_masked_lm
from tokdrop_keras.models.transformers_checkpoint import is_transformers_checkpoint
from tokdrop_keras.models.transformers_checkpoint import read_transformers_config
from tokdrop_keras.special_tokens import check_tokenizer

TRANSFORMERS = "transformers"
KERAS_HUB = "keras_hub"
# An export's keras-hub preset (`tokdrop_keras.export.layout`).
PRESET_DIR = "preset"


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
    for folder in (os.path.join(path, PRESET_DIR), path):
        config_path = os.path.join(folder, "config.json")
        if filesystem.exists(config_path):
            break
    else:
        raise ValueError(
            f"{path} is neither a Hugging Face checkpoint nor a keras-hub "
            f"preset (no config.json in it or in its {PRESET_DIR}/ "
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


def load_masked_lm(preset, model_class, token_drop=True, **kwargs):
    """`(model, tokenizer)`: a `model_class` (a `TokenDropMaskedLM`) with
    the encoder and MLM head of the checkpoint `preset`, and its keras-hub
    tokenizer (`TokenDropMaskedLM.from_preset_with_tokenizer`).

    Example:
    ```python
    import tempfile
    from tokdrop_keras.models.checkpoints import load_masked_lm
    tokenizer = tokdrop_keras.data.load_tokenizer("bert")
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=tokenizer.vocabulary_size(),
        max_sequence_length=16, num_layers=2,
    )
    folder = tempfile.mkdtemp()
    backbone.save_to_preset(folder)
    tokenizer.save_to_preset(folder)
    model, again = load_masked_lm(folder, tokdrop_keras.TokenDropMaskedLM)
    assert model.backbone.num_layers == 2  # with a warning: a fresh head
    assert again.vocabulary_size() == tokenizer.vocabulary_size()
    ```
    """
    kind, preset, _ = find_checkpoint(preset)
    if kind == TRANSFORMERS:
        return load_transformers_masked_lm(preset, model_class, token_drop, **kwargs)
    masked_lm = keras_hub.models.MaskedLM.from_preset(preset, preprocessor=None)
    architecture_of(masked_lm.backbone)  # raises for other backbones
    if not filesystem.exists(os.path.join(preset, "task.weights.h5")):
        warnings.warn(
            f"{preset} holds no masked-LM head weights (a backbone-only "
            "preset): the MLM head starts from random weights."
        )
    numerics = dict(KERAS_HUB_MLM_HEAD)
    numerics_path = os.path.join(preset, NUMERICS_FILE)
    if filesystem.exists(numerics_path):
        with filesystem.open_file(numerics_path) as file:
            numerics = json.load(file)
    numerics.update({k: kwargs.pop(k) for k in list(kwargs) if k in numerics})
    tokenizer = keras_hub.tokenizers.Tokenizer.from_preset(preset)
    ids = check_tokenizer(tokenizer, masked_lm.backbone)
    model = model_class(
        masked_lm.backbone, token_drop=token_drop, **numerics, **ids, **kwargs
    )
    model.masked_lm_head.set_weights(masked_lm.masked_lm_head.get_weights())
    return model, tokenizer
