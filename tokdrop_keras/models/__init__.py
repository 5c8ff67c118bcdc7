"""Token-dropping models, the sizes, the layout and the FLOP model."""

from tokdrop_keras.models.architectures import ARCHITECTURE_NAMES
from tokdrop_keras.models.architectures import ARCHITECTURES
from tokdrop_keras.models.architectures import EncoderArchitecture
from tokdrop_keras.models.architectures import architecture_of
from tokdrop_keras.models.architectures import get_architecture
from tokdrop_keras.models.flops import encoder_flops
from tokdrop_keras.models.flops import masked_lm_flop_ratio
from tokdrop_keras.models.keep_schedule import KeepSchedule
from tokdrop_keras.models.layout import TokenDropLayout
from tokdrop_keras.models.layout import token_drop_layout
from tokdrop_keras.models.sizes import SIZES
from tokdrop_keras.models.sizes import backbone_arguments
from tokdrop_keras.models.sizes import backbone_for_size
from tokdrop_keras.models.sizes import size_config
from tokdrop_keras.models.token_drop_backbone import TokenDropBackbone
from tokdrop_keras.models.token_drop_backbone import TokenDropBertBackbone
from tokdrop_keras.models.token_drop_masked_lm import TokenDropBertMaskedLM
from tokdrop_keras.models.token_drop_masked_lm import TokenDropMaskedLM
