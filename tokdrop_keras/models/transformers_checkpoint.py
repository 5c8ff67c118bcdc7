"""Reading a Hugging Face transformers checkpoint folder: the encoder AND
its masked-LM head, and the tokenizer.

Supported: `model_type` `bert`, `roberta`, `xlm-roberta`, `distilbert`
(`*ForMaskedLM` checkpoints; a base-model checkpoint without a head loads
with a fresh head, said in one line), weights in `model.safetensors` (or
sharded, `model.safetensors.index.json`). `pytorch_model.bin` needs
PyTorch to read: convert it to safetensors first (the error says how).
Tokenizer files: `vocab.txt` (+ `tokenizer_config.json`) for BERT and
DistilBERT, `vocab.json` + `merges.txt` for RoBERTa,
`sentencepiece.bpe.model` for XLM-R.
"""

import json
import os

import numpy as np

import tokdrop_keras.filesystem as filesystem

from tokdrop_keras.models.architectures import TRANSFORMERS_MODEL_TYPES
from tokdrop_keras.models.architectures import get_architecture
from tokdrop_keras.models.transformers_format import IGNORED_SUFFIXES
from tokdrop_keras.models.transformers_format import backbone_config
from tokdrop_keras.models.transformers_format import encoder_entries
from tokdrop_keras.models.transformers_format import head_entries
from tokdrop_keras.models.transformers_format import position_offset
from tokdrop_keras.models.transformers_format import tied_names
from tokdrop_keras.models.transformers_format import token_type_embeddings_name
from tokdrop_keras.special_tokens import check_tokenizer

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
WEIGHTS_INDEX_FILE = "model.safetensors.index.json"
PYTORCH_WEIGHTS_FILE = "pytorch_model.bin"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"


def _say(message):
    print(f"tokdrop_keras: {message}", flush=True)


def _read_json(path):
    with filesystem.open_file(path) as file:
        return json.load(file)


def is_transformers_checkpoint(path):
    """Whether `path` is a transformers checkpoint folder (a `config.json`
    with a `model_type`, not a keras-hub preset's).

    Example:
    ```python
    import json, tempfile
    from tokdrop_keras.models.transformers_checkpoint import (
        is_transformers_checkpoint,
    )
    folder = tempfile.mkdtemp()
    assert not is_transformers_checkpoint(folder)
    with open(os.path.join(folder, "config.json"), "w") as file:
        json.dump({"model_type": "bert"}, file)
    assert is_transformers_checkpoint(folder)
    ```
    """
    config_path = os.path.join(os.fspath(path), CONFIG_FILE)
    if not filesystem.exists(config_path):
        return False
    try:
        config = _read_json(config_path)
    except (ValueError, OSError):
        return False
    return (
        isinstance(config, dict)
        and "model_type" in config
        and "registered_name" not in config
    )


def read_transformers_config(path):
    """`(architecture_name, config_dict)` of a transformers checkpoint.

    Raises:
        ValueError: no config.json, or a `model_type` token dropping does
            not support (naming the supported ones).

    Example:
    ```python
    import json, tempfile
    from tokdrop_keras.models.transformers_checkpoint import (
        read_transformers_config,
    )
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "config.json"), "w") as file:
        json.dump({"model_type": "xlm-roberta"}, file)
    assert read_transformers_config(folder)[0] == "xlm_roberta"
    ```
    """
    config_path = os.path.join(os.fspath(path), CONFIG_FILE)
    if not filesystem.exists(config_path):
        raise ValueError(f"{path} holds no {CONFIG_FILE}.")
    config = _read_json(config_path)
    model_type = config.get("model_type")
    if model_type not in TRANSFORMERS_MODEL_TYPES:
        raise ValueError(
            f"{config_path}: model_type {model_type!r} is not supported; "
            f"token dropping reads {sorted(TRANSFORMERS_MODEL_TYPES)}."
        )
    return TRANSFORMERS_MODEL_TYPES[model_type], config


def read_transformers_tensors(path):
    """All tensors of a checkpoint folder's safetensors file(s), as NumPy
    arrays by name.

    Raises:
        ValueError: no weights, or only `pytorch_model.bin`.

    Example:
    ```python
    import tempfile
    from safetensors.numpy import save_file
    from tokdrop_keras.models.transformers_checkpoint import (
        read_transformers_tensors,
    )
    folder = tempfile.mkdtemp()
    save_file({"bert.pooler.dense.bias": np.ones(4, "float32")},
              os.path.join(folder, "model.safetensors"))
    tensors = read_transformers_tensors(folder)
    np.testing.assert_array_equal(tensors["bert.pooler.dense.bias"], 1.0)
    ```
    """
    from safetensors.numpy import load

    path = os.fspath(path)
    index_path = os.path.join(path, WEIGHTS_INDEX_FILE)
    if filesystem.exists(os.path.join(path, WEIGHTS_FILE)):
        files = [WEIGHTS_FILE]
    elif filesystem.exists(index_path):
        files = sorted(set(_read_json(index_path)["weight_map"].values()))
    elif filesystem.exists(os.path.join(path, PYTORCH_WEIGHTS_FILE)):
        raise ValueError(
            f"{path} holds its weights as {PYTORCH_WEIGHTS_FILE} only; "
            "reading it needs PyTorch. Convert it once where transformers "
            "is installed: `AutoModelForMaskedLM.from_pretrained(path)"
            ".save_pretrained(path, safe_serialization=True)`."
        )
    else:
        raise ValueError(
            f"{path} holds no weights ({WEIGHTS_FILE}, {WEIGHTS_INDEX_FILE} "
            f"or {PYTORCH_WEIGHTS_FILE})."
        )
    tensors = {}
    for name in files:
        with filesystem.open_file(os.path.join(path, name), "rb") as file:
            tensors.update(load(file.read()))
    return tensors


def load_transformers_tokenizer(path, architecture=None, sequence_length=None):
    """The keras-hub tokenizer of a transformers checkpoint folder.

    BERT and DistilBERT: `vocab.txt`, with `do_lower_case`,
    `strip_accents` (default: as `do_lower_case`, as transformers does)
    and `tokenize_chinese_chars` from `tokenizer_config.json`. RoBERTa:
    `vocab.json` + `merges.txt`. XLM-R: `sentencepiece.bpe.model`.

    Args:
        path: the checkpoint folder.
        architecture: our architecture name; default: from config.json.
        sequence_length: int or `None`: pad/truncate outputs (else ragged).

    Raises:
        ValueError: naming the tokenizer files the folder lacks.

    Example:
    ```python
    import json, tempfile
    from tokdrop_keras.models.transformers_checkpoint import (
        load_transformers_tokenizer,
    )
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "vocab.txt"), "w") as file:
        tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "cafe"]
        print(*tokens, sep=chr(10), file=file)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as file:
        json.dump({"do_lower_case": True}, file)
    tokenizer = load_transformers_tokenizer(folder, "bert")
    assert tokenizer.strip_accents  # transformers: follows do_lower_case
    assert tokenizer.token_to_id("[MASK]") == 4
    ```
    """
    path = os.fspath(path)
    if architecture is None:
        architecture = read_transformers_config(path)[0]
    files = [
        os.path.join(path, name)
        for name in get_architecture(architecture).tokenizer_files
    ]
    missing = [name for name in files if not filesystem.exists(name)]
    if missing:
        raise ValueError(
            f"{path} lacks the tokenizer file(s) "
            f"{[os.path.basename(name) for name in missing]} a "
            f"{architecture} checkpoint needs."
        )
    tokenizer_class = get_architecture(architecture).tokenizer_class
    if architecture in ("bert", "distil_bert"):
        settings = {}
        settings_path = os.path.join(path, TOKENIZER_CONFIG_FILE)
        if filesystem.exists(settings_path):
            settings = _read_json(settings_path)
        lowercase = bool(settings.get("do_lower_case", True))
        strip_accents = settings.get("strip_accents")
        with filesystem.open_file(files[0]) as file:
            vocabulary = file.read().splitlines()
        return tokenizer_class(
            vocabulary=vocabulary,
            lowercase=lowercase,
            strip_accents=lowercase if strip_accents is None else bool(strip_accents),
            split_on_cjk=bool(settings.get("tokenize_chinese_chars", True)),
            sequence_length=sequence_length,
        )
    if architecture == "roberta":
        with filesystem.open_file(files[0]) as file:
            vocabulary = json.load(file)
        with filesystem.open_file(files[1]) as file:
            merges = [
                line
                for line in file.read().splitlines()
                if line and not line.startswith("#version")
            ]
        return tokenizer_class(
            vocabulary=vocabulary, merges=merges, sequence_length=sequence_length
        )
    with filesystem.open_file(files[0], "rb") as file:
        proto = file.read()
    return tokenizer_class(proto=proto, sequence_length=sequence_length)


def _lookup(tensors, name):
    """The tensor `name`, also under the old `gamma`/`beta` LayerNorm
    names; `None` if absent."""
    if name in tensors:
        return name
    for new, old in ((".weight", ".gamma"), (".bias", ".beta")):
        if name.endswith(new) and "LayerNorm" in name:
            alias = name[: -len(new)] + old
            if alias in tensors:
                return alias
    return None


def load_transformers_weights(
    architecture, model, tensors, pad_token_id, path="checkpoint"
):
    """Sets a `TokenDropMaskedLM`'s backbone and MLM head from a
    transformers state dict (`read_transformers_tensors`), after checking
    every shape against the model config.json built.

    Raises:
        ValueError: naming the missing tensors, or each tensor whose shape
            disagrees with config.json.

    Example:
    ```python
    from tokdrop_keras.export.transformers_export import (
        transformers_state_dict,
    )
    from tokdrop_keras.models.transformers_checkpoint import (
        load_transformers_weights,
    )
    def masked_lm(seed):
        backbone = tokdrop_keras.models.backbone_for_size(
            "nano", vocabulary_size=50, max_sequence_length=16,
            num_layers=2, architecture="roberta", seed=seed,
        )
        return tokdrop_keras.TokenDropMaskedLM(backbone)
    trained, fresh = masked_lm(1), masked_lm(2)
    tensors = transformers_state_dict(trained, pad_token_id=1)
    load_transformers_weights("roberta", fresh, tensors, pad_token_id=1)
    x = {
        "token_ids": np.array([[0, 7, 9, 2]], "int32"),
        "padding_mask": np.ones((1, 4), "int32"),
        "mask_positions": np.array([[1, 2]], "int32"),
    }
    np.testing.assert_allclose(fresh(x), trained(x), atol=1e-6)
    ```
    """
    backbone = model.backbone
    names = set(tensors)
    prefix = get_architecture(architecture).transformers_prefix
    with_head = any(name.startswith(prefix) for name in names)
    if not with_head:
        prefix = ""  # a base model (BertModel, ...): no MLM head
    offset = position_offset(architecture, pad_token_id)
    entries = [
        (prefix + entry.name, entry)
        for entry in encoder_entries(architecture, backbone, offset)
    ]
    if with_head:
        entries += [
            (entry.name, entry)
            for entry in head_entries(architecture, model.masked_lm_head)
        ]

    # Check everything before changing anything.
    missing, wrong, found = [], [], []
    for name, entry in entries:
        key = _lookup(tensors, name)
        if key is None:
            if not entry.optional:
                missing.append(name)
            continue
        expected = entry.conversion.transformers_shape(tuple(entry.variable.shape))
        actual = tuple(tensors[key].shape)
        if architecture != "bert" and "position_embeddings" in name:
            ok = actual[1:] == expected[1:] and actual[0] >= expected[0]
        else:
            ok = actual == expected
        if not ok:
            wrong.append(f"{key}: {actual}, config.json needs {expected}")
        found.append((key, entry))
    if missing:
        shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise ValueError(
            f"{path}: the weights lack {len(missing)} tensor(s) a "
            f"{architecture} of this config.json has: {shown}"
        )
    if wrong:
        raise ValueError(
            f"{path}: tensor shapes disagree with config.json: " + "; ".join(wrong)
        )
    decoder, decoder_bias = tied_names(architecture)
    embeddings_key = _lookup(tensors, prefix + "embeddings.word_embeddings.weight")
    if with_head and decoder in tensors and not np.allclose(
        tensors[decoder], tensors[embeddings_key], atol=1e-6
    ):
        raise ValueError(
            f"{path}: {decoder} differs from the word embeddings (an untied "
            "decoder); keras-hub's MLM head is tied to them."
        )

    for key, entry in found:
        value = entry.conversion.to_keras(
            np.asarray(tensors[key], dtype="float32"), tuple(entry.variable.shape)
        )
        entry.variable.assign(value)
    type_name = token_type_embeddings_name(architecture)
    if type_name and _lookup(tensors, prefix + type_name):
        # keras-hub has no token types: every token reads row 0.
        positions = backbone.embeddings.position_embedding.position_embeddings
        row = np.asarray(tensors[_lookup(tensors, prefix + type_name)][0], "float32")
        positions.assign(np.asarray(positions) + row)

    used = {key for key, _ in found} | {decoder, decoder_bias}
    if type_name:
        used.add(_lookup(tensors, prefix + type_name))
    unused = sorted(
        name for name in names - used if not name.endswith(IGNORED_SUFFIXES)
    )
    optional_missing = [
        name for name, entry in entries if entry.optional and _lookup(tensors, name) is None
    ]
    if not with_head:
        _say(
            f"{path} holds no masked-LM head (a base model): the head starts "
            "from random weights."
        )
    if optional_missing:
        _say(
            f"{path} holds no {optional_missing[0].rsplit('.', 2)[0]} "
            f"({architecture} masked-LM checkpoints have none): it starts "
            "from random weights."
        )
    if unused:
        shown = ", ".join(unused[:5]) + (" ..." if len(unused) > 5 else "")
        _say(f"{path}: {len(unused)} tensor(s) not used: {shown}")


def load_transformers_masked_lm(path, model_class, token_drop=True, **kwargs):
    """A `model_class` (`TokenDropMaskedLM`) and its tokenizer from a
    transformers checkpoint folder: sizes, numerics and special ids from
    its config.json and tokenizer, weights from its safetensors.

    Returns:
        `(model, tokenizer)`.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.export.transformers_export import (
        write_transformers_checkpoint,
    )
    from tokdrop_keras.models.transformers_checkpoint import (
        load_transformers_masked_lm,
    )
    tokenizer = tokdrop_keras.load_tokenizer("distil_bert")
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=tokenizer.vocabulary_size(),
        max_sequence_length=16, num_layers=2, architecture="distil_bert",
    )
    model = tokdrop_keras.TokenDropMaskedLM(
        backbone, **tokdrop_keras.special_token_ids(tokenizer)
    )
    folder = tempfile.mkdtemp()
    write_transformers_checkpoint(model, tokenizer, folder)
    again, again_tokenizer = load_transformers_masked_lm(
        folder, tokdrop_keras.TokenDropMaskedLM, keep_fraction=0.25
    )
    assert again.keep_fraction == 0.25
    assert again_tokenizer.get_vocabulary() == tokenizer.get_vocabulary()
    ```
    """
    path = os.fspath(path)
    architecture, config = read_transformers_config(path)
    backbone_kwargs, numerics, pad_token_id = backbone_config(architecture, config)
    tokenizer = load_transformers_tokenizer(path, architecture)
    backbone = get_architecture(architecture).backbone_class(**backbone_kwargs)
    ids = check_tokenizer(tokenizer, backbone)
    tensors = read_transformers_tensors(path)
    numerics.update({k: kwargs.pop(k) for k in list(kwargs) if k in numerics})
    model = model_class(backbone, token_drop=token_drop, **numerics, **ids, **kwargs)
    load_transformers_weights(architecture, model, tensors, pad_token_id, path)
    return model, tokenizer
