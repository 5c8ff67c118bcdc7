"""Running pretraining and fine-tuning: configs, `pretrain`, `finetune`,
the run directory, strategies and callbacks."""

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
