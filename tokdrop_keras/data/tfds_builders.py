"""TFDS builders for the embedded data, and loading any TFDS dataset.

Importing this module registers two builders, prepared offline from the
package's files:

- `tokdrop_corpus`: the embedded pretraining corpus, feature `text`;
  splits `train` and `validation` (the held-out 2%, see
  `is_validation_document`).
- `tokdrop_sentiment`: the embedded sentiment set, features `sentence` and
  `label` (1 positive, 0 negative); splits `train`, `dev`, `test`.
"""

import os
import socket

import tensorflow_datasets as tfds

from tokdrop_keras.data.corpus import ASSETS_DIR
from tokdrop_keras.data.corpus import embedded_corpus_files
from tokdrop_keras.data.corpus import is_validation_document
from tokdrop_keras.data.corpus import read_documents
from tokdrop_keras.data.sentiment import SENTIMENT_SPLITS
from tokdrop_keras.data.sentiment import read_sentiment
from tokdrop_keras.data.sentiment import sentiment_file

# TFDS downloads prepared data from this host and most raw data from hosts
# that are reachable whenever it is: a quick probe tells "offline" apart
# from "slow" without waiting on a download that cannot start.
TFDS_PROBE_HOST = ("storage.googleapis.com", 443)
PROBE_TIMEOUT_SECONDS = 3


class TokdropCorpus(tfds.core.GeneratorBasedBuilder):
    """The embedded public-domain pretraining corpus, one document each.

    Registered as `tokdrop_corpus`; prepared offline from the package's
    files. Feature `text`; splits `train` and `validation` (the documents
    `is_validation_document` holds out).

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data import TokdropCorpus
    builder = TokdropCorpus(data_dir=tempfile.mkdtemp())
    builder.download_and_prepare()  # offline, about a second
    assert builder.info.splits["train"].num_examples == 2042
    assert builder.info.splits["validation"].num_examples == 44
    example = next(iter(builder.as_dataset(split="validation")))
    assert tokdrop_keras.data.is_validation_document(example["text"])
    ```
    """

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description=(
                "State of the Union addresses, Jane Austen's novels, "
                "Moby-Dick and the World English Bible (public domain)."
            ),
            features=tfds.features.FeaturesDict({"text": tfds.features.Text()}),
            license="Public domain",
        )

    def _split_generators(self, dl_manager):
        return {
            "train": self._generate_examples(held_out=False),
            "validation": self._generate_examples(held_out=True),
        }

    def _generate_examples(self, held_out):
        for path in embedded_corpus_files():
            for line, text in enumerate(read_documents(path)):
                if is_validation_document(text) == held_out:
                    yield f"{os.path.basename(path)}:{line}", {"text": text}


class TokdropSentiment(tfds.core.GeneratorBasedBuilder):
    """The embedded movie-review sentiment set (binary).

    Registered as `tokdrop_sentiment`; prepared offline from the package's
    files. Features `sentence` and `label` (1 positive, 0 negative); splits
    `train`, `dev` and `test`.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data import TokdropSentiment
    builder = TokdropSentiment(data_dir=tempfile.mkdtemp())
    builder.download_and_prepare()  # offline
    assert builder.info.features["label"].names == ["negative", "positive"]
    dev = builder.as_dataset(split="dev", as_supervised=True)
    assert len(dev) == 1007
    ```
    """

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description=(
                "Movie-review snippets of the VADER study (Hutto & Gilbert, "
                "ICWSM 2014), labelled by the sign of their mean rating."
            ),
            features=tfds.features.FeaturesDict(
                {
                    "sentence": tfds.features.Text(),
                    "label": tfds.features.ClassLabel(
                        names=["negative", "positive"]
                    ),
                }
            ),
            supervised_keys=("sentence", "label"),
            license="MIT",
        )

    def _split_generators(self, dl_manager):
        return {
            split: self._generate_examples(split) for split in SENTIMENT_SPLITS
        }

    def _generate_examples(self, split):
        for index, (sentence, label) in enumerate(zip(*read_sentiment(split))):
            yield index, {"sentence": sentence, "label": label}


EMBEDDED_BUILDERS = (TokdropCorpus.name, TokdropSentiment.name)


def _check_can_download(name, data_dir):
    try:
        socket.create_connection(
            TFDS_PROBE_HOST, timeout=PROBE_TIMEOUT_SECONDS
        ).close()
    except OSError as error:
        raise ValueError(
            f"TFDS dataset {name!r} is not prepared in {data_dir!r} and this "
            f"machine cannot reach {TFDS_PROBE_HOST[0]} to download it "
            f"({error}). Prepare it where there is network (`tfds build "
            f"{name} --data_dir=DIR`), copy DIR here and pass data_dir=DIR."
        ) from None


def tfds_builder(name, data_dir=None):
    """A prepared TFDS builder: the embedded sets offline, others by download.

    Args:
        name: a TFDS name: `"tokdrop_corpus"`, `"tokdrop_sentiment"`, or any
            other such as `"wikipedia/20230601.en"` or `"glue/sst2"`.
        data_dir: TFDS data directory (`None`: TFDS's default,
            `~/tensorflow_datasets`).

    Raises:
        ValueError: if the name is unknown, or the dataset is not prepared in
            `data_dir` and the network is unreachable (checked in a few
            seconds, before any download starts).

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data import tfds_builder
    data_dir = tempfile.mkdtemp()
    builder = tfds_builder("tokdrop_sentiment", data_dir=data_dir)
    assert builder.is_prepared()  # embedded: prepared offline, at once
    assert builder.info.splits["train"].num_examples == 8058
    example = next(iter(builder.as_dataset(split="train")))
    assert set(example) == {"sentence", "label"}
    try:
        tfds_builder("no_such_set", data_dir=data_dir)
        raise AssertionError("an unknown dataset was accepted")
    except ValueError as error:
        assert "Unknown TFDS dataset 'no_such_set'" in str(error)
    ```
    """
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as error:
        raise ValueError(f"Unknown TFDS dataset {name!r}: {error}") from None
    if not builder.is_prepared():
        if builder.name not in EMBEDDED_BUILDERS:
            _check_can_download(name, builder.data_dir)
        builder.download_and_prepare()
    return builder
