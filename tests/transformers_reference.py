"""Hugging Face transformers' checkpoints, written from its modeling code,
independently of `tokdrop_keras.models.transformers_format`.

- `masked_lm_tensor_shapes`: the state dict `*ForMaskedLM` holds (names,
  shapes), as `BertForMaskedLM`, `RobertaForMaskedLM`,
  `XLMRobertaForMaskedLM` and `DistilBertForMaskedLM` define it (tied
  decoder weights, which `save_pretrained` leaves out, not listed);
- `write_checkpoint`: a tiny random checkpoint folder (config.json,
  model.safetensors, tokenizer files);
- `masked_lm_logits`: the masked-LM logits, a NumPy forward pass of
  transformers' definitions (embeddings with RoBERTa's position ids from
  `create_position_ids_from_input_ids`, post-LayerNorm self-attention
  blocks, the prediction head).

No PyTorch: CI has none.
"""

import json
import math
import os
import shutil

import numpy as np

import tokdrop_keras

# The shipped vocabularies (read by path: tokdrop_keras.data needs
# TensorFlow, and these tests also run without it).
ASSETS = os.path.join(os.path.dirname(tokdrop_keras.__file__), "data", "assets")

MODEL_TYPES = {
    "bert": "bert",
    "roberta": "roberta",
    "xlm_roberta": "xlm-roberta",
    "distil_bert": "distilbert",
}
CLASSES = {
    "bert": "BertForMaskedLM",
    "roberta": "RobertaForMaskedLM",
    "xlm_roberta": "XLMRobertaForMaskedLM",
    "distil_bert": "DistilBertForMaskedLM",
}

# A small WordPiece vocabulary for BERT and DistilBERT checkpoints, with
# `[unused*]` tokens first, as Google's files.
WORDPIECE_VOCABULARY = (
    ["[unused0]", "[PAD]", "[unused1]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    + list("abcdefghijklmnopqrstuvwxyz0123456789.,!?'")
    + ["the", "cafe", "whale", "sea", "##s", "##ing", "##ed", "ship", "old"]
)


def config_for(architecture, vocab_size, **overrides):
    """A tiny config.json (2 layers, hidden 16, 2 heads, intermediate 32)."""
    if architecture == "distil_bert":
        config = dict(
            vocab_size=vocab_size, dim=16, n_layers=2, n_heads=2,
            hidden_dim=32, activation="gelu", dropout=0.1,
            attention_dropout=0.1, max_position_embeddings=24,
            pad_token_id=1, sinusoidal_pos_embds=False,
        )
    else:
        config = dict(
            vocab_size=vocab_size, hidden_size=16, num_hidden_layers=2,
            num_attention_heads=2, intermediate_size=32, hidden_act="gelu",
            hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
            max_position_embeddings=24, type_vocab_size=2,
            layer_norm_eps=1e-12, pad_token_id=1,
        )
        if architecture in ("roberta", "xlm_roberta"):
            config.update(
                type_vocab_size=1, layer_norm_eps=1e-5, bos_token_id=0,
                eos_token_id=2, max_position_embeddings=26,
            )
    config.update(overrides)
    config.update(
        model_type=MODEL_TYPES[architecture], architectures=[CLASSES[architecture]]
    )
    return config


def masked_lm_tensor_shapes(architecture, config, with_pooler=False):
    """Name -> shape of transformers' `*ForMaskedLM` state dict (without
    the tied decoder weight). `with_pooler`: BertModel's pooler too (a
    BertForMaskedLM has none)."""
    shapes = {}
    if architecture == "distil_bert":
        h, f, v = config["dim"], config["hidden_dim"], config["vocab_size"]
        p = "distilbert."
        shapes[p + "embeddings.word_embeddings.weight"] = (v, h)
        shapes[p + "embeddings.position_embeddings.weight"] = (
            config["max_position_embeddings"], h
        )
        shapes[p + "embeddings.LayerNorm.weight"] = (h,)
        shapes[p + "embeddings.LayerNorm.bias"] = (h,)
        for i in range(config["n_layers"]):
            layer = f"{p}transformer.layer.{i}."
            for name in ("q_lin", "k_lin", "v_lin", "out_lin"):
                shapes[f"{layer}attention.{name}.weight"] = (h, h)
                shapes[f"{layer}attention.{name}.bias"] = (h,)
            shapes[f"{layer}sa_layer_norm.weight"] = (h,)
            shapes[f"{layer}sa_layer_norm.bias"] = (h,)
            shapes[f"{layer}ffn.lin1.weight"] = (f, h)
            shapes[f"{layer}ffn.lin1.bias"] = (f,)
            shapes[f"{layer}ffn.lin2.weight"] = (h, f)
            shapes[f"{layer}ffn.lin2.bias"] = (h,)
            shapes[f"{layer}output_layer_norm.weight"] = (h,)
            shapes[f"{layer}output_layer_norm.bias"] = (h,)
        shapes["vocab_transform.weight"] = (h, h)
        shapes["vocab_transform.bias"] = (h,)
        shapes["vocab_layer_norm.weight"] = (h,)
        shapes["vocab_layer_norm.bias"] = (h,)
        shapes["vocab_projector.bias"] = (v,)
        return shapes
    h, f, v = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    p = "bert." if architecture == "bert" else "roberta."
    shapes[p + "embeddings.word_embeddings.weight"] = (v, h)
    shapes[p + "embeddings.position_embeddings.weight"] = (
        config["max_position_embeddings"], h
    )
    shapes[p + "embeddings.token_type_embeddings.weight"] = (
        config["type_vocab_size"], h
    )
    shapes[p + "embeddings.LayerNorm.weight"] = (h,)
    shapes[p + "embeddings.LayerNorm.bias"] = (h,)
    for i in range(config["num_hidden_layers"]):
        layer = f"{p}encoder.layer.{i}."
        for name in ("self.query", "self.key", "self.value", "output.dense"):
            shapes[f"{layer}attention.{name}.weight"] = (h, h)
            shapes[f"{layer}attention.{name}.bias"] = (h,)
        shapes[f"{layer}attention.output.LayerNorm.weight"] = (h,)
        shapes[f"{layer}attention.output.LayerNorm.bias"] = (h,)
        shapes[f"{layer}intermediate.dense.weight"] = (f, h)
        shapes[f"{layer}intermediate.dense.bias"] = (f,)
        shapes[f"{layer}output.dense.weight"] = (h, f)
        shapes[f"{layer}output.dense.bias"] = (h,)
        shapes[f"{layer}output.LayerNorm.weight"] = (h,)
        shapes[f"{layer}output.LayerNorm.bias"] = (h,)
    if with_pooler:
        shapes[p + "pooler.dense.weight"] = (h, h)
        shapes[p + "pooler.dense.bias"] = (h,)
    if architecture == "bert":
        head = "cls.predictions."
        shapes[head + "transform.dense.weight"] = (h, h)
        shapes[head + "transform.dense.bias"] = (h,)
        shapes[head + "transform.LayerNorm.weight"] = (h,)
        shapes[head + "transform.LayerNorm.bias"] = (h,)
        shapes[head + "bias"] = (v,)
    else:
        shapes["lm_head.dense.weight"] = (h, h)
        shapes["lm_head.dense.bias"] = (h,)
        shapes["lm_head.layer_norm.weight"] = (h,)
        shapes["lm_head.layer_norm.bias"] = (h,)
        shapes["lm_head.bias"] = (v,)
    return shapes


def random_tensors(shapes, seed=0, scale=0.3):
    """Random float32 tensors; LayerNorm weights around 1."""
    rng = np.random.default_rng(seed)
    tensors = {}
    for name, shape in shapes.items():
        value = rng.normal(0.0, scale, shape).astype("float32")
        if ("LayerNorm" in name or "layer_norm" in name) and name.endswith("weight"):
            value = (1.0 + value).astype("float32")
        tensors[name] = value
    return tensors


def write_tokenizer_files(architecture, folder):
    """The tokenizer files transformers' tokenizer of `architecture` reads;
    returns the vocabulary size."""
    if architecture in ("bert", "distil_bert"):
        with open(os.path.join(folder, "vocab.txt"), "w") as file:
            file.write("\n".join(WORDPIECE_VOCABULARY) + "\n")
        with open(os.path.join(folder, "tokenizer_config.json"), "w") as file:
            json.dump({"do_lower_case": True}, file)
        return len(WORDPIECE_VOCABULARY)
    if architecture == "roberta":
        for name in ("vocab.json", "merges.txt"):
            shutil.copy(os.path.join(ASSETS, "byte_pair", name), folder)
    else:
        shutil.copy(
            os.path.join(ASSETS, "sentencepiece", "sentencepiece.bpe.model"), folder
        )
    return 8192


def write_checkpoint(architecture, folder, seed=0, scale=0.3, tensors=None,
                     config=None, with_pooler=False, tied_decoder=False,
                     **config_overrides):
    """Writes a tiny random transformers checkpoint; returns
    `(config, tensors)` (the tensors as written)."""
    from safetensors.numpy import save_file

    os.makedirs(folder, exist_ok=True)
    vocab_size = write_tokenizer_files(architecture, folder)
    if config is None:
        config = config_for(architecture, vocab_size, **config_overrides)
    if tensors is None:
        tensors = random_tensors(
            masked_lm_tensor_shapes(architecture, config, with_pooler), seed, scale
        )
    written = dict(tensors)
    if tied_decoder:  # older checkpoints hold the tied copy too
        decoder = {
            "bert": "cls.predictions.decoder.weight",
            "distil_bert": "vocab_projector.weight",
        }.get(architecture, "lm_head.decoder.weight")
        word = next(n for n in tensors if n.endswith("word_embeddings.weight"))
        written[decoder] = tensors[word]
    save_file(written, os.path.join(folder, "model.safetensors"))
    with open(os.path.join(folder, "config.json"), "w") as file:
        json.dump(config, file)
    return config, tensors


# === transformers' forward pass, in NumPy ===

def _gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _gelu_new(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


ACTIVATIONS = {"gelu": _gelu, "gelu_new": _gelu_new, "relu": lambda x: np.maximum(x, 0)}


def _layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * weight + bias


def _linear(x, t, name):
    return x @ t[name + ".weight"].T + t[name + ".bias"]


def _attention(x, mask, t, names, heads):
    batch, length, hidden = x.shape
    size = hidden // heads

    def split(y):
        return y.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

    q, k, v = (split(_linear(x, t, name)) for name in names[:3])
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size)
    scores = np.where(mask[:, None, None, :] > 0, scores, np.finfo("float32").min)
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    probs = scores / scores.sum(-1, keepdims=True)
    context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
    return _linear(context, t, names[3])


def masked_lm_logits(architecture, tensors, config, token_ids, attention_mask):
    """transformers' `*ForMaskedLM` logits `[batch, length, vocab]`
    (inference: dropout off)."""
    t = {k: np.asarray(v, "float64") for k, v in tensors.items()}
    ids = np.asarray(token_ids)
    mask = np.asarray(attention_mask)
    length = ids.shape[1]
    if architecture == "distil_bert":
        p = "distilbert."
        act = ACTIVATIONS[config["activation"]]
        eps = 1e-12
        x = t[p + "embeddings.word_embeddings.weight"][ids]
        x = x + t[p + "embeddings.position_embeddings.weight"][np.arange(length)]
        x = _layer_norm(x, t[p + "embeddings.LayerNorm.weight"], t[p + "embeddings.LayerNorm.bias"], eps)
        for i in range(config["n_layers"]):
            layer = f"{p}transformer.layer.{i}."
            names = [f"{layer}attention.{n}" for n in ("q_lin", "k_lin", "v_lin", "out_lin")]
            x = _layer_norm(
                _attention(x, mask, t, names, config["n_heads"]) + x,
                t[layer + "sa_layer_norm.weight"], t[layer + "sa_layer_norm.bias"], eps,
            )
            y = _linear(act(_linear(x, t, layer + "ffn.lin1")), t, layer + "ffn.lin2")
            x = _layer_norm(
                y + x, t[layer + "output_layer_norm.weight"],
                t[layer + "output_layer_norm.bias"], eps,
            )
        h = act(_linear(x, t, "vocab_transform"))
        h = _layer_norm(h, t["vocab_layer_norm.weight"], t["vocab_layer_norm.bias"], eps)
        word = t[p + "embeddings.word_embeddings.weight"]
        return h @ word.T + t["vocab_projector.bias"]

    p = "bert." if architecture == "bert" else "roberta."
    act = ACTIVATIONS[config["hidden_act"]]
    eps = config["layer_norm_eps"]
    if architecture == "bert":
        positions = np.broadcast_to(np.arange(length), ids.shape)
    else:  # create_position_ids_from_input_ids
        pad = config["pad_token_id"]
        not_pad = (ids != pad).astype("int64")
        positions = np.cumsum(not_pad, axis=1) * not_pad + pad
    x = t[p + "embeddings.word_embeddings.weight"][ids]
    x = x + t[p + "embeddings.position_embeddings.weight"][positions]
    x = x + t[p + "embeddings.token_type_embeddings.weight"][0]
    x = _layer_norm(x, t[p + "embeddings.LayerNorm.weight"], t[p + "embeddings.LayerNorm.bias"], eps)
    for i in range(config["num_hidden_layers"]):
        layer = f"{p}encoder.layer.{i}."
        names = [f"{layer}attention.self.{n}" for n in ("query", "key", "value")]
        names.append(f"{layer}attention.output.dense")
        x = _layer_norm(
            _attention(x, mask, t, names, config["num_attention_heads"]) + x,
            t[layer + "attention.output.LayerNorm.weight"],
            t[layer + "attention.output.LayerNorm.bias"], eps,
        )
        y = _linear(act(_linear(x, t, layer + "intermediate.dense")), t, layer + "output.dense")
        x = _layer_norm(
            y + x, t[layer + "output.LayerNorm.weight"], t[layer + "output.LayerNorm.bias"], eps
        )
    word = t[p + "embeddings.word_embeddings.weight"]
    if architecture == "bert":
        head = "cls.predictions."
        h = act(_linear(x, t, head + "transform.dense"))
        h = _layer_norm(h, t[head + "transform.LayerNorm.weight"], t[head + "transform.LayerNorm.bias"], eps)
        return h @ word.T + t[head + "bias"]
    h = _gelu(_linear(x, t, "lm_head.dense"))  # RobertaLMHead: gelu, always
    h = _layer_norm(h, t["lm_head.layer_norm.weight"], t["lm_head.layer_norm.bias"], eps)
    return h @ word.T + t["lm_head.bias"]
