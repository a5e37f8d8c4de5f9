"""Hashed character n-gram features of query texts (numpy only, stable across processes)."""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

_DENSE_WEIGHT = 3.0


def hashed_ngrams(
    texts: Sequence[str], *, n_features: int = 1024, ngram_range: tuple[int, int] = (2, 4)
) -> NDArray[np.float64]:
    """Feature matrix of character n-grams hashed into ``n_features`` signed buckets.

    Parameters
    ----------
    texts : sequence of str, length n
    n_features : int
        Number of hash buckets.
    ngram_range : (int, int)
        Smallest and largest n-gram length.

    Returns
    -------
    ndarray, shape (n, n_features + 2)
        Per text: log-scaled n-gram counts, L2-normalised, then two dense columns,
        ``3 log1p(characters)`` and ``3 log1p(digits)`` (longer problems with more numbers
        tend to need more reasoning). The factor 3 keeps a ridge penalty from shrinking
        them away: a regression's slope on log length is about 1, which costs a penalised
        fit little at this scale, while each n-gram column is worth a few hundredths.

    Notes
    -----
    Text is lower-cased and whitespace collapsed, padded with a space at each end.
    Buckets come from CRC-32 (Python's ``hash`` is salted per process, so it would
    give different features in every run); a second bit of the hash picks the sign,
    so collisions cancel on average instead of piling up.
    """
    low, high = ngram_range
    out = np.zeros((len(texts), n_features + 2))
    for row, text in enumerate(texts):
        clean = " " + " ".join(text.lower().split()) + " "
        counts: dict[int, float] = {}
        for size in range(low, high + 1):
            for start in range(len(clean) - size + 1):
                code = zlib.crc32(clean[start : start + size].encode("utf-8"))
                bucket = code % n_features
                counts[bucket] = counts.get(bucket, 0.0) + (1.0 if (code >> 31) & 1 else -1.0)
        if counts:
            buckets = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            values = np.sign(values) * np.log1p(np.abs(values))
            norm = float(np.sqrt(np.sum(values * values)))
            if norm > 0:
                out[row, buckets] = values / norm
        out[row, n_features] = _DENSE_WEIGHT * math.log1p(len(text))
        out[row, n_features + 1] = _DENSE_WEIGHT * math.log1p(sum(ch.isdigit() for ch in text))
    return out
