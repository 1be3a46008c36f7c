"""The character n-gram view: a second lexical signal beside BM25F (on by default).

The TF-IDF cosine of character 2-, 3- and 4-grams of the normalised text without its Han
characters (:func:`zhenggai.grouping.text.latin_char_text`: BM25F already has Chinese
characters and their pairs, and a second count of them hurt Chinese retrieval); sublinear
tf, smooth idf ``ln((1 + N) / (1 + df)) + 1`` over the live items, the usual TF-IDF
defaults). It sees word order and word parts that the BM25F word tokens do not.
N-grams are hashed into buckets for
their document frequencies (the hashing trick); each item's normalised text is kept (UTF-16
code units) so that candidates can be scored on this view at query time. The table is sized
to the data: it starts at 2**16 buckets (256 KB) and, when more than 1/8 of its buckets are in
use, is rebuilt 4x wider from the kept texts, up to 2**22 (16 MB): at most three rebuilds,
each one pass over the texts kept so far. A bucket's df is that of every n-gram hashed into
it, so a table still narrow has somewhat more collisions (at most about 1/8 of new n-grams
share a bucket before it widens); a view whose table has reached a width scores exactly as
one built at that width from the start (the bucket is the top bits of the same 64-bit hash).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from ..text import latin_char_text
from .arrays import ranges, unique

CHAR_N = (2, 3, 4)  # character n-gram lengths of the second lexical view
_CBITS_MIN = 16  # n-gram hash buckets of a new view: 2**16 (256 KB of document frequencies)
_CBITS_MAX = 22  # ... widened 4x at a time up to 2**22 (16 MB)
_CLOAD = 8  # widen when more than 1/_CLOAD of the buckets are in use
_HMUL = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime, as a polynomial base
_HMIX = np.uint64(0xBF58476D1CE4E5B9)  # splitmix64 multiplier, for the final mixing
_SURR = re.compile(r"[\ud800-\udfff]")


def text_codes(texts: Sequence[str]) -> np.ndarray:
    """UTF-16 code units of the char-channel texts, each followed by a 0 separator."""
    joined = "".join(latin_char_text(t) + "\x00" for t in texts)
    if _SURR.search(joined):
        joined = _SURR.sub("\ufffd", joined)
    return np.frombuffer(joined.encode("utf-16-le"), np.uint16)


def char_grams(codes: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (doc, bucket) n-grams of 0-separated texts, with their counts.

    ``doc`` is the index of the text (the number of separators before it); ``bucket`` is the
    top ``bits`` bits of the n-gram's hash; keys are sorted by (doc, bucket).
    """
    zeros = np.zeros(len(codes) + 1, np.int64)
    np.cumsum(codes == 0, out=zeros[1:])
    c = codes.astype(np.uint64)
    keys = []
    for n in CHAR_N:
        m = len(c) - n + 1
        if m <= 0:
            continue
        idx = np.flatnonzero(zeros[n : n + m] == zeros[:m])
        h = np.full(len(idx), n, np.uint64)
        for j in range(n):
            h = h * _HMUL + c[idx + j]
        h ^= h >> np.uint64(31)
        h *= _HMIX
        h ^= h >> np.uint64(29)
        keys.append((zeros[idx] << bits) | (h >> np.uint64(64 - bits)).astype(np.int64))
    if not keys:
        e = np.zeros(0, np.int64)
        return e, e, e
    uniq, counts = np.unique(np.concatenate(keys), return_counts=True)
    return uniq >> bits, uniq & ((1 << bits) - 1), counts


class CharView:
    """The kept texts of every row and the hashed n-gram document frequencies.

    Rows are the lexical index's: row by row, the normalised text (UTF-16 + a 0) is in
    ``buf[off[row]:off[row + 1]]``; ``df`` has ``2**bits`` buckets, ``occupied`` of them in use.
    """

    def __init__(self) -> None:
        self.buf = np.zeros(0, np.uint16)
        self.off = np.zeros(1025, dtype=np.int64)
        self.bits = _CBITS_MIN
        self.df = np.zeros(1 << _CBITS_MIN, np.int32)
        self.occupied = 0

    def codes(self, rows: np.ndarray) -> np.ndarray:
        """The stored code units of ``rows`` (each with its 0), concatenated."""
        a = self.off[rows]
        return self.buf[ranges(a, self.off[rows + 1] - a)]

    def add(self, first: int, texts: list[str], alive: np.ndarray) -> None:
        """Keep the texts of rows ``first ...`` and count their n-grams' df. ``alive`` marks
        the index's live rows (a widening counts only those)."""
        end = first + len(texts)
        if end + 1 > len(self.off):
            off = np.zeros(max(end + 1, 2 * len(self.off) - 1), np.int64)
            off[: len(self.off)] = self.off
            self.off = off
        codes = text_codes(texts)
        used = int(self.off[first])
        need = used + len(codes)
        if need > len(self.buf):
            buf = np.zeros(max(need, len(self.buf) * 3 // 2, 1 << 12), np.uint16)
            buf[:used] = self.buf[:used]
            self.buf = buf
        self.buf[used:need] = codes
        self.off[first + 1 : end + 1] = used + np.flatnonzero(codes == 0) + 1
        _, buckets, _ = char_grams(codes, self.bits)
        if len(buckets) > 100_000:
            self.df += np.bincount(buckets, minlength=len(self.df))  # int64 -> int32
            self.occupied = int(np.count_nonzero(self.df))
        else:
            self.occupied += int(np.count_nonzero(self.df[unique(buckets)] == 0))
            np.add.at(self.df, buckets, 1)
        self._widen(end, alive)

    def _widen(self, rows: int, alive: np.ndarray) -> None:
        """Widen the df table 4x while more than 1/_CLOAD of its buckets are in use,
        re-hashing the kept texts of the live rows (texts are kept in row order, so the
        text index of :func:`char_grams` over the whole buffer is the row)."""
        while self.occupied * _CLOAD > len(self.df) and self.bits < _CBITS_MAX:
            self.bits = min(self.bits + 2, _CBITS_MAX)
            doc, buckets, _ = char_grams(self.buf[: self.off[rows]], self.bits)
            df = np.zeros(1 << self.bits, np.int32)
            df += np.bincount(buckets[alive[doc]], minlength=len(df))
            self.df = df
            self.occupied = int(np.count_nonzero(df))

    def remove(self, row: int) -> None:
        """Take a removed row's n-grams out of the df (its text stays, unused)."""
        _, buckets, _ = char_grams(self.codes(np.array([row])), self.bits)
        np.subtract.at(self.df, buckets, 1)  # buckets are distinct (one text)
        self.occupied -= int(np.count_nonzero(self.df[buckets] == 0))

    def cosine(self, qcodes: np.ndarray, dcodes: np.ndarray, n: int) -> np.ndarray:
        """Character n-gram TF-IDF cosine of a query (its codes with one 0) with each text of
        ``dcodes`` (0-separated codes), with ``n`` live items for the idf."""
        nd = int(np.count_nonzero(dcodes == 0))
        doc, bucket, cnt = char_grams(np.concatenate((qcodes, dcodes)), self.bits)
        out = np.zeros(nd, np.float64)
        if not len(doc) or doc[0] != 0:
            return out
        n = float(n)
        idf = np.log((1.0 + n) / (1.0 + self.df[bucket])) + 1.0
        w = (1.0 + np.log(cnt)) * idf
        norm = np.sqrt(np.bincount(doc, weights=w * w, minlength=nd + 1))
        nq = int(np.searchsorted(doc, 1))
        qb, qw = bucket[:nq], w[:nq]
        db, dd, dw = bucket[nq:], doc[nq:], w[nq:]
        pos = np.minimum(np.searchsorted(qb, db), nq - 1)
        hit = qb[pos] == db
        dot = np.bincount(dd[hit], weights=dw[hit] * qw[pos[hit]], minlength=nd + 1)
        den = norm[0] * norm[1:]
        return np.where(den > 0, dot[1:] / np.where(den > 0, den, 1.0), 0.0)
