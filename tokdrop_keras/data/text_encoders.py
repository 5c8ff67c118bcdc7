"""Token ids without TensorFlow: each tokenizer kind on the library made
for it (Hugging Face `tokenizers` for WordPiece and byte-level BPE,
`sentencepiece` for SentencePiece), built from a keras-hub tokenizer's own
vocabulary, so that the ids are that tokenizer's.

The Grain pipeline (`tokdrop_keras.data.grain_pipeline`) tokenizes with
these. Each encoder is a small picklable object (Grain's worker processes
receive a copy) that builds its tokenizer on first use. Where they can
differ from keras-hub's tf-text tokenizers, `tests/data/test_grain_pipeline.py`
measures it on the embedded corpus.
"""

import numpy as np

from tokdrop_keras.models.architectures import architecture_of_tokenizer


class WordPieceEncoder:
    """BERT's WordPiece (`BertTokenizer`, `DistilBertTokenizer`) on
    Hugging Face `tokenizers`: BERT's normalizer (lowercasing and accents
    as the keras-hub tokenizer says), punctuation splitting, greedy
    longest-match WordPiece with `##` continuations.

    Args:
        vocabulary: list of tokens, in id order.
        lowercase: bool.
        strip_accents: bool.
        unknown_token: the token of words the vocabulary cannot spell.

    Example:
    ```python
    from tokdrop_keras.data.text_encoders import WordPieceEncoder
    encoder = WordPieceEncoder(
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "whale", "!",
         "wh", "##ale"],
        lowercase=True,
    )
    assert encoder.encode("The whale!").tolist() == [5, 6, 7]
    assert encoder.encode("Whales").tolist() == [1]  # no "##s"
    ```
    """

    def __init__(self, vocabulary, lowercase=True, strip_accents=False, unknown_token="[UNK]"):
        self.vocabulary = list(vocabulary)
        self.lowercase = lowercase
        self.strip_accents = strip_accents
        self.unknown_token = unknown_token
        self._tokenizer = None

    def _build(self):
        import tokenizers

        model = tokenizers.models.WordPiece(
            {token: i for i, token in enumerate(self.vocabulary)},
            unk_token=self.unknown_token,
            max_input_chars_per_word=100,
        )
        tokenizer = tokenizers.Tokenizer(model)
        tokenizer.normalizer = tokenizers.normalizers.BertNormalizer(
            clean_text=True,
            handle_chinese_chars=True,
            strip_accents=self.strip_accents,
            lowercase=self.lowercase,
        )
        tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.BertPreTokenizer()
        return tokenizer

    def encode(self, text):
        """The int32 token ids of `text`, without special tokens."""
        if self._tokenizer is None:
            self._tokenizer = self._build()
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids
        return np.asarray(ids, dtype=np.int32)

    def __getstate__(self):
        return {**self.__dict__, "_tokenizer": None}


class BytePairEncoder:
    """RoBERTa's byte-level BPE (`RobertaTokenizer`) on Hugging Face
    `tokenizers`: GPT-2's split, bytes mapped to unicode, then the
    vocabulary's merges.

    Args:
        vocabulary: dict token -> id.
        merges: list of `"a b"` merge rules, in rank order.

    Example:
    ```python
    from tokdrop_keras.data.text_encoders import BytePairEncoder
    encoder = BytePairEncoder(
        {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "a": 4, "b": 5,
         "ab": 6, "Ġ": 7, "Ġab": 8, "<mask>": 9},
        merges=["a b", "Ġ ab"],
    )
    assert encoder.encode("ab ab").tolist() == [6, 8]
    ```
    """

    def __init__(self, vocabulary, merges):
        self.vocabulary = dict(vocabulary)
        self.merges = list(merges)
        self._tokenizer = None

    def _build(self):
        import tokenizers

        merges = [tuple(merge.split(" ")) for merge in self.merges]
        tokenizer = tokenizers.Tokenizer(
            tokenizers.models.BPE(vocab=self.vocabulary, merges=merges)
        )
        # GPT-2's split and byte-to-unicode map, as RoBERTa's tokenizer.
        tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(
            add_prefix_space=False, use_regex=True
        )
        return tokenizer

    def encode(self, text):
        """The int32 token ids of `text`, without special tokens."""
        if self._tokenizer is None:
            self._tokenizer = self._build()
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids
        return np.asarray(ids, dtype=np.int32)

    def __getstate__(self):
        return {**self.__dict__, "_tokenizer": None}


class SentencePieceEncoder:
    """XLM-R's SentencePiece (`XLMRobertaTokenizer`) on `sentencepiece`,
    with fairseq's ids as keras-hub maps them: every piece id one up,
    SentencePiece's `<unk>` (0) to fairseq's `<unk>` (3).

    Args:
        proto: the serialized SentencePiece model (bytes).

    Example:
    ```python
    from tokdrop_keras.data.text_encoders import SentencePieceEncoder
    tokenizer = tokdrop_keras.data.load_tokenizer("xlm_roberta")
    encoder = SentencePieceEncoder(tokenizer.proto)
    ids = encoder.encode("Call me Ishmael.")
    assert ids.tolist() == np.asarray(tokenizer(["Call me Ishmael."])[0]).tolist()
    ```
    """

    def __init__(self, proto):
        self.proto = bytes(proto)
        self._processor = None

    def encode(self, text):
        """The int32 token ids of `text`, without special tokens."""
        if self._processor is None:
            import sentencepiece

            self._processor = sentencepiece.SentencePieceProcessor(
                model_proto=self.proto
            )
        ids = np.asarray(self._processor.encode(text), dtype=np.int32)
        # fairseq's order: <s> <pad> </s> <unk> first, pieces one up.
        return np.where(ids == 0, 3, ids + 1).astype(np.int32)

    def __getstate__(self):
        return {**self.__dict__, "_processor": None}


def text_encoder(tokenizer):
    """The TensorFlow-free encoder of a keras-hub tokenizer of one of the
    architectures (`BertTokenizer`, `DistilBertTokenizer`,
    `RobertaTokenizer`, `XLMRobertaTokenizer`): the same vocabulary, the
    ids of `tokenizer(text)`.

    Args:
        tokenizer: the keras-hub tokenizer.

    Returns:
        A picklable object with `encode(text) -> int32 array`.

    Example:
    ```python
    from tokdrop_keras.data.text_encoders import text_encoder
    tokenizer = tokdrop_keras.data.load_tokenizer("bert")
    encoder = text_encoder(tokenizer)
    assert encoder.encode("Call me Ishmael.").tolist() == [543, 131, 4663, 17]
    ```
    """
    kind = architecture_of_tokenizer(tokenizer).tokenizer_kind
    if kind == "wordpiece":
        return WordPieceEncoder(
            tokenizer.get_vocabulary(),
            lowercase=tokenizer.lowercase,
            strip_accents=tokenizer.strip_accents,
            unknown_token=tokenizer.oov_token,
        )
    if kind == "byte_pair":
        return BytePairEncoder(tokenizer.vocabulary, tokenizer.merges)
    proto = tokenizer.proto
    if isinstance(proto, str):  # a file name
        with open(proto, "rb") as file:
            proto = file.read()
    return SentencePieceEncoder(proto)
