"""Which token ids token dropping always keeps and always drops.

The ids are read from the tokenizer, never hard-coded: the `[CLS]` / `<s>`
start, `[SEP]` / `</s>` end, `[MASK]` / `<mask>` and `[UNK]` / `<unk>`
tokens are always kept, the `[PAD]` / `<pad>` token always dropped, at
whatever ids the vocabulary puts them (WordPiece files with `[unused*]`
tokens first, SentencePiece's fairseq order, RoBERTa's `<mask>` last).
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
# Byte-level BPE (RoBERTa's `RobertaTokenizer`) names no unknown token: it
# can encode any text, so it never emits one.
OPTIONAL_ROLES = ("unknown",)


def _role_id(tokenizer, role, attributes):
    for attribute in attributes:
        value = getattr(tokenizer, attribute, None)
        if value is None:
            continue
        if isinstance(value, str):  # a token, e.g. WordPiece's oov_token
            value = tokenizer.token_to_id(value)
        return int(value)
    if role in OPTIONAL_ROLES:
        return None
    raise ValueError(
        f"The tokenizer {type(tokenizer).__name__} has no {role} token (none "
        f"of {list(attributes)}); token dropping needs the start, end, mask, "
        "unknown and padding tokens."
    )


def special_token_roles(tokenizer):
    """Each special-token role's id in a keras-hub tokenizer, by name.

    Args:
        tokenizer: a keras-hub tokenizer (see `special_token_ids`).

    Returns:
        A dict `{"start", "end", "mask", "unknown", "padding"}` -> id;
        `"unknown"` is `None` for a byte-level tokenizer, which has none.

    Example:
    ```python
    from tokdrop_keras.special_tokens import special_token_roles
    tokenizer = keras_hub.models.BertTokenizer(
        vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the"],
    )
    assert special_token_roles(tokenizer) == {
        "start": 2, "end": 3, "mask": 4, "unknown": 1, "padding": 0
    }
    ```
    """
    return {
        role: _role_id(tokenizer, role, attributes)
        for role, attributes in {**KEPT_ROLES, **DROPPED_ROLES}.items()
    }


def special_token_ids(tokenizer):
    """The always-keep and always-drop ids of a keras-hub tokenizer.

    Args:
        tokenizer: a keras-hub tokenizer with start/end (`cls_token_id`,
            `sep_token_id` or `start_token_id`, `end_token_id`),
            `mask_token_id`, `pad_token_id` and, unless it is byte-level,
            an unknown token (`oov_token` or `unk_token_id`):
            `BertTokenizer`, `DistilBertTokenizer`, `RobertaTokenizer`,
            `XLMRobertaTokenizer`.

    Raises:
        ValueError: naming the missing token, e.g. for a tokenizer without
            a mask token.

    Returns:
        A dict with `always_keep_ids` (start, end, mask, unknown if any) and
        `always_drop_ids` (padding), ready to be passed as keyword arguments
        to `ImportanceTracker`, `TokenDropBackbone` or `TokenDropMaskedLM`.

    Example:
    ```python
    tokenizer = keras_hub.models.BertTokenizer(
        vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the"],
    )
    ids = tokdrop_keras.special_token_ids(tokenizer)
    assert ids == {"always_keep_ids": [2, 3, 4, 1], "always_drop_ids": [0]}
    # A vocabulary with its special tokens elsewhere: the ids follow it.
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=[
        "[unused0]", "[unused1]", "[UNK]", "[CLS]", "[SEP]", "the", "[MASK]",
        "[PAD]",
    ])
    ids = tokdrop_keras.special_token_ids(tokenizer)
    assert ids == {"always_keep_ids": [3, 4, 6, 2], "always_drop_ids": [7]}
    ```
    """
    roles = special_token_roles(tokenizer)
    return {
        "always_keep_ids": [
            roles[role] for role in KEPT_ROLES if roles[role] is not None
        ],
        "always_drop_ids": [roles[role] for role in DROPPED_ROLES],
    }


def check_tokenizer(tokenizer, backbone):
    """Raises unless `tokenizer` fits `backbone`: one id per embedding row,
    and the special tokens token dropping needs.

    Returns:
        `special_token_ids(tokenizer)`.

    Example:
    ```python
    from tokdrop_keras.special_tokens import check_tokenizer
    tokenizer = keras_hub.models.BertTokenizer(
        vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the"],
    )
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=7, max_sequence_length=8, num_layers=2
    )
    try:
        check_tokenizer(tokenizer, backbone)
        raise AssertionError("a 6-token vocabulary fit 7 embeddings")
    except ValueError as error:
        assert "6 tokens but the backbone 7 token embeddings" in str(error)
    ```
    """
    if tokenizer.vocabulary_size() != backbone.vocabulary_size:
        raise ValueError(
            f"The tokenizer ({type(tokenizer).__name__}) has "
            f"{tokenizer.vocabulary_size()} tokens but the backbone "
            f"{backbone.vocabulary_size} token embeddings: ids would be read "
            "as other tokens. Use the tokenizer the backbone was built for."
        )
    return special_token_ids(tokenizer)


def tokens_by_id(tokenizer):
    """The tokenizer's tokens, as a list indexed by id (keras-hub's
    byte-pair tokenizers return their vocabulary as dict keys).

    Example:
    ```python
    from tokdrop_keras.special_tokens import tokens_by_id
    tokenizer = keras_hub.models.RobertaTokenizer(
        vocabulary={"<s>": 0, "<pad>": 1, "</s>": 2, "a": 4, "<unk>": 3,
                    "b": 5, "ab": 6, "<mask>": 7},
        merges=["a b"],
    )
    assert tokens_by_id(tokenizer) == [
        "<s>", "<pad>", "</s>", "<unk>", "a", "b", "ab", "<mask>"
    ]
    ```
    """
    vocabulary = tokenizer.get_vocabulary()
    if isinstance(vocabulary, list):
        return vocabulary
    return [tokenizer.id_to_token(i) for i in range(tokenizer.vocabulary_size())]
