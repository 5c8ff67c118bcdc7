"""The names of the model inputs, shared by the models and the data."""

TOKEN_IDS = "token_ids"
SEGMENT_IDS = "segment_ids"
PADDING_MASK = "padding_mask"
MASK_POSITIONS = "mask_positions"

# BERT's share of tokens predicted by the masked-LM objective (the
# `mask_positions` per sequence): the data's masking and the FLOP model.
MASK_RATE = 0.15

# The inputs of a keras-hub `BertBackbone`, and of `BertMaskedLM` (the output
# of `BertMaskedLMPreprocessor`).
BERT_BACKBONE_INPUTS = (TOKEN_IDS, SEGMENT_IDS, PADDING_MASK)
BERT_MASKED_LM_INPUTS = BERT_BACKBONE_INPUTS + (MASK_POSITIONS,)
# RoBERTa, XLM-RoBERTa and DistilBERT have no segment ids.
NO_SEGMENT_BACKBONE_INPUTS = (TOKEN_IDS, PADDING_MASK)

# TF Hub's (and Model Garden's) names of the BERT backbone inputs.
TF_HUB_INPUTS = {
    "input_word_ids": TOKEN_IDS,
    "input_mask": PADDING_MASK,
    "input_type_ids": SEGMENT_IDS,
}
