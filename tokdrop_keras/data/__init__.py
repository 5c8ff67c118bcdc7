"""Data for token-dropping BERT: corpus, vocabulary, pretraining pipeline,
TFRecords (ours and Model Garden's), TFDS builders and downstream sets."""

import importlib.util as _importlib_util

if _importlib_util.find_spec("tensorflow") is None:
    raise ImportError(
        "tokdrop_keras.data is built on tf.data and needs TensorFlow, which "
        "is not installed. Without it, feed TokenDropMaskedLM.fit NumPy "
        "arrays or a keras.utils.PyDataset."
    )

from tokdrop_keras.data.adjacent_sentences import adjacent_sentence_pairs
from tokdrop_keras.data.adjacent_sentences import adjacent_sentences_dataset
from tokdrop_keras.data.corpus import VALIDATION_BUCKETS
from tokdrop_keras.data.corpus import embedded_corpus_files
from tokdrop_keras.data.corpus import embedded_documents
from tokdrop_keras.data.corpus import is_validation_document
from tokdrop_keras.data.corpus import match_files
from tokdrop_keras.data.corpus import read_documents
from tokdrop_keras.data.corpus import split_documents
from tokdrop_keras.data.corpus import text_dataset
from tokdrop_keras.data.downstream import GLUE_TASKS
from tokdrop_keras.data.downstream import classification_tasks
from tokdrop_keras.data.downstream import glue_dataset
from tokdrop_keras.data.downstream import sentiment_dataset
from tokdrop_keras.data.masking import MaskedLMInputs
from tokdrop_keras.data.masking import max_predictions_for
from tokdrop_keras.data.model_garden import model_garden_dataset
from tokdrop_keras.data.packing import pack_token_ids
from tokdrop_keras.data.packing import tokenize_documents
from tokdrop_keras.data.pretraining import has_validation_split
from tokdrop_keras.data.pretraining import pretraining_dataset
from tokdrop_keras.data.tfds_builders import TokdropCorpus
from tokdrop_keras.data.tfds_builders import TokdropSentiment
from tokdrop_keras.data.tfds_builders import read_sentiment
from tokdrop_keras.data.tfds_builders import tfds_builder
from tokdrop_keras.data.tfrecords import find_unreadable_record
from tokdrop_keras.data.tfrecords import token_id_records
from tokdrop_keras.data.tfrecords import write_pretraining_tfrecords
from tokdrop_keras.data.tokenizers import SHIPPED_VOCABULARIES
from tokdrop_keras.data.tokenizers import TOKENIZER_KINDS
from tokdrop_keras.data.tokenizers import load_tokenizer
from tokdrop_keras.data.tokenizers import tokenizer_kind
from tokdrop_keras.data.tokenizers import train_tokenizer
from tokdrop_keras.data.vocabulary import bert_tokenizer
from tokdrop_keras.data.vocabulary import check_vocabulary
from tokdrop_keras.data.vocabulary import load_vocabulary
from tokdrop_keras.data.vocabulary import train_vocabulary
