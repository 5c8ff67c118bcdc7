"""Writing a Hugging Face transformers checkpoint folder: the encoder AND
the masked-LM head, in `*ForMaskedLM`'s names and layouts
(`tokdrop_keras.models.transformers_format`, the table the reader uses), a
`config.json`, and the tokenizer files.

keras-hub's `export_to_transformers` covers decoders only; this covers the
four encoders token dropping trains.
"""

import json
import os

import keras
import numpy as np

import tokdrop_keras.filesystem as filesystem

from tokdrop_keras.models.architectures import architecture_of
from tokdrop_keras.models.architectures import MERGES_HEADER
from tokdrop_keras.models.transformers_checkpoint import CONFIG_FILE
from tokdrop_keras.models.transformers_checkpoint import TOKENIZER_CONFIG_FILE
from tokdrop_keras.models.transformers_checkpoint import WEIGHTS_FILE
from tokdrop_keras.models.transformers_format import DISTIL_BERT_LAYER_NORM_EPSILON
from tokdrop_keras.models.transformers_format import ROBERTA_HEAD_ACTIVATION
from tokdrop_keras.models.transformers_format import encoder_entries
from tokdrop_keras.models.transformers_format import head_entries
from tokdrop_keras.models.transformers_format import position_offset
from tokdrop_keras.models.transformers_format import token_type_embeddings_name
from tokdrop_keras.special_tokens import check_tokenizer

SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"


def check_transformers_numerics(masked_lm):
    """Raises unless transformers' `*ForMaskedLM` can compute what
    `masked_lm` computes: one `hidden_act` and one `layer_norm_eps` for the
    encoder and the head (BERT), gelu in RoBERTa's head, epsilon 1e-12 in
    DistilBERT.

    Example:
    ```python
    from tokdrop_keras.export.transformers_export import (
        check_transformers_numerics,
    )
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16, num_layers=2
    )
    check_transformers_numerics(tokdrop_keras.TokenDropMaskedLM(backbone))
    mismatched = tokdrop_keras.TokenDropMaskedLM(
        backbone, mlm_head_layer_norm_epsilon=1e-5
    )
    try:
        check_transformers_numerics(mismatched)
        raise AssertionError("accepted")
    except ValueError as error:
        assert "layer_norm_eps" in str(error)
    ```
    """
    name = architecture_of(masked_lm.backbone).name
    numerics = masked_lm.numerics
    problems = []
    if name == "distil_bert":
        for key in ("encoder_layer_norm_epsilon", "mlm_head_layer_norm_epsilon"):
            if numerics[key] != DISTIL_BERT_LAYER_NORM_EPSILON:
                problems.append(f"{key}={numerics[key]} (DistilBERT's is 1e-12)")
    elif numerics["encoder_layer_norm_epsilon"] != numerics["mlm_head_layer_norm_epsilon"]:
        problems.append(
            "the encoder's and the head's LayerNorm epsilons differ "
            f"({numerics['encoder_layer_norm_epsilon']} vs "
            f"{numerics['mlm_head_layer_norm_epsilon']}; config.json has one "
            "layer_norm_eps)"
        )
    if name in ("roberta", "xlm_roberta"):
        if numerics["mlm_head_activation"] != ROBERTA_HEAD_ACTIVATION:
            problems.append(
                f"mlm_head_activation={numerics['mlm_head_activation']!r} "
                "(RobertaLMHead's is gelu)"
            )
    elif numerics["encoder_activation"] != numerics["mlm_head_activation"]:
        problems.append(
            "the encoder's and the head's activations differ "
            f"({numerics['encoder_activation']!r} vs "
            f"{numerics['mlm_head_activation']!r}; config.json has one)"
        )
    if problems:
        raise ValueError(
            "transformers' masked LM cannot compute this model: "
            + "; ".join(problems)
            + ". Build it with matching numbers (the defaults match)."
        )


def transformers_config(masked_lm, tokenizer):
    """The `config.json` (a dict) of `masked_lm` as a transformers
    `*ForMaskedLM`.

    Example:
    ```python
    from tokdrop_keras.export.transformers_export import transformers_config
    tokenizer = tokdrop_keras.load_tokenizer("roberta")
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=tokenizer.vocabulary_size(),
        max_sequence_length=16, num_layers=2, architecture="roberta",
    )
    config = transformers_config(tokdrop_keras.TokenDropMaskedLM(backbone), tokenizer)
    assert config["architectures"] == ["RobertaForMaskedLM"]
    assert config["max_position_embeddings"] == 16 + 2  # pad_token_id + 1
    ```
    """
    check_transformers_numerics(masked_lm)
    backbone = masked_lm.backbone
    architecture = architecture_of(backbone)
    name = architecture.name
    numerics = masked_lm.numerics
    pad = int(tokenizer.pad_token_id)
    common = dict(
        architectures=[architecture.transformers_masked_lm_class],
        model_type=architecture.transformers_model_type,
        vocab_size=int(backbone.vocabulary_size),
        pad_token_id=pad,
        initializer_range=0.02,
        tie_word_embeddings=True,
        torch_dtype="float32",
    )
    dropout = float(backbone.dropout)
    if name == "distil_bert":
        return dict(
            common,
            dim=int(backbone.hidden_dim),
            n_layers=int(backbone.num_layers),
            n_heads=int(backbone.num_heads),
            hidden_dim=int(backbone.intermediate_dim),
            activation=numerics["encoder_activation"],
            dropout=dropout,
            attention_dropout=dropout,
            max_position_embeddings=int(backbone.max_sequence_length),
            sinusoidal_pos_embds=False,
            qa_dropout=0.1,
            seq_classif_dropout=0.2,
            tie_weights_=True,
        )
    config = dict(
        common,
        hidden_size=int(backbone.hidden_dim),
        num_hidden_layers=int(backbone.num_layers),
        num_attention_heads=int(backbone.num_heads),
        intermediate_size=int(backbone.intermediate_dim),
        hidden_act=numerics["encoder_activation"],
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
        layer_norm_eps=numerics["encoder_layer_norm_epsilon"],
        position_embedding_type="absolute",
        max_position_embeddings=int(backbone.max_sequence_length)
        + position_offset(name, pad),
    )
    if name == "bert":
        config["type_vocab_size"] = int(backbone.num_segments)
    else:
        config.update(
            type_vocab_size=1,
            bos_token_id=int(tokenizer.start_token_id),
            eos_token_id=int(tokenizer.end_token_id),
        )
    return config


def transformers_state_dict(masked_lm, pad_token_id):
    """The model's tensors by transformers name (float32 NumPy arrays):
    encoder (BERT's pooler included), MLM head; the tied decoder weight
    left out, as `save_pretrained` does.

    Example:
    ```python
    from tokdrop_keras.export.transformers_export import (
        transformers_state_dict,
    )
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16, num_layers=2,
        architecture="distil_bert",
    )
    tensors = transformers_state_dict(
        tokdrop_keras.TokenDropMaskedLM(backbone), pad_token_id=0
    )
    assert tensors["distilbert.transformer.layer.1.ffn.lin1.weight"].shape == (256, 64)
    assert "vocab_projector.bias" in tensors
    ```
    """
    backbone = masked_lm.backbone
    architecture = architecture_of(backbone)
    name = architecture.name
    prefix = architecture.transformers_prefix
    offset = position_offset(name, pad_token_id)

    def value(entry):
        array = keras.ops.convert_to_numpy(entry.variable).astype("float32")
        return np.ascontiguousarray(entry.conversion.to_transformers(array), "float32")

    tensors = {
        prefix + entry.name: value(entry)
        for entry in encoder_entries(name, backbone, offset)
    }
    type_name = token_type_embeddings_name(name)
    if type_name:  # keras-hub has none: a zero row changes nothing
        tensors[prefix + type_name] = np.zeros((1, backbone.hidden_dim), "float32")
    tensors.update(
        {entry.name: value(entry) for entry in head_entries(name, masked_lm.masked_lm_head)}
    )
    return tensors


def _tokenizer_files(tokenizer, architecture, folder, max_length):
    """Writes the tokenizer's files (`architecture.tokenizer_files`) and
    returns its tokenizer_config.json and special_tokens_map.json contents."""
    kind = architecture.tokenizer_kind
    paths = [os.path.join(folder, name) for name in architecture.tokenizer_files]
    if kind == "wordpiece":
        with filesystem.open_file(paths[0], "w") as file:
            file.write("\n".join(tokenizer.get_vocabulary()) + "\n")
        settings = dict(
            do_lower_case=bool(tokenizer.lowercase),
            strip_accents=bool(tokenizer.strip_accents),
            tokenize_chinese_chars=bool(tokenizer.split_on_cjk),
        )
    elif kind == "byte_pair":
        vocabulary = {token: int(i) for token, i in tokenizer.vocabulary.items()}
        with filesystem.open_file(paths[0], "w") as file:
            json.dump(vocabulary, file, ensure_ascii=False)
        with filesystem.open_file(paths[1], "w") as file:
            file.write("\n".join([MERGES_HEADER, *tokenizer.merges]) + "\n")
        settings = dict(add_prefix_space=False, trim_offsets=True, errors="replace")
    else:
        with filesystem.open_file(paths[0], "wb") as file:
            file.write(tokenizer.proto)
        settings = {}
    special = architecture.transformers_special_tokens
    settings = dict(
        settings,
        tokenizer_class=architecture.transformers_tokenizer_class,
        model_max_length=int(max_length),
        **special,
    )
    return settings, special


def write_transformers_checkpoint(masked_lm, tokenizer, folder):
    """Writes `masked_lm` and `tokenizer` as a transformers checkpoint
    folder: `config.json`, `model.safetensors`, the tokenizer's files,
    `tokenizer_config.json`, `special_tokens_map.json`.

    `transformers.AutoModelForMaskedLM.from_pretrained(folder)` loads it
    (no missing or unexpected weights), `AutoTokenizer` reads its
    tokenizer, and `tokdrop_keras.TokenDropMaskedLM.from_preset(folder)`
    reads it back.

    Args:
        masked_lm: a `TokenDropMaskedLM`.
        tokenizer: its keras-hub tokenizer.
        folder: an existing, empty folder (local or `gs://`).

    Raises:
        ValueError: for a model transformers cannot compute
            (`check_transformers_numerics`), or a tokenizer that is not
            the model's.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.export.transformers_export import (
        write_transformers_checkpoint,
    )
    tokenizer = tokdrop_keras.load_tokenizer("bert")
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=tokenizer.vocabulary_size(),
        max_sequence_length=16, num_layers=2,
    )
    model = tokdrop_keras.TokenDropMaskedLM(
        backbone, **tokdrop_keras.special_token_ids(tokenizer)
    )
    folder = tempfile.mkdtemp()
    write_transformers_checkpoint(model, tokenizer, folder)
    again = tokdrop_keras.TokenDropMaskedLM.from_preset(folder)
    x = {
        "token_ids": np.array([[2, 100, 4, 3]], "int32"),
        "segment_ids": np.zeros((1, 4), "int32"),
        "padding_mask": np.ones((1, 4), "int32"),
        "mask_positions": np.array([[2]], "int32"),
    }
    np.testing.assert_allclose(again(x), model(x), atol=1e-5)
    ```
    """
    from safetensors.numpy import save

    architecture = architecture_of(masked_lm.backbone)
    check_tokenizer(tokenizer, masked_lm.backbone)
    config = transformers_config(masked_lm, tokenizer)
    tensors = transformers_state_dict(masked_lm, config["pad_token_id"])
    folder = os.fspath(folder)
    with filesystem.open_file(os.path.join(folder, WEIGHTS_FILE), "wb") as file:
        file.write(save(tensors, metadata={"format": "pt"}))
    with filesystem.open_file(os.path.join(folder, CONFIG_FILE), "w") as file:
        json.dump(config, file, indent=2)
    settings, special = _tokenizer_files(
        tokenizer, architecture, folder, masked_lm.backbone.max_sequence_length
    )
    with filesystem.open_file(os.path.join(folder, TOKENIZER_CONFIG_FILE), "w") as file:
        json.dump(settings, file, indent=2)
    with filesystem.open_file(os.path.join(folder, SPECIAL_TOKENS_MAP_FILE), "w") as file:
        json.dump(special, file, indent=2)
