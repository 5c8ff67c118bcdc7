"""Which token ids token dropping always keeps and always drops.

The ids are read from the tokenizer, never hard-coded: the `[CLS]` / `<s>`
start, `[SEP]` / `</s>` end, mask and unknown tokens are always kept, the
padding token always dropped, at whatever ids the vocabulary puts them.
"""

# BERT's reserved WordPiece tokens, in the order a new vocabulary lists them
# (`[PAD]` first: keras-hub pads with id 0). Only for writing vocabularies;
# models take their special ids from the tokenizer (`special_token_ids`).
BERT_RESERVED_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

# Token roles, each with the tokenizer attributes that may name its id.
KEPT_ROLES = {
    "start": ("cls_token_id", "start_token_id"),
    "end": ("sep_token_id", "end_token_id"),
    "mask": ("mask_token_id",),
    "unknown": ("unk_token_id", "oov_token"),
}
DROPPED_ROLES = {"padding": ("pad_token_id",)}


def _role_id(tokenizer, role, attributes):
    for attribute in attributes:
        value = getattr(tokenizer, attribute, None)
        if value is None:
            continue
        if isinstance(value, str):  # a token, e.g. WordPiece's oov_token
            value = tokenizer.token_to_id(value)
        return int(value)
    raise ValueError(
        f"The tokenizer {type(tokenizer).__name__} has no {role} token (none "
        f"of {list(attributes)}); token dropping needs the start, end, mask, "
        "unknown and padding tokens."
    )


def special_token_ids(tokenizer):
    """The always-keep and always-drop ids of a keras-hub tokenizer.

    Args:
        tokenizer: a keras-hub tokenizer with start/end (`cls_token_id`,
            `sep_token_id` or `start_token_id`, `end_token_id`),
            `mask_token_id`, `pad_token_id` and an unknown token
            (`oov_token` or `unk_token_id`), e.g. `BertTokenizer`.

    Returns:
        A dict with `always_keep_ids` (start, end, mask, unknown) and
        `always_drop_ids` (padding), ready to be passed as keyword arguments
        to `ImportanceTracker`, `TokenDropBackbone` or `TokenDropMaskedLM`.

    Example:
    ```python
    tokenizer = keras_hub.models.BertTokenizer(
        vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the"],
    )
    ids = tokdrop_keras.special_token_ids(tokenizer)
    assert ids == {"always_keep_ids": [2, 3, 4, 1], "always_drop_ids": [0]}
    ```
    """
    return {
        "always_keep_ids": [
            _role_id(tokenizer, role, attributes)
            for role, attributes in KEPT_ROLES.items()
        ],
        "always_drop_ids": [
            _role_id(tokenizer, role, attributes)
            for role, attributes in DROPPED_ROLES.items()
        ],
    }
