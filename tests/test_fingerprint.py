"""The pure-Python FarmHash `Fingerprint64` against known answers (computed
once with TensorFlow's `tf.fingerprint`); runs without TensorFlow.

`tests/data/test_data_corpus.py` compares it with TensorFlow directly.
"""

import pytest

from tokdrop_keras.data.fingerprint import fingerprint64
from tokdrop_keras.data.fingerprint import hash_bucket

# (bytes, TensorFlow's Fingerprint64), covering each length branch: 0, 1-3,
# 4-7, 8-16, 17-32, 33-64 and over 64 bytes (one block, and several).
KNOWN_ANSWERS = [
    (b"", 0x9AE16A3B2F90404F),
    (b"a", 0xB3454265B6DF75E3),
    (b"abc", 0x24A5B3A074E7F369),
    (b"abcd", 0x1A5502DE4A1F8101),
    (b"document 100", 0xDC792CA785882CF0),
    (b"0123456789abcdef", 0x54B961E5DC834067),
    (b"0123456789abcdefg", 0xA6DDFF87A449D24A),
    ("Straße naïve café 日本語 😀".encode("utf-8"), 0xC07C5E67C44D0B6D),
    (b"x" * 32, 0xB30B9BACCC74DC05),
    (b"x" * 33, 0xAA49185443E61637),
    (b"The quick brown fox jumps over the lazy dog", 0xABBE83F33B1B5134),
    (b"y" * 64, 0x3E0F00391283E8B8),
    (b"y" * 65, 0xB7D507D910A0625C),
    (bytes(range(256)), 0x496FBE15ED0E171F),
    (b"Call me Ishmael. " * 100, 0x457E7BBE011F1541),
]


@pytest.mark.parametrize(
    "data, expected", KNOWN_ANSWERS, ids=[str(len(d)) for d, _ in KNOWN_ANSWERS]
)
def test_fingerprint64_known_answers(data, expected):
    assert fingerprint64(data) == expected
    assert fingerprint64(bytearray(data)) == expected
    assert fingerprint64(memoryview(data)) == expected


def test_hash_bucket_is_the_utf8_fingerprint_modulo_buckets():
    text = "Straße naïve café 日本語 😀"
    assert hash_bucket(text, 2**64) == 0xC07C5E67C44D0B6D
    assert hash_bucket(text, 50) == 0xC07C5E67C44D0B6D % 50
    # The held-out split's buckets (see corpus.is_validation_document).
    assert hash_bucket("document 100", 50) == 0
    assert hash_bucket("document 101", 50) == 43
    with pytest.raises(ValueError, match="num_buckets must be positive"):
        hash_bucket(text, 0)
