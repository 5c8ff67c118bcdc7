"""The masked-LM pretraining pipeline on Grain, without TensorFlow.

The same stages as the tf.data pipeline (`pretraining_dataset`), on the
libraries made for them: documents (a Grain `MapDataset`: sharded per
process, shuffled per epoch, repeated) → token ids (`text_encoders`:
Hugging Face `tokenizers`, `sentencepiece`) → packed pieces of
`sequence_length - 2` ids (BERT's cut; RoBERTa's FULL-SENTENCES with `</s>`
after each document) → shuffled in a window → batches with start, end and
padding → masked 80/10/10 (`NumpyMaskedLMInputs`).

Worker processes (`workers`, Grain's `mp_prefetch`) tokenize and pack;
the main process masks each batch with a generator seeded by
`(seed, batch index)`, so the stream is a function of the seed (and the
number of workers, which decides how documents are spread), and
`skip(n)` resumes it where an uninterrupted run would be after `n`
batches without masking what it skips.
"""

import collections
import copy
import os

import numpy as np

from tokdrop_keras.data.numpy_masking import NumpyMaskedLMInputs
from tokdrop_keras.data.numpy_masking import max_predictions_for
from tokdrop_keras.data.text_encoders import text_encoder
from tokdrop_keras.inputs import MASK_RATE
from tokdrop_keras.models.architectures import get_architecture
from tokdrop_keras.special_tokens import special_token_roles

SEQUENCE_SHUFFLE_WINDOW = 10_000
# Sources only tf.data reads (they need TensorFlow: TFDS, Model Garden's
# pre-masked records).
TF_DATA_ONLY_PREFIXES = ("tfds:", "model_garden:")
TFRECORD_PREFIX = "tfrecord:"
# Documents checked at construction for a first token.
DOCUMENTS_CHECKED = 256
# The states of the last batches read that a stream keeps (`state_at`):
# enough for the batches Keras and the device read ahead of the step.
KEPT_POSITIONS = 64
# Where Grain's workers put the batches they hand over.
SHARED_MEMORY_DIR = "/dev/shm"


def _grain():
    try:
        import grain
    except ImportError as error:
        raise ImportError(
            "The Grain input pipeline needs the `grain` package "
            "(pip install grain), or data_pipeline='tf.data' with "
            "TensorFlow installed."
        ) from error
    return grain


def read_source_documents(source, split="train"):
    """The documents of a source, as a list: strings for text sources,
    int32 token-id arrays for `"tfrecord:<glob>"`.

    Text sources are read whole into memory (the embedded corpus is 20 MB);
    for a corpus larger than that, write token-id records once
    (`write_pretraining_tfrecords`) and read those.

    Args:
        source: `"embedded"`, a text file or glob (one document per line,
            `.gz` read transparently), or `"tfrecord:<glob>"`.
        split: `"train"`, `"validation"` or `"all"` for text sources (see
            `is_validation_document`); record sources are one split.

    Raises:
        ValueError: for a source that needs TensorFlow, missing files, an
            empty corpus or an empty split.

    Example:
    ```python
    from tokdrop_keras.data.grain_pipeline import read_source_documents
    held_out = read_source_documents("embedded", "validation")
    assert held_out[0].startswith("It is a truth universally acknowledged")
    ```
    """
    from tokdrop_keras.data.corpus import EMBEDDED_CORPUS_PATTERN
    from tokdrop_keras.data.corpus import SPLITS
    from tokdrop_keras.data.corpus import is_validation_document
    from tokdrop_keras.data.corpus import read_documents

    if source.startswith(TF_DATA_ONLY_PREFIXES):
        raise ValueError(
            f"The source {source!r} is read by the tf.data pipeline only "
            "(it needs TensorFlow): use data_pipeline='tf.data', or a text "
            "or 'tfrecord:' source."
        )
    if source.startswith(TFRECORD_PREFIX):
        from tokdrop_keras.data.record_files import token_id_documents

        return list(token_id_documents(source[len(TFRECORD_PREFIX) :]))
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}; expected one of {SPLITS}.")
    pattern = EMBEDDED_CORPUS_PATTERN if source == "embedded" else source
    documents = list(read_documents(pattern))
    if split != "all":
        held_out = split == "validation"
        documents = [
            text for text in documents if is_validation_document(text) == held_out
        ]
    if not documents:
        raise ValueError(
            f"The {split!r} split of {source!r} holds no document (2% of "
            "the documents, chosen by their text, are 'validation'; the "
            "rest 'train')."
        )
    return documents


class _TokenIds:
    """Document → int32 token ids (plus the separator, if any)."""

    def __init__(self, encoder, separator_id):
        self.encoder = encoder
        self.separator = (
            np.array([separator_id], np.int32) if separator_id is not None else None
        )

    def __call__(self, document):
        if isinstance(document, str):
            token_ids = self.encoder.encode(document)
        else:
            token_ids = np.asarray(document, np.int32)
        if self.separator is not None:
            token_ids = np.concatenate([token_ids, self.separator])
        return token_ids


def _pack_iterator_class():
    grain = _grain()

    class PackIterator(grain.DatasetIterator):
        """Concatenates the parent's id arrays and cuts pieces of `length`
        (the last piece of a finite stream may be shorter).

        Its state is the parent's state before the document the next piece
        starts in, and how many of that document's ids were already cut:
        restoring reads one document again, whatever the position."""

        def __init__(self, parent, length):
            super().__init__(parent)
            self._length = length
            self._buffer = np.zeros(0, np.int32)
            # (parent state before it, ids) of each document in the buffer,
            # and how many ids of the first one were already cut off.
            self._documents = collections.deque()
            self._consumed = 0

        def _read_document(self):
            state = self._parent.get_state()
            token_ids = next(self._parent)
            self._documents.append((state, len(token_ids)))
            self._buffer = np.concatenate([self._buffer, token_ids])

        def _cut(self, count):
            piece = self._buffer[:count]
            self._buffer = self._buffer[count:]
            self._consumed += len(piece)
            while self._documents and self._consumed >= self._documents[0][1]:
                self._consumed -= self._documents.popleft()[1]
            return piece

        def __next__(self):
            while len(self._buffer) < self._length:
                try:
                    self._read_document()
                except StopIteration:
                    if len(self._buffer):
                        return self._cut(len(self._buffer))
                    raise
            return self._cut(self._length)

        def get_state(self):
            if not self._documents:
                return {"parent": self._parent.get_state(), "consumed": 0}
            return {"parent": self._documents[0][0], "consumed": self._consumed}

        def set_state(self, state):
            self._parent.set_state(state["parent"])
            self._buffer = np.zeros(0, np.int32)
            self._documents.clear()
            self._consumed = 0
            if state["consumed"]:
                self._read_document()
                self._cut(state["consumed"])

    return PackIterator


def _pack_dataset(parent, length):
    grain = _grain()
    iterator_class = _pack_iterator_class()

    class PackIterDataset(grain.IterDataset):
        def __iter__(self):
            return iterator_class(self._parent.__iter__(), length)

    return PackIterDataset(parent)


def _concatenate(parts):
    """Batches of several shards, side by side (rows in shard order)."""
    if len(parts) == 1:
        return parts[0]
    x = {key: np.concatenate([part[0][key] for part in parts]) for key in parts[0][0]}
    return (
        x,
        np.concatenate([part[1] for part in parts]),
        np.concatenate([part[2] for part in parts]),
    )


def _masked_dataset(
    packed, shards, inputs, seed, start=0, count=None, state=None, positions=None
):
    """Masks each shard's packed batches in order (batch `i` of shard `s`
    with the generator `default_rng([seed, s, i])`), from batch `start`
    (reached by re-packing the batches before it, or at once from `state`,
    the pipeline's state at `start`), and puts the shards' batches side by
    side. `positions` keeps the states of the last batches read, by
    position, for `state_at`."""
    grain = _grain()
    positions = collections.OrderedDict() if positions is None else positions

    class MaskedBatchesIterator(grain.DatasetIterator):
        def __init__(self, parents):
            super().__init__(parents)
            if state is not None:
                for parent, parent_state in zip(self._parents, state["parents"]):
                    parent.set_state(parent_state)
            else:
                for parent in self._parents:
                    for _ in range(start):  # packed, not masked: cheap to skip
                        next(parent)
            self._index = start

        def __next__(self):
            if count is not None and self._index >= start + count:
                raise StopIteration
            parts = []
            for shard, parent in zip(shards, self._parents):
                rng = np.random.default_rng([seed, shard, self._index])
                parts.append(inputs.mask(next(parent), rng))
            self._index += 1
            # Every iterator is at the same state at the same position.
            positions[self._index] = self.get_state()
            while len(positions) > KEPT_POSITIONS:
                positions.popitem(last=False)
            return _concatenate(parts)

        def get_state(self):
            return {
                "parents": [parent.get_state() for parent in self._parents],
                "index": self._index,
            }

        def set_state(self, state):
            for parent, parent_state in zip(self._parents, state["parents"]):
                parent.set_state(parent_state)
            self._index = state["index"]

    class MaskedBatchesIterDataset(grain.IterDataset):
        """Masked-LM batches `(x, mask_ids, mask_weights)`; `skip(n)` and
        `take(n)` as on a `tf.data.Dataset`; `state_at(n)` and
        `restored(state)` to resume at batch `n` without reading the
        batches before it."""

        def __iter__(self):
            return MaskedBatchesIterator([parent.__iter__() for parent in self._parents])

        def _with(self, **changes):
            settings = dict(
                start=start, count=count, state=state, positions=positions
            )
            settings.update(changes)
            return _masked_dataset(packed, shards, inputs, seed, **settings)

        def skip(self, batches):
            if not batches:
                return self
            return self._with(
                start=start + batches, state=None,
                count=None if count is None else max(count - batches, 0),
            )

        def take(self, batches):
            return self._with(count=batches if count is None else min(count, batches))

        def state_at(self, batches):
            """The JSON-able state after `batches` batches of the stream
            (one of the last batches any of its iterators read), or `None`
            if none read it lately."""
            return copy.deepcopy(positions.get(batches))

        def restored(self, state):
            """This stream from the position of `state` (`state_at`), as
            `skip` would reach it, in the time of one shuffle window."""
            if len(state["parents"]) != len(self._parents):
                raise ValueError(
                    f"The data state has {len(state['parents'])} shards; "
                    f"this process reads {len(self._parents)}."
                )
            return self._with(start=state["index"], state=state, count=None)

    return MaskedBatchesIterDataset(packed)


def grain_pretraining_dataset(
    source="embedded",
    split="train",
    sequence_length=128,
    batch_size=32,
    vocabulary=None,
    seed=0,
    repeat=True,
    mask_rate=MASK_RATE,
    max_predictions=None,
    max_sequence_length=None,
    shuffle=True,
    architecture="bert",
    tokenizer=None,
    workers=0,
    shard_index=0,
    shard_count=1,
    documents=None,
):
    """Masked-LM batches for `TokenDropMaskedLM`, on Grain, without
    TensorFlow: `pretraining_dataset`'s batches (same arguments, same
    outputs) for text and `"tfrecord:"` sources.

    Tokenized with `tokenizers` / `sentencepiece` on the keras-hub
    tokenizer's vocabulary (`text_encoders`), packed as the architecture
    was pretrained (BERT's cut; RoBERTa's and XLM-R's FULL-SENTENCES),
    masked 80/10/10 with the tokenizer's special tokens
    (`NumpyMaskedLMInputs`). Deterministic from `seed` (for a given
    `workers` and `shard_count`); `.skip(n)` continues where an
    uninterrupted stream would be after `n` batches.

    Args:
        source: `"embedded"`, a text file or glob (one document per line),
            or `"tfrecord:<glob>"` (records of
            `write_pretraining_tfrecords`).
        split: `"train"`, `"validation"` or `"all"` for text sources.
        sequence_length: int. Tokens per sequence, specials included.
        batch_size: int. Batches this process reads (incomplete last
            batches are dropped).
        vocabulary: the tokenizer's vocabulary (see `load_tokenizer`);
            `None` is the shipped one.
        seed: int. Seeds the shuffles and the masks.
        repeat: bool. Repeat forever, reshuffled every pass.
        mask_rate: float. Fraction of the tokens to predict.
        max_predictions: int or `None` (`round(mask_rate * sequence_length)`).
        max_sequence_length: int or `None`: the backbone's, checked now.
        shuffle: bool. Shuffle documents and sequences.
        architecture: one of `tokdrop_keras.models.ARCHITECTURE_NAMES`.
        tokenizer: a keras-hub tokenizer of the architecture; overrides
            `vocabulary`.
        workers: int. Processes that tokenize and pack (0: this one).
        shard_index: int, or ints: this process's shards of the documents
            (several: their batches side by side, `batch_size` shared out).
        shard_count: int. Number of shards: a global batch holds one part
            of each, so the same `shard_count` gives the same global
            batches on any number of processes.
        documents: the documents, if already read
            (`read_source_documents(source, split)`).

    Returns:
        A Grain `IterDataset` of `(x, mask_ids, mask_weights)` NumPy
        batches, with `skip(n)` and `take(n)`.

    Example:
    ```python
    from tokdrop_keras.data.grain_pipeline import grain_pretraining_dataset
    dataset = grain_pretraining_dataset(
        sequence_length=32, batch_size=4, shuffle=False
    )
    x, mask_ids, mask_weights = next(iter(dataset))
    assert x["token_ids"].shape == (4, 32)
    assert x["mask_positions"].shape == mask_ids.shape == (4, 5)  # 15% of 32
    second = next(iter(dataset.skip(1)))[0]["token_ids"]
    batches = iter(dataset)
    next(batches)
    assert (next(batches)[0]["token_ids"] == second).all()
    ```
    """
    grain = _grain()
    if sequence_length < 3:
        raise ValueError(
            f"sequence_length={sequence_length} leaves no room for tokens "
            "between the start and end tokens; use at least 3."
        )
    if max_sequence_length is not None and sequence_length > max_sequence_length:
        raise ValueError(
            f"sequence_length={sequence_length} is above the backbone's "
            f"max_sequence_length={max_sequence_length}."
        )
    predictions = (
        max_predictions
        if max_predictions is not None
        else max_predictions_for(sequence_length, mask_rate)
    )
    if predictions < 1:
        raise ValueError(
            f"sequence_length={sequence_length} with mask_rate={mask_rate} "
            "masks no token (max_predictions rounds to 0): nothing to learn."
        )
    for index in (shard_index,) if isinstance(shard_index, int) else shard_index:
        if not 0 <= index < shard_count:
            raise ValueError(
                f"shard_index={index} is not one of the {shard_count} shards."
            )
    architecture_spec = get_architecture(architecture)
    if tokenizer is None:
        from tokdrop_keras.data.tokenizers import load_tokenizer

        tokenizer = load_tokenizer(architecture, vocabulary)
    if documents is None:
        documents = read_source_documents(source, split)
    separator_id = None
    if architecture_spec.packing == "full_sentences":
        separator_id = special_token_roles(tokenizer)["end"]
    inputs = NumpyMaskedLMInputs(
        tokenizer,
        sequence_length,
        mask_rate,
        predictions,
        input_keys=architecture_spec.input_keys,
    )
    to_token_ids = _TokenIds(text_encoder(tokenizer), separator_id)
    separators = int(separator_id is not None)
    if not any(
        len(to_token_ids(document)) > separators
        for document in documents[:DOCUMENTS_CHECKED]
    ):
        raise ValueError(
            f"The documents of {source!r} tokenize to nothing with "
            f"{type(tokenizer).__name__} (the first {DOCUMENTS_CHECKED} "
            "checked): no token to pretrain on. Is it the right file and "
            "vocabulary?"
        )

    shards = (shard_index,) if isinstance(shard_index, int) else tuple(shard_index)
    if batch_size % len(shards):
        raise ValueError(
            f"batch_size={batch_size} cannot be shared out to this process's "
            f"{len(shards)} data shards."
        )
    if len(documents) < shard_count:
        raise ValueError(
            f"{len(documents)} documents cannot be shared out to "
            f"{shard_count} data shards."
        )
    buffer_size = 0
    if workers:
        buffer_size = worker_buffer_size(
            batch_size // len(shards), sequence_length, workers * len(shards)
        )
    packed = [
        _packed_shard(
            documents, to_token_ids, inputs, sequence_length,
            batch_size // len(shards), seed, shuffle, repeat, workers,
            shard, shard_count, buffer_size,
        )
        for shard in shards
    ]
    return _masked_dataset(packed, shards, inputs, seed)


def worker_buffer_size(batch_size, sequence_length, workers):
    """Batches each of `workers` Grain worker processes keeps ready.

    A shuffle window's worth (`SEQUENCE_SHUFFLE_WINDOW / batch_size`): the
    workers refill their windows together, and the step would wait seconds
    for it. Each ready batch is an array in shared memory, which this
    process holds open (two file descriptors) and which takes room in
    /dev/shm, so the buffers are bounded by a quarter of /dev/shm's free
    space and a quarter of the open files this process may have (a second
    iterator may be open) (its soft limit is
    raised to the hard one first); a warning says when that leaves less
    than a window.

    Example:
    ```python
    from tokdrop_keras.data.grain_pipeline import worker_buffer_size
    assert 1 <= worker_buffer_size(32, 128, workers=2) <= 313
    ```
    """
    import resource
    import warnings

    wanted = -(-SEQUENCE_SHUFFLE_WINDOW // batch_size)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    bound = wanted
    if soft != resource.RLIM_INFINITY:
        bound = min(bound, soft // 4 // (2 * workers))
    if os.path.isdir(SHARED_MEMORY_DIR):
        stat = os.statvfs(SHARED_MEMORY_DIR)
        batch_bytes = batch_size * sequence_length * np.dtype(np.int32).itemsize
        # Held in this process and queued in the worker: two per batch.
        bound = min(bound, stat.f_bavail * stat.f_frsize // 4 // (2 * workers * batch_bytes))
    if bound < wanted:
        warnings.warn(
            f"Grain's {workers} data workers keep {max(bound, 1)} batches "
            f"ready each, not a shuffle window's {wanted}: the open-file "
            f"limit ({soft}) or the free space in {SHARED_MEMORY_DIR} bounds "
            "them, and the step may wait while the workers refill their "
            "shuffle windows (raise `ulimit -n`, or a container's "
            "--shm-size)."
        )
    return max(bound, 1)


def _packed_shard(
    documents, to_token_ids, inputs, sequence_length, batch_size, seed,
    shuffle, repeat, workers, shard_index, shard_count, buffer_size,
):
    """One shard's batches of packed ids (start, end, padding), unmasked."""
    grain = _grain()
    dataset = grain.MapDataset.source(documents)
    if shard_count > 1:
        dataset = dataset[shard_index::shard_count]
    if shuffle:
        dataset = dataset.shuffle(seed=seed)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.map(to_token_ids).to_iter_dataset(
        grain.ReadOptions(num_threads=1, prefetch_buffer_size=64)
    )
    pieces = _pack_dataset(dataset, sequence_length - 2)
    if shuffle:
        pieces = grain.experimental.WindowShuffleIterDataset(
            pieces, window_size=SEQUENCE_SHUFFLE_WINDOW, seed=seed
        )
    packed = pieces.batch(batch_size, drop_remainder=True, batch_fn=inputs.pack)
    if workers:
        from absl import flags

        # Grain's workers read absl flags, which only `absl.app.run`
        # parses: take the defaults where nothing parsed them.
        if not flags.FLAGS.is_parsed():
            flags.FLAGS.mark_as_parsed()
        packed = packed.mp_prefetch(
            grain.MultiprocessingOptions(
                num_workers=workers,
                per_worker_buffer_size=buffer_size,
            )
        )
    return packed
