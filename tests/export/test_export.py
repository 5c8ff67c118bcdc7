import os

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf
from tiny_bert import VOCABULARY
from tiny_bert import tiny_inputs

from tokdrop_keras import TokenDropMaskedLM
from tokdrop_keras.export import EXPORT_CONTENTS
from tokdrop_keras.export import atomic_directory
from tokdrop_keras.export import check_output_directory
from tokdrop_keras.export import check_writable_directory
from tokdrop_keras.export import find_export_part
from tokdrop_keras.export import BertSavedModelEncoder
from tokdrop_keras.export import export_bert_saved_model
from tokdrop_keras.export import export_pretrained
from tokdrop_keras.export import load_bert_saved_model
from tokdrop_keras.export.layout import IMPORTANCE_TABLE_FILE
from tokdrop_keras.export.layout import PRESET_DIR
from tokdrop_keras.export.layout import SAVED_MODEL_DIR
from tokdrop_keras.inputs import BERT_BACKBONE_INPUTS
from tiny_bert import SPECIAL_IDS
from tiny_bert import tiny_backbone


# One worker runs this module (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("export")


# Session scope: built once per worker even when xdist runs other modules'
# tests between this module's (a module fixture is torn down and rebuilt).
@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    model = TokenDropMaskedLM(tiny_backbone(), **SPECIAL_IDS)
    x, y, w = tiny_inputs(batch_size=8, num_predictions=4)
    model.compile()
    model.fit(x, y, sample_weight=w, epochs=1, verbose=0)
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=VOCABULARY)
    export_dir = os.path.join(tmp_path_factory.mktemp("export"), "run")
    export_pretrained(model, tokenizer, export_dir, sequence_length=16)
    return model, export_dir


def encoder_inputs():
    x, _, _ = tiny_inputs(batch_size=3)
    return x


def backbone_inputs(x):
    return {k: x[k] for k in BERT_BACKBONE_INPUTS}


def test_saved_model_signature_matches_the_backbone(exported):
    model, export_dir = exported
    x = encoder_inputs()
    expected = model.backbone(backbone_inputs(x))
    loaded = tf.saved_model.load(os.path.join(export_dir, SAVED_MODEL_DIR))
    hub_inputs = {
        "input_word_ids": tf.constant(x["token_ids"]),
        "input_mask": tf.constant(x["padding_mask"]),
        "input_type_ids": tf.constant(x["segment_ids"]),
    }
    for outputs in (
        loaded.signatures["serving_default"](**hub_inputs),
        loaded.serve(hub_inputs),
        keras.layers.TFSMLayer(
            os.path.join(export_dir, SAVED_MODEL_DIR), trainable=True
        )(hub_inputs),
    ):
        for key in ("sequence_output", "pooled_output"):
            np.testing.assert_allclose(outputs[key], expected[key], atol=1e-5)


def test_saved_model_training_endpoint_applies_dropout(tmp_path):
    backbone = tiny_backbone(dropout=0.5)
    export_bert_saved_model(backbone, str(tmp_path))
    encoder = BertSavedModelEncoder(str(tmp_path))
    x = backbone_inputs(encoder_inputs())
    inference = encoder(x)["sequence_output"]
    np.testing.assert_allclose(
        inference, backbone(x)["sequence_output"], atol=1e-5
    )
    np.testing.assert_array_equal(encoder(x)["sequence_output"], inference)
    first = encoder(x, training=True)["sequence_output"]
    second = encoder(x, training=True)["sequence_output"]
    assert np.abs(first - inference).max() > 1e-2
    assert np.abs(second - first).max() > 1e-2  # a new mask every call
    restored = BertSavedModelEncoder.from_config(encoder.get_config())
    assert restored.get_config() == encoder.get_config()
    np.testing.assert_array_equal(restored(x)["sequence_output"], inference)


def test_saved_model_fine_tunes_as_a_classifier_backbone(exported):
    model, export_dir = exported
    encoder = load_bert_saved_model(os.path.join(export_dir, SAVED_MODEL_DIR))
    assert encoder.get_layer("bert_saved_model").vocabulary_size == len(VOCABULARY)
    assert len(encoder.trainable_weights) == len(model.backbone.trainable_weights)
    classifier = keras_hub.models.BertTextClassifier(
        backbone=encoder,
        num_classes=2,
        preprocessor=keras_hub.models.BertTextClassifierPreprocessor(
            keras_hub.models.BertTokenizer(vocabulary=VOCABULARY),
            sequence_length=16,
        ),
    )
    classifier.compile(
        optimizer=keras.optimizers.AdamW(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x = backbone_inputs(encoder_inputs())
    before = encoder(x)["pooled_output"].numpy()
    classifier.fit(["w1 w2 w3", "w4 w5"] * 4, [0, 1] * 4, epochs=1, verbose=0)
    # The optimizer trained the SavedModel's own variables: the encoder's
    # outputs moved, and equal a Keras backbone given the trained weights.
    after = encoder(x)["pooled_output"].numpy()
    assert np.abs(after - before).max() > 1e-3
    trained = tiny_backbone()
    trained.set_weights([w.numpy() for w in encoder.trainable_weights])
    np.testing.assert_allclose(trained(x)["pooled_output"], after, atol=1e-5)


def test_saved_model_encoder_refuses_other_folders(tmp_path):
    with pytest.raises(ValueError, match="not a SavedModel folder"):
        BertSavedModelEncoder(str(tmp_path))


def test_preset_loads_as_backbone_and_classifier(exported):
    model, export_dir = exported
    preset = os.path.join(export_dir, PRESET_DIR)
    backbone = keras_hub.models.BertBackbone.from_preset(preset)
    for loaded, trained in zip(backbone.weights, model.backbone.weights):
        np.testing.assert_array_equal(loaded, trained)
    classifier = keras_hub.models.BertTextClassifier.from_preset(
        preset, num_classes=2
    )
    assert classifier.predict(["w1 w2 w3"], verbose=0).shape == (1, 2)


def test_importance_table_is_sorted_and_complete(exported):
    model, export_dir = exported
    with open(os.path.join(export_dir, IMPORTANCE_TABLE_FILE)) as file:
        header, *rows = file.read().splitlines()
    assert header == "token\timportance\ttimes_seen"
    rows = [row.split("\t") for row in rows]
    assert sorted(token for token, _, _ in rows) == sorted(VOCABULARY)
    importance = [float(value) for _, value, _ in rows]
    assert importance == sorted(importance, reverse=True)
    table = model.importance_tracker.importance.numpy()
    counts = model.importance_tracker.prediction_counts.numpy()
    for token, value, seen in rows:
        token_id = VOCABULARY.index(token)
        assert float(value) == pytest.approx(table[token_id], abs=1e-6)
        assert int(seen) == counts[token_id]


def test_refuses_a_non_empty_folder_and_keeps_it(exported):
    _, export_dir = exported
    before = sorted(os.listdir(export_dir))
    with pytest.raises(ValueError, match="exists and is not empty"):
        with atomic_directory(export_dir):
            pass
    assert sorted(os.listdir(export_dir)) == before


def test_interrupted_export_leaves_nothing(tmp_path):
    target = os.path.join(tmp_path, "out")
    with pytest.raises(KeyboardInterrupt):
        with atomic_directory(target) as tmp:
            open(os.path.join(tmp, "half_written"), "w").close()
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []
    with atomic_directory(target) as tmp:
        open(os.path.join(tmp, "done"), "w").close()
    assert os.listdir(target) == ["done"]


def test_export_holds_the_documented_parts(exported):
    _, export_dir = exported
    assert tuple(sorted(os.listdir(export_dir))) == EXPORT_CONTENTS
    assert find_export_part(export_dir, "preset") == os.path.join(
        export_dir, PRESET_DIR
    )
    saved_model = os.path.join(export_dir, SAVED_MODEL_DIR)
    # A part's own folder is found as itself; a missing part is named.
    assert find_export_part(saved_model, "saved_model") == saved_model
    with pytest.raises(ValueError, match="holds no keras-hub preset"):
        find_export_part(saved_model, "preset")


def test_export_or_model_dir_that_is_a_file_is_refused(tmp_path):
    path = os.path.join(tmp_path, "a_file")
    open(path, "w").close()
    for check in (check_output_directory, check_writable_directory):
        with pytest.raises(ValueError, match="is an existing file"):
            check(path)
