"""Each architecture's tokenizer: load a vocabulary, or learn one.

Three kinds, each a keras-hub tokenizer class:

| kind | architectures | files | keras-hub class |
| --- | --- | --- | --- |
| `wordpiece` | `bert`, `distil_bert` | `vocab.txt` | `BertTokenizer`, `DistilBertTokenizer` |
| `byte_pair` | `roberta` | `vocab.json` + `merges.txt` | `RobertaTokenizer` |
| `sentencepiece` | `xlm_roberta` | `sentencepiece.bpe.model` | `XLMRobertaTokenizer` |

The shipped vocabularies (`tokdrop_keras/data/assets/`) were learned from
the embedded corpus by `train_tokenizer` (`experiments/build_vocabulary.py
--kind ...`). The byte-pair and SentencePiece files follow fairseq's layout,
as RoBERTa's and XLM-R's own: `<s> <pad> </s> <unk>` are ids 0-3 and
`<mask>` is the last id.
"""

import json
import os

import keras_hub
import tokdrop_keras.filesystem as filesystem

from tokdrop_keras.data.corpus import ASSETS_DIR
from tokdrop_keras.data.corpus import read_documents
from tokdrop_keras.data.vocabulary import EMBEDDED_VOCABULARY_FILE
from tokdrop_keras.data.vocabulary import bert_tokenizer
from tokdrop_keras.data.vocabulary import train_vocabulary
from tokdrop_keras.models.architectures import ARCHITECTURE_NAMES
from tokdrop_keras.models.architectures import MERGES_HEADER
from tokdrop_keras.models.architectures import TOKENIZER_FILES
from tokdrop_keras.models.architectures import get_architecture
from tokdrop_keras.models.checkpoints import find_checkpoint
from tokdrop_keras.models.transformers_checkpoint import is_transformers_checkpoint
from tokdrop_keras.models.transformers_checkpoint import load_transformers_tokenizer
from tokdrop_keras.special_tokens import special_token_ids

TOKENIZER_KINDS = ("wordpiece", "byte_pair", "sentencepiece")
BYTE_PAIR_VOCABULARY_FILE, BYTE_PAIR_MERGES_FILE = TOKENIZER_FILES["byte_pair"]
(SENTENCEPIECE_FILE,) = TOKENIZER_FILES["sentencepiece"]
SHIPPED_VOCABULARIES = {
    "wordpiece": EMBEDDED_VOCABULARY_FILE,
    "byte_pair": os.path.join(ASSETS_DIR, "byte_pair"),
    "sentencepiece": os.path.join(ASSETS_DIR, "sentencepiece", SENTENCEPIECE_FILE),
}
# fairseq's special tokens (RoBERTa, XLM-R): ids 0-3, and `<mask>` last.
FAIRSEQ_SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>")
FAIRSEQ_MASK_TOKEN = "<mask>"
# SentencePiece's trainer skips longer sentences: documents are cut.
SENTENCEPIECE_PIECE_CHARACTERS = 2_000


def tokenizer_kind(architecture):
    """The tokenizer kind of an architecture (`"wordpiece"`, ...).

    Example:
    ```python
    from tokdrop_keras.data import tokenizer_kind
    assert tokenizer_kind("roberta") == "byte_pair"
    assert tokenizer_kind("distil_bert") == "wordpiece"
    ```
    """
    return get_architecture(architecture).tokenizer_kind


def _read(path, mode="r"):
    with filesystem.open_file(path, mode) as file:
        return file.read()


def _require_files(kind, paths):
    missing = [path for path in paths if not filesystem.exists(path)]
    if missing:
        raise ValueError(
            f"The {kind} vocabulary is missing {missing}; a {kind} "
            f"vocabulary is {list(TOKENIZER_FILES[kind])}."
        )


def _byte_pair_paths(vocabulary):
    if filesystem.isdir(vocabulary):
        return (
            os.path.join(vocabulary, BYTE_PAIR_VOCABULARY_FILE),
            os.path.join(vocabulary, BYTE_PAIR_MERGES_FILE),
        )
    return vocabulary, os.path.join(
        os.path.dirname(vocabulary), BYTE_PAIR_MERGES_FILE
    )


def load_tokenizer(architecture="bert", vocabulary=None, sequence_length=None):
    """The keras-hub tokenizer of an architecture, on a vocabulary.

    Args:
        architecture: one of `tokdrop_keras.models.ARCHITECTURE_NAMES`, or
            a checkpoint folder: a Hugging Face transformers checkpoint
            (its `vocab.txt` / `vocab.json` + `merges.txt` /
            `sentencepiece.bpe.model`, see
            `tokdrop_keras.models.transformers_checkpoint`), a keras-hub
            preset, or an export folder holding one in `preset/`.
        vocabulary: `None` (the vocabulary shipped for the embedded corpus)
            or, by kind: a WordPiece `vocab.txt` (or a list of tokens); a
            folder holding `vocab.json` and `merges.txt` (or the
            `vocab.json`); a SentencePiece `.model` file (or a folder
            holding `sentencepiece.bpe.model`).
        sequence_length: int or `None`: pad/truncate outputs (else ragged).

    Returns:
        `BertTokenizer` / `DistilBertTokenizer` (lowercase),
        `RobertaTokenizer` or `XLMRobertaTokenizer`.

    Raises:
        ValueError: for missing files, or a vocabulary without the start,
            end, mask or padding token.

    Example:
    ```python
    from tokdrop_keras.data import load_tokenizer
    roberta = load_tokenizer("roberta")
    assert isinstance(roberta, keras_hub.models.RobertaTokenizer)
    ids = roberta(["Call me Ishmael."])[0]
    assert roberta.detokenize([ids]) == ["Call me Ishmael."]
    xlm_roberta = load_tokenizer("xlm_roberta")
    assert xlm_roberta.pad_token_id == 1  # fairseq's order
    assert xlm_roberta.mask_token_id == xlm_roberta.vocabulary_size() - 1
    ```
    """
    if architecture not in ARCHITECTURE_NAMES:
        if vocabulary is not None:
            raise ValueError(
                "Pass either a checkpoint folder or an architecture and a "
                f"`vocabulary`. Received: {architecture!r}, {vocabulary!r}"
            )
        return checkpoint_tokenizer(architecture, sequence_length)
    architecture_spec = get_architecture(architecture)
    kind = architecture_spec.tokenizer_kind
    tokenizer_class = architecture_spec.tokenizer_class
    if vocabulary is None:
        vocabulary = SHIPPED_VOCABULARIES[kind]
    if kind == "wordpiece":
        tokenizer = bert_tokenizer(
            vocabulary,
            sequence_length=sequence_length,
            tokenizer_class=tokenizer_class,
        )
    elif kind == "byte_pair":
        vocabulary_path, merges_path = _byte_pair_paths(os.fspath(vocabulary))
        _require_files(kind, (vocabulary_path, merges_path))
        merges = [
            line
            for line in _read(merges_path).splitlines()
            if line and not line.startswith("#version")
        ]
        tokenizer = tokenizer_class(
            vocabulary=json.loads(_read(vocabulary_path)),
            merges=merges,
            sequence_length=sequence_length,
        )
    else:
        path = os.fspath(vocabulary)
        if filesystem.isdir(path):
            path = os.path.join(path, SENTENCEPIECE_FILE)
        _require_files(kind, (path,))
        tokenizer = tokenizer_class(
            proto=_read(path, "rb"), sequence_length=sequence_length
        )
    special_token_ids(tokenizer)  # raises naming a missing token
    return tokenizer


def checkpoint_tokenizer(path, sequence_length=None):
    """The keras-hub tokenizer of a checkpoint folder (see
    `load_tokenizer`).

    Raises:
        ValueError: for a path that is no checkpoint folder, naming the
            architectures it could have meant.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data.tokenizers import checkpoint_tokenizer
    tokenizer = tokdrop_keras.load_tokenizer("roberta")
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=tokenizer.vocabulary_size(),
        max_sequence_length=16, num_layers=2, architecture="roberta",
    )
    folder = os.path.join(tempfile.mkdtemp(), "preset")
    backbone.save_to_preset(folder)
    tokenizer.save_to_preset(folder)
    again = checkpoint_tokenizer(folder, sequence_length=8)
    assert again(["Call me Ishmael."]).shape == (1, 8)
    ```
    """
    path = os.fspath(path)
    if not filesystem.isdir(path):
        raise ValueError(
            f"{path!r} is neither an architecture ({list(ARCHITECTURE_NAMES)}) "
            "nor a checkpoint folder (a Hugging Face checkpoint, a keras-hub "
            "preset or an export)."
        )
    if is_transformers_checkpoint(path):
        tokenizer = load_transformers_tokenizer(
            path, sequence_length=sequence_length
        )
    else:
        _, folder, _ = find_checkpoint(path)  # raises if neither
        options = {} if sequence_length is None else {"sequence_length": sequence_length}
        tokenizer = keras_hub.tokenizers.Tokenizer.from_preset(folder, **options)
    special_token_ids(tokenizer)  # raises naming a missing token
    return tokenizer


def _chunks(text, size):
    """`text` cut at spaces into pieces of about `size` characters."""
    start = 0
    while start < len(text):
        end = text.rfind(" ", start, start + size) if start + size < len(text) else len(text)
        if end <= start:
            end = start + size
        yield text[start:end].strip()
        start = end


def _train_byte_pair(files, vocabulary_size, output_dir):
    import tokenizers

    model = tokenizers.Tokenizer(tokenizers.models.BPE())
    model.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(
        add_prefix_space=False
    )
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=vocabulary_size - 1,  # `<mask>` is added last
        special_tokens=list(FAIRSEQ_SPECIAL_TOKENS),
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    model.train_from_iterator(read_documents(files), trainer=trainer)
    state = json.loads(model.to_str())["model"]
    vocabulary = dict(sorted(state["vocab"].items(), key=lambda item: item[1]))
    vocabulary[FAIRSEQ_MASK_TOKEN] = len(vocabulary)
    merges = [
        merge if isinstance(merge, str) else " ".join(merge)
        for merge in state["merges"]
    ]
    filesystem.makedirs(output_dir)
    with filesystem.open_file(
        os.path.join(output_dir, BYTE_PAIR_VOCABULARY_FILE), "w"
    ) as file:
        json.dump(vocabulary, file, ensure_ascii=False)
    with filesystem.open_file(
        os.path.join(output_dir, BYTE_PAIR_MERGES_FILE), "w"
    ) as file:
        file.write("".join(line + "\n" for line in [MERGES_HEADER, *merges]))
    return output_dir


def _train_sentencepiece(files, vocabulary_size, output_dir):
    import sentencepiece

    def sentences():
        for document in read_documents(files):
            yield from _chunks(document, SENTENCEPIECE_PIECE_CHARACTERS)

    filesystem.makedirs(output_dir)
    path = os.path.join(output_dir, SENTENCEPIECE_FILE)
    with filesystem.open_file(path, "wb") as writer:
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=sentences(),
            model_writer=writer,
            # XLMRobertaTokenizer adds `<pad>` and `<mask>` to the pieces.
            vocab_size=vocabulary_size - 2,
            # XLM-R's model is a unigram one (whatever its file name says);
            # transformers' XLM-R tokenizer reads the pieces as unigram pieces.
            model_type="unigram",
            hard_vocab_limit=False,  # a small corpus may not fill it
            # fairseq's (and XLM-R's) layout: <unk> 0, <s> 1, </s> 2, no pad.
            unk_id=0,
            bos_id=1,
            eos_id=2,
            pad_id=-1,
            character_coverage=1.0,
            byte_fallback=False,
            num_threads=1,
            minloglevel=2,
        )
    return path


def train_tokenizer(kind, files, vocabulary_size, output):
    """Learns a vocabulary of a kind from text files.

    Args:
        kind: one of `TOKENIZER_KINDS`.
        files: a text file, glob or list of them, one document per line.
        vocabulary_size: int. The most tokens in the vocabulary (a small
            corpus may run out of merges or pieces before it).
        output: for `wordpiece` the `vocab.txt` to write; else a folder.

    Returns:
        What `load_tokenizer`'s `vocabulary` takes: the file or folder.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data import load_tokenizer
    from tokdrop_keras.data import train_tokenizer
    folder = tempfile.mkdtemp()
    corpus = os.path.join(folder, "corpus.txt")
    with open(corpus, "w") as file:
        file.write("The whale, the whale! Call me Ishmael.\\n" * 50)
    vocabulary = train_tokenizer(
        "byte_pair", corpus, 300, os.path.join(folder, "bpe")
    )
    tokenizer = load_tokenizer("roberta", vocabulary)
    size = tokenizer.vocabulary_size()  # 256 bytes, 4 specials, merges
    assert 260 < size <= 300
    assert tokenizer.id_to_token(size - 1) == "<mask>"  # as RoBERTa's
    ids = tokenizer(["the whale"])[0]
    assert [tokenizer.id_to_token(i) for i in ids] == ["the", "Ġwhale"]
    ```
    """
    if kind not in TOKENIZER_KINDS:
        raise ValueError(
            f"Unknown tokenizer kind {kind!r}; choose one of "
            f"{list(TOKENIZER_KINDS)}."
        )
    if kind == "wordpiece":
        train_vocabulary(
            files, vocabulary_size=vocabulary_size, vocabulary_output_file=output
        )
        return output
    if kind == "byte_pair":
        return _train_byte_pair(files, vocabulary_size, output)
    return _train_sentencepiece(files, vocabulary_size, output)
