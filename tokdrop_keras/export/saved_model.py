import functools
import os
import subprocess
import sys

import keras

from tokdrop_keras.backend import require_tensorflow
from tokdrop_keras.inputs import TF_HUB_INPUTS

try:
    import tensorflow as tf
except ImportError:  # the keras-hub preset export works without it
    tf = None

CONVERT_COMMAND = "python -m tokdrop_keras.export.saved_model PRESET_DIR OUTPUT_DIR"
NO_TENSORFLOW_ALTERNATIVE = (
    "Export the keras-hub preset only (`saved_model=False`, "
    "pretrain.py --nosaved_model) and convert it where TensorFlow is "
    f"installed: `{CONVERT_COMMAND}`."
)

TOKEN_EMBEDDING_VARIABLE = "token_embedding/embeddings:0"
POSITION_EMBEDDING_VARIABLE = "position_embedding/embeddings:0"


def export_bert_saved_model(backbone, path):
    """Writes a backbone as a TF SavedModel with TF Hub's BERT signature.

    Endpoints (all take int32 `[batch, seq]` `input_word_ids`, `input_mask`
    and `input_type_ids`, and return `sequence_output` and `pooled_output`,
    as TF Hub's BERT encoders do; for RoBERTa, XLM-R and DistilBERT, which
    have no segment ids and no pooler, `input_word_ids` and `input_mask` in
    and `sequence_output` out):
    - `serving_default`: the signature, with the three inputs as arguments;
    - `serve`: the same inputs as one dict, the form
      `keras.layers.TFSMLayer` and `BertSavedModelEncoder` call;
    - `serve_training`: as `serve` with dropout on, which
      `BertSavedModelEncoder` calls in training, so fine-tuning through the
      SavedModel regularizes like fine-tuning the Keras backbone.

    Written with Keras' `ExportArchive`, so the variables stay trainable;
    fine-tune with `load_bert_saved_model` (Keras 3.15's optimizers cannot
    train `TFSMLayer`'s weights, see `BertSavedModelEncoder`).

    Args:
        backbone: a keras-hub backbone token dropping supports
            (`tokdrop_keras.models.ARCHITECTURES`).
        path: output folder (local or `gs://`).

    Example:
    ```python
    import tempfile
    from tokdrop_keras.export import export_bert_saved_model
    from tokdrop_keras.export import load_bert_saved_model
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=16,
    )
    path = os.path.join(tempfile.mkdtemp(), "bert_saved_model")
    export_bert_saved_model(backbone, path)
    hub_inputs = {
        "input_word_ids": np.array([[2, 7, 3]], "int32"),
        "input_mask": np.ones((1, 3), "int32"),
        "input_type_ids": np.zeros((1, 3), "int32"),
    }
    features = keras.layers.TFSMLayer(path)  # inference only
    outputs = features(hub_inputs)
    expected = backbone({
        "token_ids": hub_inputs["input_word_ids"],
        "padding_mask": hub_inputs["input_mask"],
        "segment_ids": hub_inputs["input_type_ids"],
    })
    np.testing.assert_allclose(
        outputs["pooled_output"], expected["pooled_output"], atol=1e-5
    )
    encoder = load_bert_saved_model(path)  # trainable
    assert len(encoder.trainable_weights) == len(backbone.trainable_weights)
    ```
    """
    require_tensorflow("The TF-Hub SavedModel", NO_TENSORFLOW_ALTERNATIVE)
    if keras.backend.backend() != "tensorflow":
        # Keras' TensorFlow backend writes it; convert the preset there.
        raise ValueError(
            "export_bert_saved_model needs Keras' TensorFlow backend "
            f"(running: {keras.backend.backend()!r}); use "
            "`saved_model_from_preset`, which converts in a TensorFlow "
            "process."
        )
    from tokdrop_keras.models.architectures import architecture_of

    architecture = architecture_of(backbone)
    hub_names = [
        name
        for name, key in TF_HUB_INPUTS.items()
        if key in architecture.input_keys
    ]
    specs = {
        name: tf.TensorSpec([None, None], tf.int32, name=name)
        for name in hub_names
    }

    def encode(hub_inputs, training):
        outputs = backbone(
            {TF_HUB_INPUTS[name]: hub_inputs[name] for name in hub_names},
            training=training,
        )
        if not architecture.pooled:
            return {"sequence_output": outputs}
        return {
            "sequence_output": outputs["sequence_output"],
            "pooled_output": outputs["pooled_output"],
        }

    archive = keras.export.ExportArchive()
    archive.track(backbone)
    if len(hub_names) == 3:

        def serve(input_word_ids, input_mask, input_type_ids):
            return encode(
                dict(zip(hub_names, (input_word_ids, input_mask, input_type_ids))),
                training=False,
            )

    else:

        def serve(input_word_ids, input_mask):
            return encode(
                dict(zip(hub_names, (input_word_ids, input_mask))),
                training=False,
            )

    archive.add_endpoint(
        name="serving_default",
        fn=serve,
        input_signature=list(specs.values()),
    )
    for name, training in (("serve", False), ("serve_training", True)):
        archive.add_endpoint(
            name=name,
            fn=functools.partial(encode, training=training),
            input_signature=[specs],
        )
    archive.write_out(path, verbose=False)


@keras.saving.register_keras_serializable(package="tokdrop_keras")
class BertSavedModelEncoder(keras.layers.Layer):
    """A trainable Keras layer over `export_bert_saved_model`'s SavedModel.

    Calls the SavedModel's `serve` endpoint, or `serve_training` (dropout on)
    when `training=True`, on a dict of `token_ids`, `segment_ids` and
    `padding_mask`, and returns its `sequence_output` and `pooled_output`.
    The SavedModel's variables become this layer's weights, so an optimizer
    fine-tunes them.

    Not `keras.layers.TFSMLayer`: it keeps the TF variable names, ":0"
    included, in its weights' paths, and Keras 3.15's optimizers then fail
    to create their slot variables ("... is not a valid scope name").

    Args:
        filepath: the SavedModel folder (local or `gs://`).

    Example:
    ```python
    import tempfile
    from tokdrop_keras.export import BertSavedModelEncoder
    from tokdrop_keras.export import export_bert_saved_model
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=16,
    )
    path = os.path.join(tempfile.mkdtemp(), "saved_model")
    export_bert_saved_model(backbone, path)
    encoder = BertSavedModelEncoder(path)
    inputs = {
        "token_ids": np.array([[2, 7, 3]], "int32"),
        "segment_ids": np.zeros((1, 3), "int32"),
        "padding_mask": np.ones((1, 3), "int32"),
    }
    outputs = encoder(inputs)
    assert outputs["sequence_output"].shape == (1, 3, 16)
    np.testing.assert_allclose(
        outputs["pooled_output"], backbone(inputs)["pooled_output"], atol=1e-5
    )
    assert encoder.vocabulary_size == 50
    ```
    """

    def __init__(self, filepath, **kwargs):
        super().__init__(**kwargs)
        require_tensorflow(
            "Loading a SavedModel",
            "Fine-tune the keras-hub preset (`preset/`) instead.",
        )
        if keras.backend.backend() != "tensorflow":
            raise ValueError(
                "A SavedModel runs on Keras' TensorFlow backend only; on "
                f"{keras.backend.backend()!r} fine-tune the keras-hub preset "
                "(`preset/`)."
            )
        if not tf.io.gfile.exists(os.path.join(filepath, "saved_model.pb")):
            raise ValueError(
                f"{filepath} is not a SavedModel folder (no saved_model.pb)."
            )
        self.filepath = filepath
        self._saved_model = tf.saved_model.load(filepath)
        for endpoint in ("serve", "serve_training"):
            if not hasattr(self._saved_model, endpoint):
                raise ValueError(
                    f"The SavedModel {filepath} has no {endpoint!r} endpoint; "
                    "export it with tokdrop_keras' export_bert_saved_model."
                )
        # Wraps the loaded variables themselves (no copies), under names
        # that are valid scopes for the optimizer's slot variables; Keras
        # tracks a list of variables set as an attribute.
        self.saved_model_variables = [
            keras.Variable(
                variable,
                trainable=variable.trainable,
                name=variable.name.split(":")[0].replace("/", "_"),
            )
            for variable in self._saved_model.trainable_variables
            + self._saved_model.non_trainable_variables
        ]
        self.built = True

    @property
    def vocabulary_size(self):
        """Rows of the SavedModel's token embedding."""
        return self._embedding_rows(TOKEN_EMBEDDING_VARIABLE)

    @property
    def max_sequence_length(self):
        """Rows of the SavedModel's position embedding."""
        return self._embedding_rows(POSITION_EMBEDDING_VARIABLE)

    def _embedding_rows(self, name):
        for variable in self._saved_model.trainable_variables:
            if variable.name == name:
                return variable.shape[0]
        raise ValueError(
            f"The SavedModel {self.filepath} has no {name} variable: not a "
            "keras-hub BERT."
        )

    def call(self, inputs, training=False):
        saved_model = self._saved_model
        endpoint = saved_model.serve_training if training else saved_model.serve
        return endpoint({name: inputs[key] for name, key in TF_HUB_INPUTS.items()})

    def get_config(self):
        config = super().get_config()
        config.update({"filepath": self.filepath})
        return config


def load_bert_saved_model(path):
    """Loads `export_bert_saved_model`'s SavedModel as a trainable encoder.

    Returns a functional `keras.Model` with a `BertBackbone`'s inputs
    (`token_ids`, `segment_ids`, `padding_mask`) and outputs
    (`sequence_output`, `pooled_output`) around a `BertSavedModelEncoder`,
    so it can stand in for the backbone of a keras-hub task such as
    `BertTextClassifier`.

    Args:
        path: the SavedModel folder (local or `gs://`).

    Example:
    ```python
    import tempfile
    from tokdrop_keras.export import export_bert_saved_model
    from tokdrop_keras.export import load_bert_saved_model
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [
        f"w{i}" for i in range(40)
    ]
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(vocabulary), num_layers=2, num_heads=2,
        hidden_dim=16, intermediate_dim=32, max_sequence_length=16,
    )
    path = os.path.join(tempfile.mkdtemp(), "saved_model")
    export_bert_saved_model(backbone, path)
    encoder = load_bert_saved_model(path)
    classifier = keras_hub.models.BertTextClassifier(
        backbone=encoder,
        num_classes=2,
        preprocessor=keras_hub.models.BertTextClassifierPreprocessor(
            keras_hub.models.BertTokenizer(vocabulary=vocabulary),
            sequence_length=8,
        ),
    )
    logits = classifier.predict(["w1 w2 w3", "w4"], verbose=0)
    assert logits.shape == (2, 2)
    ```
    """
    inputs = {
        key: keras.Input(shape=(None,), dtype="int32", name=key)
        for key in TF_HUB_INPUTS.values()
    }
    outputs = BertSavedModelEncoder(path, name="bert_saved_model")(inputs)
    return keras.Model(inputs, outputs, name="bert_saved_model_encoder")


def saved_model_from_preset(preset_dir, path):
    """Writes the TF-Hub SavedModel of an exported keras-hub preset.

    How a JAX user gets the SavedModel: on Keras' TensorFlow backend it
    converts in this process; on another backend (TensorFlow installed) in
    a TensorFlow-backend subprocess, the same as running
    `python -m tokdrop_keras.export.saved_model PRESET_DIR OUTPUT_DIR`.

    Args:
        preset_dir: a keras-hub preset folder of a supported backbone.
        path: output folder (local or `gs://`).

    Example:
    ```python
    import tempfile
    from tokdrop_keras.export.saved_model import saved_model_from_preset
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=16,
    )
    folder = tempfile.mkdtemp()
    backbone.save_to_preset(os.path.join(folder, "preset"))
    saved_model_from_preset(
        os.path.join(folder, "preset"), os.path.join(folder, "saved_model")
    )
    assert os.path.exists(os.path.join(folder, "saved_model", "saved_model.pb"))
    ```
    """
    require_tensorflow("The TF-Hub SavedModel", NO_TENSORFLOW_ALTERNATIVE)
    if keras.backend.backend() == "tensorflow":
        import keras_hub

        backbone = keras_hub.models.Backbone.from_preset(preset_dir)
        export_bert_saved_model(backbone, path)
        return
    environ = dict(os.environ, KERAS_BACKEND="tensorflow")
    result = subprocess.run(
        [sys.executable, "-m", "tokdrop_keras.export.saved_model",
         preset_dir, path],
        env=environ, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"Converting {preset_dir} to a SavedModel in a TensorFlow "
            f"process failed:\n{result.stderr[-2000:]}"
        )


def _main(argv=None):
    """`python -m tokdrop_keras.export.saved_model PRESET_DIR OUTPUT_DIR`."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Writes the TF-Hub SavedModel of a keras-hub preset."
    )
    parser.add_argument("preset_dir")
    parser.add_argument("output_dir")
    args = parser.parse_args(argv)
    if keras.backend.backend() != "tensorflow":
        parser.error("run with KERAS_BACKEND=tensorflow")
    saved_model_from_preset(args.preset_dir, args.output_dir)


if __name__ == "__main__":
    _main()
