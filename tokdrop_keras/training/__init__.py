"""Running pretraining and fine-tuning: configs, `pretrain`, `finetune`,
the run directory, strategies and callbacks."""

import importlib.util as _importlib_util

if _importlib_util.find_spec("tensorflow") is None:
    raise ImportError(
        "tokdrop_keras.training (pretrain, finetune) reads its data "
        "with tf.data and needs TensorFlow, which is not installed. Without "
        "it, train with TokenDropMaskedLM.fit on NumPy arrays or a "
        "keras.utils.PyDataset, and export with "
        "tokdrop_keras.export.export_pretrained(..., saved_model=False)."
    )

from tokdrop_keras.training.callbacks import TrainingLog
from tokdrop_keras.training.config import FinetuneConfig
from tokdrop_keras.training.config import PretrainConfig
from tokdrop_keras.training.distribution import make_strategy
from tokdrop_keras.training.finetuning import FinetuneResult
from tokdrop_keras.training.finetuning import finetune
from tokdrop_keras.training.pretraining import PretrainResult
from tokdrop_keras.training.pretraining import pretrain
from tokdrop_keras.training.run_directory import RunDirectory
from tokdrop_keras.training.run_directory import write_json
