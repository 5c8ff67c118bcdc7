r"""Trains the WordPiece vocabulary shipped for the embedded corpus.

The shipped `tokdrop_keras/data/assets/vocab.txt` was built with:

    python experiments/build_vocabulary.py \
        --output tokdrop_keras/data/assets/vocab.txt

Any other corpus: `--corpus "my/texts/*.txt.gz" --vocabulary_size 30522`.
"""

import argparse
import time

from tokdrop_keras.data import embedded_corpus_files
from tokdrop_keras.data import train_vocabulary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus",
        nargs="+",
        default=None,
        help="Text files or globs, one document per line (.gz read "
        "transparently, gs:// allowed). Default: the embedded corpus.",
    )
    parser.add_argument("--vocabulary_size", type=int, default=8192)
    parser.add_argument("--output", required=True, help="vocab.txt to write")
    args = parser.parse_args()
    start = time.time()
    vocabulary = train_vocabulary(
        args.corpus or embedded_corpus_files(),
        vocabulary_size=args.vocabulary_size,
        vocabulary_output_file=args.output,
    )
    print(
        f"Wrote {len(vocabulary)} tokens to {args.output} in "
        f"{time.time() - start:.0f} s."
    )


if __name__ == "__main__":
    main()
