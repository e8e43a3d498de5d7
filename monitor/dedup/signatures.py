"""Near-duplicate signatures: MinHash over word 3-shingles, banded for LSH.

Two texts of one story (republished with other chrome, paragraphs reordered,
some words rewritten, a paragraph added or dropped) share many 3-word
shingles; two stories on the same topic share few. MinHash estimates the
shingle Jaccard similarity from 128 numbers; pairs of the first 64 give 32
band keys, and two texts with Jaccard 0.3 share at least one band key with
probability 0.95 (0.996 at 0.4). Band keys are stored in an indexed
table, so finding candidates is an index lookup, in any process, after any
restart.

Chinese has no spaces: each CJK character is a token, so shingles are
character trigrams there.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from monitor.text.cjk import CJK_RANGES
from monitor.text.normalize import fold_case_and_width

NUM_PERM = 128          # the similarity estimate: +-0.03 around 0.1, so distinct stories stay apart
ROWS_PER_BAND = 2
BANDS = 32              # LSH keys from the first 64 values: J=0.3 found with p=0.95, J=0.4 with p=0.996
SHINGLE = 3
_PRIME = np.uint64((1 << 61) - 1)
_rng = np.random.RandomState(20240301)  # fixed: signatures must compare across processes and years
# Multipliers span the whole field (as in datasketch): with 32-bit ones, shingles with small
# hash values would be every permutation's minimum and unrelated texts would look alike.
_A = _rng.randint(1, (1 << 61) - 1, size=NUM_PERM, dtype=np.uint64)
_B = _rng.randint(0, (1 << 61) - 1, size=NUM_PERM, dtype=np.uint64)
_TOKEN = re.compile(rf"[{CJK_RANGES}]|[^\W_{CJK_RANGES}]+")  # a CJK character, or a run of other letters and digits


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold_case_and_width(text))


def shingle_hashes(text: str) -> np.ndarray:
    words = tokens(text)
    if len(words) < SHINGLE:
        grams = [" ".join(words)] if words else []
    else:
        grams = set(map(" ".join, zip(words, words[1:], words[2:])))  # SHINGLE consecutive tokens
    return np.fromiter(map(zlib.crc32, map(str.encode, grams)), dtype=np.uint64, count=len(grams))


def minhash(text: str) -> bytes:
    """NUM_PERM little-endian uint32 values; all 0xFFFFFFFF for an empty text."""
    hashes = shingle_hashes(text)
    if hashes.size == 0:
        return np.full(NUM_PERM, 0xFFFFFFFF, dtype="<u4").tobytes()
    # (a*x + b) mod p for every permutation and shingle; the product wraps at 2**64, which
    # keeps it a well-mixed hash (the datasketch construction).
    values = np.outer(_A, hashes)
    values += _B[:, None]  # in place: temporaries of NUM_PERM x shingles cost more than the arithmetic
    np.remainder(values, _PRIME, out=values)
    return (values.min(axis=1) & np.uint64(0xFFFFFFFF)).astype("<u4").tobytes()


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    return float(np.mean(np.frombuffer(a, dtype="<u4") == np.frombuffer(b, dtype="<u4")))


def band_keys(signature: bytes) -> list[tuple[int, int]]:
    """(band number, signed 64-bit key) pairs, as stored in the article_bands table."""
    values = np.frombuffer(signature, dtype="<u4").astype(np.uint64)
    keys = []
    for band in range(BANDS):
        hi, lo = values[band * ROWS_PER_BAND], values[band * ROWS_PER_BAND + 1]
        key = int((hi << np.uint64(32)) | lo)
        keys.append((band, key - (1 << 64) if key >= 1 << 63 else key))
    return keys
