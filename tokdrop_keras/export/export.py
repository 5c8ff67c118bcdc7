import json
import os

import keras

import tokdrop_keras.filesystem as filesystem

from tokdrop_keras.export.atomic_directory import atomic_directory
from tokdrop_keras.export.importance_table import write_importance_table
from tokdrop_keras.export.layout import HF_DIR
from tokdrop_keras.export.layout import IMPORTANCE_TABLE_FILE
from tokdrop_keras.export.layout import PRESET_DIR
from tokdrop_keras.export.layout import SAVED_MODEL_DIR
from tokdrop_keras.backend import require_tensorflow
from tokdrop_keras.export.saved_model import NO_TENSORFLOW_ALTERNATIVE
from tokdrop_keras.export.saved_model import export_bert_saved_model
from tokdrop_keras.export.saved_model import saved_model_from_preset
from tokdrop_keras.export.transformers_export import check_transformers_numerics
from tokdrop_keras.export.transformers_export import write_transformers_checkpoint
from tokdrop_keras.models.architectures import architecture_of
from tokdrop_keras.models.numerics import NUMERICS_FILE
from tokdrop_keras.special_tokens import check_tokenizer
from tokdrop_keras.special_tokens import tokens_by_id



def export_pretrained(
    masked_lm,
    tokenizer,
    export_dir,
    sequence_length=512,
    overwrite=False,
    saved_model=True,
    transformers=True,
):
    """Exports a pretrained model for fine-tuning, atomically.

    Writes, under `export_dir`:
    - `preset/`: a keras-hub preset of the architecture's masked LM
      (backbone, MLM head, tokenizer and a classifier preprocessor) for
      `keras_hub.models.BertBackbone.from_preset`,
      `keras_hub.models.BertTextClassifier.from_preset(num_classes=...)`,
      `keras_hub.models.BertMaskedLM.from_preset` (and their RoBERTa,
      XLM-R and DistilBERT counterparts), and
      `tokdrop_keras.TokenDropMaskedLM.from_preset` to pretrain further;
    - `saved_model/`: the plain encoder as a TF SavedModel with TF Hub's BERT
      signature (see `export_bert_saved_model`; on JAX converted from the
      preset in a TensorFlow process, `saved_model_from_preset`), unless
      `saved_model=False`;
    - `hf/`: the encoder and MLM head as a Hugging Face transformers
      checkpoint (`BertForMaskedLM`, `RobertaForMaskedLM`,
      `XLMRobertaForMaskedLM`, `DistilBertForMaskedLM`: config.json,
      model.safetensors, tokenizer files) for
      `transformers.AutoModelForMaskedLM.from_pretrained(export_dir + "/hf")`
      and its `AutoModelForSequenceClassification`, unless
      `transformers=False` (see `write_transformers_checkpoint`);
    - `importance.tsv`: the learned importance table.

    Args:
        masked_lm: a trained `TokenDropMaskedLM`.
        tokenizer: the keras-hub tokenizer it was trained with.
        export_dir: output folder (local or `gs://`).
        sequence_length: int. Sequence length of the exported preprocessor.
        overwrite: bool. Replace a non-empty `export_dir`.
        saved_model: bool. Write `saved_model/`; needs TensorFlow
            installed (any Keras backend).
        transformers: bool. Write `hf/`.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.export import export_pretrained
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [
        f"w{i}" for i in range(40)
    ]
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(), num_layers=2,
        num_heads=2, hidden_dim=16, intermediate_dim=32,
        max_sequence_length=16,
    )
    model = tokdrop_keras.TokenDropBertMaskedLM(
        backbone, **tokdrop_keras.special_token_ids(tokenizer)
    )  # pretrained with model.fit(...)
    export_dir = os.path.join(tempfile.mkdtemp(), "run1")
    export_pretrained(model, tokenizer, export_dir, sequence_length=16)
    assert sorted(os.listdir(export_dir)) == [
        "hf", "importance.tsv", "preset", "saved_model"
    ]
    classifier = keras_hub.models.BertTextClassifier.from_preset(
        os.path.join(export_dir, "preset"), num_classes=2
    )
    assert classifier.preprocessor.sequence_length == 16
    ```
    """
    if saved_model:
        require_tensorflow("The TF-Hub SavedModel", NO_TENSORFLOW_ALTERNATIVE)
    backbone = masked_lm.backbone
    check_tokenizer(tokenizer, backbone)
    architecture = architecture_of(backbone)
    if transformers:
        check_transformers_numerics(masked_lm)  # before writing anything
    with atomic_directory(export_dir, overwrite=overwrite) as tmp:
        preset_dir = os.path.join(tmp, PRESET_DIR)
        # keras-hub's own masked LM on the same backbone, with our head's
        # weights: its preset holds the backbone and the MLM head.
        task = architecture.masked_lm_class(backbone=backbone, preprocessor=None)
        task.masked_lm_head.set_weights(masked_lm.masked_lm_head.get_weights())
        task.save_to_preset(preset_dir)
        # keras-hub's config.json does not hold the activations and
        # epsilons; `TokenDropMaskedLM.from_preset` reads them from here.
        with filesystem.open_file(os.path.join(preset_dir, NUMERICS_FILE), "w") as file:
            json.dump(masked_lm.numerics, file, indent=2)
        architecture.classifier_preprocessor_class(
            tokenizer,
            sequence_length=min(sequence_length, backbone.max_sequence_length),
        ).save_to_preset(preset_dir)
        if saved_model and keras.backend.backend() == "tensorflow":
            export_bert_saved_model(backbone, os.path.join(tmp, SAVED_MODEL_DIR))
        elif saved_model:  # another backend: in a TensorFlow process
            saved_model_from_preset(
                preset_dir, os.path.join(tmp, SAVED_MODEL_DIR)
            )
        if transformers:
            hf_dir = os.path.join(tmp, HF_DIR)
            filesystem.makedirs(hf_dir)
            write_transformers_checkpoint(masked_lm, tokenizer, hf_dir)
        write_importance_table(
            masked_lm.importance_tracker,
            tokens_by_id(tokenizer),
            os.path.join(tmp, IMPORTANCE_TABLE_FILE),
        )
