
import pytest
import tensorflow_datasets as tfds

from tokdrop_keras.data import pretraining_dataset
from tokdrop_keras.data import tfds_builder
from tokdrop_keras.data import tfds_builders


def test_embedded_builders_load_offline(tmp_path):
    sentiment = tfds.load("tokdrop_sentiment", data_dir=str(tmp_path))
    assert {split: len(sentiment[split]) for split in sentiment} == {
        "train": 8058,
        "dev": 1007,
        "test": 1007,
    }
    corpus = tfds_builder("tokdrop_corpus", data_dir=str(tmp_path))
    assert corpus.info.splits["train"].num_examples == 2042
    assert corpus.info.splits["validation"].num_examples == 44
    dataset = pretraining_dataset(
        "tfds:tokdrop_corpus",
        split="validation",
        sequence_length=32,
        batch_size=4,
        data_dir=str(tmp_path),
    )
    x, _, _ = next(iter(dataset))
    assert x["token_ids"].shape == (4, 32)
    with pytest.raises(ValueError, match=r"'tokdrop_sentiment' has no 'text'"):
        pretraining_dataset("tfds:tokdrop_sentiment", data_dir=str(tmp_path))


def test_hub_dataset_fails_fast_offline(tmp_path, monkeypatch):
    # A closed local port stands for "no network", wherever the tests run.
    monkeypatch.setattr(tfds_builders, "TFDS_PROBE_HOST", ("127.0.0.1", 9))
    with pytest.raises(
        ValueError,
        match=r"'glue/sst2' is not prepared in .* cannot reach 127\.0\.0\.1",
    ):
        pretraining_dataset("tfds:glue/sst2", data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="Unknown TFDS dataset 'no_such_set'"):
        tfds_builder("no_such_set", data_dir=str(tmp_path))
