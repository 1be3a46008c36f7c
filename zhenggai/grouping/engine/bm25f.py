"""BM25F weighting: a text's field-weighted term frequencies, idf, and the saturation.

For each token t (see :mod:`zhenggai.grouping.text`) the field-weighted term frequency and
length

    tf~(t) = sum over fields f of w_f * tf_f(t),     L = sum over fields f of w_f * len_f

are saturated as imp(t) = (k1 + 1) tf~ / (tf~ + k1 (1 - b + b L / avgL)) (BM25F with one
length normalisation over the weighted document; k1 = 1.2, b = 0.75, the standard values),
and idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)). The index keeps tf~ and L and applies the
saturation at query time with the current average length (:meth:`LexicalIndex.impact`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np

from ..text import tokens

Text = str | Mapping[str, str]
DEFAULT_FIELD = "text"


def plain(text: Text, field_weights: Mapping[str, float]) -> str:
    """One string for a text: what the character view and an embedder read."""
    if isinstance(text, str):
        return text
    # Fields in the order of their weight (heaviest first), for embedders that read one string.
    keys = sorted(text, key=lambda f: -field_weights.get(f, 1.0))
    return "\n".join(text[f] for f in keys if text[f])


def _fields(text: Text) -> list[tuple[str, Counter]]:
    if isinstance(text, str):
        text = {DEFAULT_FIELD: text}
    out = []
    for field, s in text.items():
        if s:
            toks = tokens(s)
            if toks:
                out.append((field, Counter(toks)))
    return out


def weighted_tf(text: Text, field_weights: Mapping[str, float]) -> tuple[dict[str, float], float]:
    """Field-weighted term frequencies and the weighted length of a text."""
    tf: dict[str, float] = {}
    length = 0.0
    for field, counts in _fields(text):
        w = field_weights.get(field, 1.0)
        length += w * sum(counts.values())
        for t, c in counts.items():
            tf[t] = tf.get(t, 0.0) + c * w
    return tf, length


def idf(df: np.ndarray, n: int) -> np.ndarray:
    """BM25's idf of document frequencies ``df`` among ``n`` items (float32)."""
    n = float(n)
    return np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)


def impact(tf: np.ndarray, length: np.ndarray | float, avg: float, k1: float,
           b: float) -> np.ndarray:
    """BM25 saturation of term frequencies with length normalisation against ``avg``."""
    tf = np.asarray(tf, np.float32)
    kn = np.float32(k1) * (np.float32(1 - b) + np.float32(b / avg) * length)
    return (np.float32(k1 + 1) * tf / (tf + kn)).astype(np.float32)
