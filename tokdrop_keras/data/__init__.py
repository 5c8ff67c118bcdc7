"""Data for token-dropping BERT: corpus, tokenizers, the pretraining
pipelines (tf.data, and Grain without TensorFlow), TFRecords (ours and
Model Garden's), TFDS builders and downstream sets.

Without TensorFlow, the Grain pipeline and everything it reads are here;
the tf.data names raise an ImportError naming the alternative."""

import importlib.util as _importlib_util

from tokdrop_keras.data.adjacent_sentences import adjacent_sentence_pairs
from tokdrop_keras.data.corpus import VALIDATION_BUCKETS
from tokdrop_keras.data.corpus import embedded_corpus_files
from tokdrop_keras.data.corpus import is_validation_document
from tokdrop_keras.data.corpus import match_files
from tokdrop_keras.data.corpus import read_documents
from tokdrop_keras.data.downstream import GLUE_TASKS
from tokdrop_keras.data.downstream import classification_tasks
from tokdrop_keras.data.grain_pipeline import grain_pretraining_dataset
from tokdrop_keras.data.grain_pipeline import read_source_documents
from tokdrop_keras.data.numpy_masking import NumpyMaskedLMInputs
from tokdrop_keras.data.numpy_masking import max_predictions_for
from tokdrop_keras.data.pipelines import DATA_PIPELINES
from tokdrop_keras.data.pipelines import default_data_pipeline
from tokdrop_keras.data.pipelines import has_validation_split
from tokdrop_keras.data.pipelines import masked_lm_dataset
from tokdrop_keras.data.record_files import token_id_documents
from tokdrop_keras.data.sentiment import read_sentiment
from tokdrop_keras.data.text_encoders import text_encoder
from tokdrop_keras.data.tokenizers import SHIPPED_VOCABULARIES
from tokdrop_keras.data.tokenizers import TOKENIZER_KINDS
from tokdrop_keras.data.tokenizers import load_tokenizer
from tokdrop_keras.data.tokenizers import tokenizer_kind
from tokdrop_keras.data.tokenizers import train_tokenizer
from tokdrop_keras.data.vocabulary import bert_tokenizer
from tokdrop_keras.data.vocabulary import check_vocabulary
from tokdrop_keras.data.vocabulary import load_vocabulary

if _importlib_util.find_spec("tensorflow") is not None:
    from tokdrop_keras.data.adjacent_sentences import adjacent_sentences_dataset
    from tokdrop_keras.data.corpus import embedded_documents
    from tokdrop_keras.data.corpus import split_documents
    from tokdrop_keras.data.corpus import text_dataset
    from tokdrop_keras.data.downstream import glue_dataset
    from tokdrop_keras.data.downstream import sentiment_dataset
    from tokdrop_keras.data.masking import MaskedLMInputs
    from tokdrop_keras.data.model_garden import model_garden_dataset
    from tokdrop_keras.data.packing import pack_token_ids
    from tokdrop_keras.data.packing import tokenize_documents
    from tokdrop_keras.data.pretraining import pretraining_dataset
    from tokdrop_keras.data.tfds_builders import TokdropCorpus
    from tokdrop_keras.data.tfds_builders import TokdropSentiment
    from tokdrop_keras.data.tfds_builders import tfds_builder
    from tokdrop_keras.data.tfrecords import find_unreadable_record
    from tokdrop_keras.data.tfrecords import token_id_records
    from tokdrop_keras.data.tfrecords import write_pretraining_tfrecords
    from tokdrop_keras.data.vocabulary import train_vocabulary
else:

    def __getattr__(name):
        raise ImportError(
            f"tokdrop_keras.data.{name} is built on tf.data (or TFDS, "
            "tf-text) and needs TensorFlow, which is not installed. Without "
            "it, read pretraining batches with "
            "tokdrop_keras.data.grain_pretraining_dataset (or "
            "masked_lm_dataset(..., data_pipeline='grain'))."
        )
