"""Exports of every architecture: the preset holds the MLM head, reloads for
more pretraining with the same logits (ours and keras-hub's own loader),
builds the architecture's classifier; the SavedModel of a model without
segment ids or pooler; a tokenizer that does not fit is refused."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from safetensors.numpy import load_file

import transformers_reference as reference

from tokdrop_keras import TokenDropMaskedLM
from tokdrop_keras import special_token_ids
from tokdrop_keras.data import load_tokenizer
from tokdrop_keras.export import export_pretrained
from tokdrop_keras.models import backbone_for_size
from tokdrop_keras.models import get_architecture

ARCHITECTURES = ("bert", "roberta", "xlm_roberta", "distil_bert")


def tiny_model(architecture, tokenizer):
    backbone = backbone_for_size(
        "nano", vocabulary_size=tokenizer.vocabulary_size(),
        max_sequence_length=16, seed=0, architecture=architecture,
        num_layers=2, hidden_dim=16, intermediate_dim=32, dropout=0.0,
    )
    model = TokenDropMaskedLM(backbone, **special_token_ids(tokenizer))
    # Not the initial head: the reload must carry these weights.
    rng = np.random.default_rng(1)
    model.masked_lm_head.set_weights(
        [rng.normal(size=w.shape).astype("float32")
         for w in model.masked_lm_head.get_weights()]
    )
    return model


def masked_lm_inputs(architecture, tokenizer):
    ids = special_token_ids(tokenizer)
    start, end, mask = ids["always_keep_ids"][:3]
    words = np.asarray(tokenizer(["the whale swam past the ship"])[0])[:5]
    token_ids = np.array([[start, *words, mask, end]], "int32")
    x = {
        "token_ids": token_ids,
        "segment_ids": np.zeros_like(token_ids),
        "padding_mask": np.ones_like(token_ids),
        "mask_positions": np.array([[1, 6]], "int32"),
    }
    keys = get_architecture(architecture).input_keys + ("mask_positions",)
    return {key: x[key] for key in keys}


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_the_export_reloads_with_the_same_masked_lm_logits(architecture, tmp_path):
    tokenizer = load_tokenizer(architecture)
    model = tiny_model(architecture, tokenizer)
    export_dir = os.path.join(tmp_path, "export")
    export_pretrained(
        model, tokenizer, export_dir, sequence_length=16,
        saved_model=architecture == "roberta",
    )
    x = masked_lm_inputs(architecture, tokenizer)
    expected = np.asarray(model(x))

    again = TokenDropMaskedLM.from_preset(export_dir, keep_fraction=0.5)
    assert type(again.backbone) is type(model.backbone)
    assert again.always_keep_ids == model.always_keep_ids
    np.testing.assert_allclose(again(x), expected, rtol=0, atol=1e-6)
    assert again.numerics == model.numerics  # from the preset's numerics file
    # keras-hub's own loader reads the same weights from the preset; its
    # head computes with gelu and epsilon 1e-5, ours (as transformers')
    # with BERT's tanh gelu and 1e-12, DistilBERT's 1e-12.
    spec = get_architecture(architecture)
    preset = os.path.join(export_dir, "preset")
    hub_masked_lm = spec.masked_lm_class.from_preset(preset, preprocessor=None)
    for ours, theirs in zip(
        model.masked_lm_head.get_weights(), hub_masked_lm.masked_lm_head.get_weights()
    ):
        np.testing.assert_array_equal(ours, theirs)
    if architecture in ("roberta", "xlm_roberta"):  # the same numbers
        np.testing.assert_allclose(hub_masked_lm(x), expected, rtol=0, atol=1e-5)
    classifier = spec.classifier_class.from_preset(preset, num_classes=2)
    assert classifier.preprocessor.sequence_length == 16
    with open(os.path.join(export_dir, "importance.tsv")) as file:
        assert len(file.read().splitlines()) == tokenizer.vocabulary_size() + 1

    if architecture == "roberta":  # TF Hub's inputs, less input_type_ids
        loaded = tf.saved_model.load(os.path.join(export_dir, "saved_model"))
        outputs = loaded.signatures["serving_default"](
            input_word_ids=tf.constant(x["token_ids"]),
            input_mask=tf.constant(x["padding_mask"]),
        )
        assert sorted(outputs) == ["sequence_output"]
        np.testing.assert_allclose(
            outputs["sequence_output"],
            model.backbone({k: x[k] for k in ("token_ids", "padding_mask")}),
            atol=1e-5,
        )


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_the_hf_folder_is_transformers_masked_lm_and_reads_back(
    architecture, tmp_path
):
    tokenizer = load_tokenizer(architecture)
    model = tiny_model(architecture, tokenizer)
    export_dir = os.path.join(tmp_path, "export")
    export_pretrained(model, tokenizer, export_dir, sequence_length=16, saved_model=False)
    hf = os.path.join(export_dir, "hf")
    x = masked_lm_inputs(architecture, tokenizer)

    # The tensors transformers' *ForMaskedLM holds, as its modeling code
    # names and shapes them (BERT's pooler too; the tied decoder left out).
    with open(os.path.join(hf, "config.json")) as file:
        config = json.load(file)
    tensors = load_file(os.path.join(hf, "model.safetensors"))
    expected_shapes = reference.masked_lm_tensor_shapes(
        architecture, config, with_pooler=architecture == "bert"
    )
    assert {n: v.shape for n, v in tensors.items()} == expected_shapes
    assert {str(v.dtype) for v in tensors.values()} == {"float32"}
    assert config["architectures"] == [reference.CLASSES[architecture]]
    assert config["model_type"] == reference.MODEL_TYPES[architecture]
    assert config["pad_token_id"] == tokenizer.pad_token_id

    # transformers' forward pass on the written tensors is our full model.
    logits = reference.masked_lm_logits(
        architecture, tensors, config, x["token_ids"], x["padding_mask"]
    )
    positions = x["mask_positions"][0]
    np.testing.assert_allclose(
        logits[:, positions], model(x), rtol=0, atol=1e-4
    )
    # Our loader reads it back ...
    again = TokenDropMaskedLM.from_preset(hf)
    np.testing.assert_allclose(again(x), model(x), rtol=0, atol=1e-6)
    assert again.numerics == model.numerics
    assert load_tokenizer(hf).get_vocabulary() == tokenizer.get_vocabulary()
    # ... and so does keras-hub's own Hugging Face converter.
    backbone = get_architecture(architecture).backbone_class.from_preset(hf)
    inputs = {k: x[k] for k in get_architecture(architecture).input_keys}
    def sequence(outputs):
        return outputs["sequence_output"] if isinstance(outputs, dict) else outputs
    np.testing.assert_allclose(
        sequence(backbone(inputs)), sequence(model.backbone(inputs)), atol=1e-6
    )


def test_a_model_transformers_cannot_compute_is_refused_before_writing(tmp_path):
    tokenizer = load_tokenizer("distil_bert")
    model = tiny_model("distil_bert", tokenizer)
    odd = TokenDropMaskedLM(
        model.backbone, mlm_head_layer_norm_epsilon=1e-5,
        **special_token_ids(tokenizer),
    )
    export_dir = os.path.join(tmp_path, "export")
    with pytest.raises(ValueError, match=r"mlm_head_layer_norm_epsilon=1e-05 \(DistilBERT's is 1e-12\)"):
        export_pretrained(odd, tokenizer, export_dir, saved_model=False)
    assert not os.path.exists(export_dir)
    export_pretrained(odd, tokenizer, export_dir, saved_model=False, transformers=False)
    assert sorted(os.listdir(export_dir)) == ["importance.tsv", "preset"]


def test_an_export_interrupted_while_writing_hf_leaves_nothing(tmp_path, monkeypatch):
    import tokdrop_keras.export.transformers_export as transformers_export

    tokenizer = load_tokenizer("bert")
    model = tiny_model("bert", tokenizer)

    def fail(*args, **kwargs):
        raise KeyboardInterrupt  # the process stopped half way through hf/

    monkeypatch.setattr(transformers_export, "_tokenizer_files", fail)
    export_dir = os.path.join(tmp_path, "export")
    with pytest.raises(KeyboardInterrupt):
        export_pretrained(model, tokenizer, export_dir, saved_model=False)
    assert os.listdir(tmp_path) == []  # no export_dir, no temporary folder


def test_a_tokenizer_of_another_vocabulary_size_is_refused(tmp_path):
    model = tiny_model("roberta", load_tokenizer("roberta"))
    export_dir = os.path.join(tmp_path, "export")
    with pytest.raises(ValueError, match="8192 token embeddings"):
        export_pretrained(
            model, load_tokenizer("bert"), export_dir, saved_model=False
        )
    assert not os.path.exists(export_dir)
