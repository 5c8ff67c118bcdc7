import keras
import tensorflow as tf


def export_bert_saved_model(backbone, path):
    """Writes a `BertBackbone` as a TF SavedModel with TF Hub's BERT signature.

    `serving_default` takes `input_word_ids`, `input_mask` and
    `input_type_ids` (int32 `[batch, seq]`) and returns `sequence_output` and
    `pooled_output`, as TF Hub's BERT encoders do. Written with Keras'
    `ExportArchive`, so the variables stay trainable for
    `keras.layers.TFSMLayer(path, call_endpoint="serving_default",
    trainable=True)`.

    Args:
        backbone: a `keras_hub.models.BertBackbone`.
        path: output folder (local or `gs://`).

    Example:
    ```python
    export_bert_saved_model(model.backbone, "exports/bert_saved_model")
    encoder = keras.layers.TFSMLayer(
        "exports/bert_saved_model",
        call_endpoint="serving_default",
        trainable=True,
    )
    ```
    """
    spec = lambda name: tf.TensorSpec([None, None], tf.int32, name=name)

    def serve(input_word_ids, input_mask, input_type_ids):
        outputs = backbone(
            {
                "token_ids": input_word_ids,
                "padding_mask": input_mask,
                "segment_ids": input_type_ids,
            },
            training=False,
        )
        return {
            "sequence_output": outputs["sequence_output"],
            "pooled_output": outputs["pooled_output"],
        }

    archive = keras.export.ExportArchive()
    archive.track(backbone)
    archive.add_endpoint(
        name="serving_default",
        fn=serve,
        input_signature=[
            spec("input_word_ids"),
            spec("input_mask"),
            spec("input_type_ids"),
        ],
    )
    archive.write_out(path, verbose=False)
