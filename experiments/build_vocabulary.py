r"""Learns the vocabularies shipped for the embedded corpus, one per kind.

The shipped files were built with (from the repository root):

    python experiments/build_vocabulary.py --kind wordpiece \
        --output tokdrop_keras/data/assets/vocab.txt
    python experiments/build_vocabulary.py --kind byte_pair \
        --output tokdrop_keras/data/assets/byte_pair
    python experiments/build_vocabulary.py --kind sentencepiece \
        --output tokdrop_keras/data/assets/sentencepiece

WordPiece serves BERT and DistilBERT, byte-level BPE RoBERTa, SentencePiece
XLM-RoBERTa. Any other corpus: `--corpus "my/texts/*.txt.gz"
--vocabulary_size 30522`.
"""

import argparse
import time

from tokdrop_keras.data import TOKENIZER_KINDS
from tokdrop_keras.data import embedded_corpus_files
from tokdrop_keras.data import train_tokenizer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=TOKENIZER_KINDS, default="wordpiece")
    parser.add_argument(
        "--corpus",
        nargs="+",
        default=None,
        help="Text files or globs, one document per line (.gz read "
        "transparently, gs:// allowed). Default: the embedded corpus.",
    )
    parser.add_argument("--vocabulary_size", type=int, default=8192)
    parser.add_argument(
        "--output",
        required=True,
        help="vocab.txt to write (wordpiece), else a folder",
    )
    args = parser.parse_args()
    start = time.time()
    written = train_tokenizer(
        args.kind,
        args.corpus or embedded_corpus_files(),
        args.vocabulary_size,
        args.output,
    )
    print(f"Wrote the {args.kind} vocabulary {written} in {time.time() - start:.0f} s.")


if __name__ == "__main__":
    main()
