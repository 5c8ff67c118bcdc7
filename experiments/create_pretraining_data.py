r"""Tokenizes text into sharded TFRecords of token ids for pretraining.

Text files hold one document per line (`.gz` read transparently; globs and
`gs://` paths work). Each record holds one document's WordPiece ids; packing
into `[CLS] ... [SEP]` sequences and masking happen when reading, so the
records serve any sequence length and get fresh masks every epoch:

    python experiments/create_pretraining_data.py \
        --input "corpus/*.txt.gz" --output_prefix records/train --split train
    # then: pretraining_dataset(source="tfrecord:records/train-*")

With no --input, the embedded corpus is used.
"""

import argparse

from tokdrop_keras.data import embedded_corpus_files
from tokdrop_keras.data import write_pretraining_tfrecords


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--input",
        nargs="+",
        default=None,
        help="Text files or globs (default: the embedded corpus).",
    )
    parser.add_argument(
        "--output_prefix",
        required=True,
        help="Shards are written as PREFIX-00000-of-000NN.tfrecord.",
    )
    parser.add_argument(
        "--vocabulary",
        default=None,
        help="vocab.txt (default: the shipped 8k vocabulary).",
    )
    parser.add_argument("--num_shards", type=int, default=8)
    parser.add_argument(
        "--split",
        choices=("train", "validation", "all"),
        default="all",
        help="Documents to keep: the held-out 2%% is 'validation'.",
    )
    parser.add_argument(
        "--sequence_length",
        type=int,
        default=128,
        help="Only to count packed sequences in the summary.",
    )
    args = parser.parse_args()
    write_pretraining_tfrecords(
        args.input or embedded_corpus_files(),
        args.output_prefix,
        vocabulary=args.vocabulary,
        num_shards=args.num_shards,
        split=args.split,
        sequence_length=args.sequence_length,
    )


if __name__ == "__main__":
    main()
