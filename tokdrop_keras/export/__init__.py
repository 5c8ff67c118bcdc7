"""Exports for fine-tuning: a keras-hub preset, a TF SavedModel with TF Hub's
BERT signature, and the importance table (see `tokdrop_keras.export.layout`)."""

from tokdrop_keras.export.atomic_directory import atomic_directory
from tokdrop_keras.export.atomic_directory import check_output_directory
from tokdrop_keras.export.atomic_directory import check_writable_directory
from tokdrop_keras.export.export import export_pretrained
from tokdrop_keras.export.importance_table import read_importance_table
from tokdrop_keras.export.importance_table import restore_importance_table
from tokdrop_keras.export.importance_table import write_importance_table
from tokdrop_keras.export.layout import EXPORT_CONTENTS
from tokdrop_keras.export.layout import find_export_part
from tokdrop_keras.export.layout import find_importance_table
from tokdrop_keras.export.saved_model import BertSavedModelEncoder
from tokdrop_keras.export.saved_model import export_bert_saved_model
from tokdrop_keras.export.saved_model import load_bert_saved_model
