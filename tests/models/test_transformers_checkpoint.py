"""`TokenDropMaskedLM.from_preset` on Hugging Face transformers checkpoint
folders: the encoder and the MLM head, against a NumPy forward pass of
transformers' definitions (tests/transformers_reference.py); bad folders.
"""

import json
import os

import numpy as np
import pytest
from safetensors.numpy import load_file
from safetensors.numpy import save_file
from tiny_encoders import ARCHITECTURES

import transformers_reference as reference
from tokdrop_keras import TokenDropMaskedLM
from tokdrop_keras.models.numerics import KERAS_HUB_MLM_HEAD

# Per architecture, settings where keras-hub's hard-coded numbers differ
# from the checkpoint's, so that taking them from config.json shows.
UNUSUAL_SETTINGS = {
    # keras-hub's BERT: tanh gelu, epsilon 1e-12.
    "bert": dict(hidden_act="gelu", layer_norm_eps=1e-3),
    # RobertaLMHead applies exact gelu whatever hidden_act is.
    "roberta": dict(hidden_act="gelu_new", layer_norm_eps=0.05),
    "xlm_roberta": dict(layer_norm_eps=0.02, pad_token_id=1),
    "distil_bert": dict(activation="relu"),
}
LENGTH = 7


def inputs(architecture, config):
    rng = np.random.default_rng(0)
    pad = config["pad_token_id"]
    ids = rng.integers(7, 40, (2, LENGTH)).astype("int32")
    mask = np.ones_like(ids)
    ids[1, 5:], mask[1, 5:] = pad, 0
    x = {
        "token_ids": ids,
        "padding_mask": mask,
        "mask_positions": np.tile(np.arange(LENGTH, dtype="int32"), (2, 1)),
    }
    if architecture == "bert":
        x["segment_ids"] = np.zeros_like(ids)
    return x


def checkpoint(architecture, tmp_path, **kwargs):
    folder = str(tmp_path / architecture)
    config, tensors = reference.write_checkpoint(
        architecture, folder, seed=3, **{**UNUSUAL_SETTINGS[architecture], **kwargs}
    )
    return folder, config, tensors


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_full_model_logits_are_transformers(architecture, tmp_path):
    folder, config, tensors = checkpoint(architecture, tmp_path)
    model = TokenDropMaskedLM.from_preset(folder)
    x = inputs(architecture, config)
    expected = reference.masked_lm_logits(
        architecture, tensors, config, x["token_ids"], x["padding_mask"]
    )
    real = x["padding_mask"].astype(bool)  # padding's outputs are unused
    logits = np.asarray(model(x))
    assert np.abs(expected).max() > 1.0  # logits of a size that tests
    np.testing.assert_allclose(logits[real], expected[real], rtol=0, atol=1e-4)
    # The same weights with keras-hub's own numbers miss by far more: the
    # comparison above sees activations and epsilons.
    keras_hub_numbers = dict(
        encoder_activation="gelu_new" if architecture == "bert" else "gelu",
        encoder_layer_norm_epsilon=1e-12 if architecture == "bert" else 1e-5,
        **KERAS_HUB_MLM_HEAD,
    )
    if architecture == "distil_bert":
        keras_hub_numbers["encoder_layer_norm_epsilon"] = 1e-12
    wrong = TokenDropMaskedLM.from_preset(folder, **keras_hub_numbers)
    assert np.abs(np.asarray(wrong(x))[real] - expected[real]).max() > 1e-3
    # Token dropping is on (training), the baseline builds too.
    assert model.token_drop_backbone is not None
    baseline = TokenDropMaskedLM.from_preset(folder, token_drop=False)
    np.testing.assert_allclose(baseline(x), logits, atol=1e-6)


def _embedding_tables(architecture, backbone):
    if architecture == "bert":
        return backbone.token_embedding.embeddings, backbone.position_embedding.position_embeddings
    embeddings = backbone.embeddings
    return embeddings.token_embedding.embeddings, embeddings.position_embedding.position_embeddings


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_weights_land_tensor_by_tensor(architecture, tmp_path):
    folder, config, t = checkpoint(architecture, tmp_path)
    model = TokenDropMaskedLM.from_preset(folder)
    backbone, head = model.backbone, model.masked_lm_head
    p = {"bert": "bert.", "distil_bert": "distilbert."}.get(architecture, "roberta.")
    words, positions = _embedding_tables(architecture, backbone)
    np.testing.assert_array_equal(words, t[p + "embeddings.word_embeddings.weight"])
    table = t[p + "embeddings.position_embeddings.weight"]
    if architecture in ("roberta", "xlm_roberta"):
        # Positions from pad_token_id + 1; the one token type folded in.
        start = config["pad_token_id"] + 1
        table = table[start:] + t[p + "embeddings.token_type_embeddings.weight"][0]
    np.testing.assert_allclose(positions, table, atol=1e-7)
    layer = backbone.transformer_layers[1]
    attention = layer._self_attention_layer
    if architecture == "distil_bert":
        names = dict(
            query=f"{p}transformer.layer.1.attention.q_lin",
            output=f"{p}transformer.layer.1.attention.out_lin",
            intermediate=f"{p}transformer.layer.1.ffn.lin1",
            norm=f"{p}transformer.layer.1.output_layer_norm",
            head_dense="vocab_transform", head_norm="vocab_layer_norm",
            head_bias="vocab_projector.bias",
        )
    else:
        head_prefix = "cls.predictions." if architecture == "bert" else "lm_head."
        names = dict(
            query=f"{p}encoder.layer.1.attention.self.query",
            output=f"{p}encoder.layer.1.attention.output.dense",
            intermediate=f"{p}encoder.layer.1.intermediate.dense",
            norm=f"{p}encoder.layer.1.output.LayerNorm",
            head_dense=head_prefix + ("transform.dense" if architecture == "bert" else "dense"),
            head_norm=head_prefix + ("transform.LayerNorm" if architecture == "bert" else "layer_norm"),
            head_bias=head_prefix + "bias",
        )
    heads, size = 2, 8
    # torch Linear: y = x W^T + b, W [out, in]; keras-hub's query kernel is
    # [in, heads, size] and its output kernel [heads, size, out].
    query = t[names["query"] + ".weight"]
    np.testing.assert_array_equal(
        attention.query_dense.kernel, query.T.reshape(16, heads, size)
    )
    np.testing.assert_array_equal(
        attention.query_dense.bias, t[names["query"] + ".bias"].reshape(heads, size)
    )
    np.testing.assert_array_equal(
        attention.output_dense.kernel,
        t[names["output"] + ".weight"].T.reshape(heads, size, 16),
    )
    np.testing.assert_array_equal(
        layer._feedforward_intermediate_dense.kernel, t[names["intermediate"] + ".weight"].T
    )
    np.testing.assert_array_equal(layer._feedforward_layer_norm.gamma, t[names["norm"] + ".weight"])
    np.testing.assert_array_equal(head._intermediate_dense.kernel, t[names["head_dense"] + ".weight"].T)
    np.testing.assert_array_equal(head._intermediate_layer_norm.beta, t[names["head_norm"] + ".bias"])
    np.testing.assert_array_equal(head._bias, t[names["head_bias"]])
    # The decoder is the word embedding, tied.
    assert head.token_embedding is (
        backbone.token_embedding
    )


def test_bert_masked_lm_without_pooler_says_so_and_a_base_model_loads_with_a_fresh_head(
    tmp_path, capsys
):
    folder, config, tensors = checkpoint("bert", tmp_path)
    TokenDropMaskedLM.from_preset(folder)
    assert "holds no bert.pooler" in capsys.readouterr().out
    # A BertModel checkpoint: no "bert." prefix, a pooler, no MLM head.
    base = {
        name[len("bert."):]: value for name, value in tensors.items()
        if name.startswith("bert.")
    }
    base["pooler.dense.weight"] = np.full((16, 16), 0.5, "float32")
    base["pooler.dense.bias"] = np.full((16,), 0.25, "float32")
    save_file(base, os.path.join(folder, "model.safetensors"))
    model = TokenDropMaskedLM.from_preset(folder)
    out = capsys.readouterr().out
    assert "holds no masked-LM head" in out and "pooler" not in out
    np.testing.assert_array_equal(model.backbone.pooled_dense.kernel, 0.5)
    np.testing.assert_array_equal(
        model.backbone.token_embedding.embeddings,
        tensors["bert.embeddings.word_embeddings.weight"],
    )


@pytest.mark.parametrize("architecture", ["bert", "roberta", "distil_bert"])
def test_a_tied_decoder_copy_is_accepted_and_an_untied_one_refused(
    architecture, tmp_path
):
    folder, config, tensors = checkpoint(architecture, tmp_path, tied_decoder=True)
    TokenDropMaskedLM.from_preset(folder)  # the copy equals the embeddings
    weights = load_file(os.path.join(folder, "model.safetensors"))
    decoder = [n for n in weights if n.endswith(("decoder.weight", "projector.weight"))]
    weights[decoder[0]] = weights[decoder[0]] + 1.0
    save_file(weights, os.path.join(folder, "model.safetensors"))
    with pytest.raises(ValueError, match="untied decoder"):
        TokenDropMaskedLM.from_preset(folder)


def test_old_gamma_beta_layer_norm_names_load(tmp_path):
    folder, config, tensors = checkpoint("bert", tmp_path)
    renamed = {
        name.replace("LayerNorm.weight", "LayerNorm.gamma").replace(
            "LayerNorm.bias", "LayerNorm.beta"
        ): value
        for name, value in tensors.items()
    }
    save_file(renamed, os.path.join(folder, "model.safetensors"))
    model = TokenDropMaskedLM.from_preset(folder)
    np.testing.assert_array_equal(
        model.backbone.embeddings_layer_norm.gamma,
        tensors["bert.embeddings.LayerNorm.weight"],
    )


# === Bad folders: each named, before any training ===


def test_missing_weights_and_pytorch_only_weights_are_named(tmp_path):
    folder, _, _ = checkpoint("bert", tmp_path)
    os.remove(os.path.join(folder, "model.safetensors"))
    with pytest.raises(ValueError, match="holds no weights"):
        TokenDropMaskedLM.from_preset(folder)
    open(os.path.join(folder, "pytorch_model.bin"), "wb").close()
    with pytest.raises(ValueError, match="pytorch_model.bin only.*safe_serialization"):
        TokenDropMaskedLM.from_preset(folder)


@pytest.mark.parametrize(
    "architecture, removed",
    [("bert", "vocab.txt"), ("roberta", "merges.txt"),
     ("xlm_roberta", "sentencepiece.bpe.model")],
)
def test_missing_tokenizer_files_are_named(architecture, removed, tmp_path):
    folder, _, _ = checkpoint(architecture, tmp_path)
    os.remove(os.path.join(folder, removed))
    with pytest.raises(ValueError, match=f"lacks the tokenizer file.*{removed}"):
        TokenDropMaskedLM.from_preset(folder)


def _edit_config(folder, **changes):
    path = os.path.join(folder, "config.json")
    with open(path) as file:
        config = json.load(file)
    config.update(changes)
    with open(path, "w") as file:
        json.dump(config, file)


def test_an_unsupported_model_type_names_the_supported_ones(tmp_path):
    folder, _, _ = checkpoint("bert", tmp_path)
    _edit_config(folder, model_type="albert")
    with pytest.raises(
        ValueError,
        match=r"model_type 'albert' is not supported.*'bert', 'distilbert', "
        r"'roberta', 'xlm-roberta'",
    ):
        TokenDropMaskedLM.from_preset(folder)


def test_shapes_that_disagree_with_config_json_are_named(tmp_path):
    folder, _, _ = checkpoint("roberta", tmp_path)
    _edit_config(folder, intermediate_size=48)
    with pytest.raises(
        ValueError,
        match=r"roberta.encoder.layer.0.intermediate.dense.weight: \(32, 16\), "
        r"config.json needs \(48, 16\)",
    ):
        TokenDropMaskedLM.from_preset(folder)
    _edit_config(folder, intermediate_size=32, num_hidden_layers=3)
    with pytest.raises(ValueError, match="lack 16 tensor.*encoder.layer.2"):
        TokenDropMaskedLM.from_preset(folder)


def test_a_tokenizer_of_another_size_than_the_embeddings_is_named(tmp_path):
    folder, _, _ = checkpoint("distil_bert", tmp_path)
    with open(os.path.join(folder, "vocab.txt"), "a") as file:
        file.write("extra\n")
    with pytest.raises(ValueError, match="58 tokens but the backbone 57"):
        TokenDropMaskedLM.from_preset(folder)


def test_settings_keras_hub_cannot_hold_are_named(tmp_path):
    folder, _, _ = checkpoint("bert", tmp_path)
    _edit_config(folder, position_embedding_type="relative_key")
    with pytest.raises(ValueError, match="absolute positions only"):
        TokenDropMaskedLM.from_preset(folder)
    _edit_config(folder, position_embedding_type="absolute", hidden_act="gelu_10")
    with pytest.raises(ValueError, match="Unsupported encoder_activation 'gelu_10'"):
        TokenDropMaskedLM.from_preset(folder)
