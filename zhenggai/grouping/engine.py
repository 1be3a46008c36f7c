"""The grouping engine: BM25F lexical search and clustering over opinions, pure Python + numpy.

Model
-----
Every item (an opinion, or any text with an integer id) becomes a sparse vector of BM25F
impacts: for each token t (see :mod:`.text`) the field-weighted term frequency and length

    tf~(t) = sum over fields f of w_f * tf_f(t),     L = sum over fields f of w_f * len_f

are saturated as imp(t) = (k1 + 1) tf~ / (tf~ + k1 (1 - b + b L / avgL)) (BM25F with one
length normalisation over the weighted document; k1 = 1.2, b = 0.75, the standard values).
A query is analysed the same way, so

    score(q, d) = sum over shared t of idf(t) * imp_q(t) * imp_d(t),
    idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)),

which is BM25F with the query-term saturation of BM25's k3 taken equal to k1. The score is
symmetric, and ``similarity = score / sqrt(score(q, q) * score(d, d))`` lies in [0, 1]
(1 = same tokens in the same proportions): thresholds on it transfer across corpora.

Storage
-------
As in Lucene, postings keep the term frequency (float16) and each row its length, and the
length normalisation is applied at query time with the current average, so items added
early and late are scored alike. A frozen segment holds the inverted index (per term, rows
sorted ascending: int32 rows + float16 tf, CSR) and the forward index (per row, its terms
and tf); new items go to a small mutable delta (``array`` buffers)
that is merged into the frozen numpy arrays when it outgrows a fraction of them.
Removed items are tombstoned at once (their df is taken back exactly through the forward
index) and their postings are dropped at the next merge.

Query
-----
Terms are visited rarest first; postings are accumulated while their total stays within a
budget (``max_postings``); the best ``candidates`` rows by that partial score are then
completed exactly with the remaining (common) terms by binary search in their postings.
So a query touches the long postings of common words only at a few hundred positions.

Character n-grams (on by default)
---------------------------------
A second lexical view: the TF-IDF cosine of character 2-, 3- and 4-grams of the normalised
text (:func:`.text.char_text`; sublinear tf, smooth idf ``ln((1 + N) / (1 + df)) + 1`` over
the live items, the usual TF-IDF defaults). It sees word order and word parts that the
BM25F tokens (characters, bigrams, words) do not. N-grams are hashed into buckets for their
document frequencies (the hashing trick); each item's normalised text is kept (UTF-16 code
units) so that candidates can be scored on this view at query time. The table is sized to the
data: it starts at 2**16 buckets (256 KB) and, when more than 1/8 of its buckets are in use,
is rebuilt 4x wider from the kept texts, up to 2**22 (16 MB): at most three rebuilds, each
one pass over the texts kept so far. A bucket's df is that of every n-gram hashed into it,
so a table still narrow has somewhat more collisions (at most about 1/8 of new n-grams share
a bucket before it widens); an engine whose table has reached a width scores exactly as one
built at that width from the start (the bucket is the top bits of the same 64-bit hash).

Embeddings (optional)
---------------------
An ``embedder`` with ``embed(texts) -> (n, d) float array`` (L2-normalised rows) may be
passed in. Items are then embedded once, later, by :meth:`GroupingEngine.embed_pending`
(or given with :meth:`GroupingEngine.set_embedding`); until then they are ranked lexically.

Ranking
-------
The BM25F top ``fusion_depth`` (50) are the candidates. They are re-ranked by equal-weight
z-score fusion (each signal standardised over the candidates, then averaged): the lexical
evidence is the mean of the z-scores of BM25F similarity and character n-gram cosine; the
semantic evidence is the z-score of the embedding cosine. Lexical and semantic evidence
count equally (``fusion_weight`` = 0.5 is the semantic share), so two views of the same
surface form do not outvote the one semantic signal. An item whose embedding is pending
counts as average on the semantic side; a query without an embedding (e.g. at intake, before
its own embedding is computed) is ranked on the lexical evidence alone. No parameter here is
fitted to data: z-scores, equal weights, and the standard BM25 and TF-IDF settings.

The engine is not meant to be shared between threads without a lock; it takes one itself
around every public method, so concurrent calls are serialised, not interleaved.
"""

from __future__ import annotations

import math
import re
import threading
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .text import IDENT, char_text, display, tokens

__all__ = ["Embedder", "GroupingEngine", "Hit", "Text"]

Text = str | Mapping[str, str]
DEFAULT_FIELD = "text"
_BLOCK = 2_000_000  # expanded postings per step in clustering: bounds its temporary memory
CHAR_N = (2, 3, 4)  # character n-gram lengths of the second lexical view
_CBITS_MIN = 16  # n-gram hash buckets of a new engine: 2**16 (256 KB of document frequencies)
_CBITS_MAX = 22  # ... widened 4x at a time up to 2**22 (16 MB)
_CLOAD = 8  # widen when more than 1/_CLOAD of the buckets are in use
_HMUL = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime, as a polynomial base
_HMIX = np.uint64(0xBF58476D1CE4E5B9)  # splitmix64 multiplier, for the final mixing
_SURR = re.compile(r"[\ud800-\udfff]")


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised vectors, e.g. a wrapped sentence encoder."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, d) float array, one L2-normalised row per text."""
        ...


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result. Results come in the engine's ranking order (the fused order of the
    module docstring when the character view or embeddings take part, else BM25F's);
    ``score`` is the BM25F score, ``similarity`` in [0, 1] is for thresholds."""

    id: int
    score: float
    similarity: float


def _plain(text: Text, field_weights: Mapping[str, float]) -> str:
    if isinstance(text, str):
        return text
    # Fields in the order of their weight (heaviest first), for embedders that read one string.
    keys = sorted(text, key=lambda f: -field_weights.get(f, 1.0))
    return "\n".join(text[f] for f in keys if text[f])


def _char_codes(texts: Sequence[str]) -> np.ndarray:
    """UTF-16 code units of the char-channel texts, each followed by a 0 separator."""
    joined = "".join(char_text(t) + "\x00" for t in texts)
    if _SURR.search(joined):
        joined = _SURR.sub("\ufffd", joined)
    return np.frombuffer(joined.encode("utf-16-le"), np.uint16)


def _char_grams(codes: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def _ranges(start: np.ndarray, cnt: np.ndarray) -> np.ndarray:
    """The indices ``start[i] .. start[i] + cnt[i] - 1`` for every i, concatenated."""
    return np.repeat(start - np.cumsum(cnt) + cnt, cnt) + np.arange(int(cnt.sum()))


def _zscore(x: np.ndarray) -> np.ndarray:
    sd = float(x.std())
    return (x - x.mean()) / (sd if sd > 0 else 1.0)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.size = [1] * n

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root


class GroupingEngine:
    """Index texts under integer ids; search them; group them into near-duplicate clusters.

    ``field_weights`` maps field names to BM25F weights for items given as mappings
    (``{"summary": ..., "description": ...}``); a plain string is the field ``"text"``.
    """

    def __init__(
        self,
        *,
        field_weights: Mapping[str, float] | None = None,
        k1: float = 1.2,
        b: float = 0.75,
        embedder: Embedder | None = None,
        fusion_weight: float = 0.5,
        fusion_depth: int = 50,
        char_ngrams: bool = True,
        max_postings: int = 200_000,
        candidates: int = 1_000,
        merge_min: int = 1 << 21,
        merge_fraction: float = 0.25,
    ) -> None:
        self.field_weights = dict(field_weights or {DEFAULT_FIELD: 1.0})
        self.k1, self.b = float(k1), float(b)
        self.embedder = embedder
        self.fusion_weight = float(fusion_weight)
        self.fusion_depth = int(fusion_depth)
        self.char_ngrams = bool(char_ngrams)
        self.max_postings = int(max_postings)
        self.candidates = int(candidates)
        self.merge_min = int(merge_min)
        self.merge_fraction = float(merge_fraction)
        self._lock = threading.RLock()
        # vocabulary
        self._term_id: dict[str, int] = {}
        self._terms: list[str] = []
        self._ident_terms: list[int] = []  # ids of "№8"-style identifier tokens
        self._df = np.zeros(1024, dtype=np.int32)
        # rows
        self._id_row: dict[int, int] = {}
        self._row_id = np.zeros(1024, dtype=np.int64)
        self._alive = np.zeros(1024, dtype=bool)
        self._len = np.zeros(1024, dtype=np.float32)  # weighted length of each row
        self._len_sum = 0.0
        self._rows = 0
        self._n = 0
        # frozen segment: inverted (per term) and forward (per row) CSR
        self._vf = 0  # terms covered by _ptr
        self._ptr = np.zeros(1, dtype=np.int64)
        self._prow = np.zeros(0, dtype=np.int32)
        self._ptf = np.zeros(0, dtype=np.float16)
        self._rf = 0  # rows covered by _foff
        self._foff = np.zeros(1, dtype=np.int64)
        self._fterm = np.zeros(0, dtype=np.int32)
        self._ftf = np.zeros(0, dtype=np.float16)
        self._dead_frozen = 0  # postings of removed rows still in the frozen segment
        # delta segment: forward arrays for rows >= _rf, and per-term postings for queries
        self._dterm = array("i")
        self._dtf = array("f")
        self._doff = array("q", [0])
        self._dpost: dict[int, tuple[array, array]] = {}
        self._unposted = False  # bulk rows in the delta without _dpost postings
        # embeddings
        self._emb: np.ndarray | None = None
        self._has_emb = np.zeros(1024, dtype=bool)
        self._pending: dict[int, str] = {}
        # character n-gram view: normalised text per row (UTF-16 + a 0), row by row in
        # _cbuf[_coff[row]:_coff[row + 1]]; hashed n-gram df in 2**_cbits buckets, _cocc in use
        self._cbuf = np.zeros(0, np.uint16)
        self._coff = np.zeros(1025, dtype=np.int64)
        self._cbits = _CBITS_MIN
        self._cdf = np.zeros(1 << _CBITS_MIN if self.char_ngrams else 0, np.int32)
        self._cocc = 0

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return self._n

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._id_row

    def ids(self) -> list[int]:
        """The ids currently indexed, in insertion order."""
        with self._lock:
            rows = np.flatnonzero(self._alive[: self._rows])
            return [int(x) for x in self._row_id[rows]]

    def _idf(self, df: np.ndarray) -> np.ndarray:
        n = float(self._n)
        return np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)

    def _avglen(self, fallback: float) -> float:
        return self._len_sum / self._n if self._n else fallback

    # ---------------------------------------------------------------- analysis
    def _fields(self, text: Text) -> list[tuple[str, Counter]]:
        if isinstance(text, str):
            text = {DEFAULT_FIELD: text}
        out = []
        for field, s in text.items():
            if s:
                toks = tokens(s)
                if toks:
                    out.append((field, Counter(toks)))
        return out

    def _weighted_tf(self, fields: list[tuple[str, Counter]]) -> tuple[dict[str, float], float]:
        """Field-weighted term frequencies and the weighted length."""
        weights = self.field_weights
        tf: dict[str, float] = {}
        length = 0.0
        for field, counts in fields:
            w = weights.get(field, 1.0)
            length += w * sum(counts.values())
            for t, c in counts.items():
                tf[t] = tf.get(t, 0.0) + c * w
        return tf, length

    def _impact(self, tf: np.ndarray, length: np.ndarray | float) -> np.ndarray:
        """BM25 saturation with length normalisation against the current average length."""
        avg = self._avglen(float(np.mean(length)) if np.size(length) else 1.0) or 1.0
        tf = np.asarray(tf, np.float32)
        kn = np.float32(self.k1) * (np.float32(1 - self.b) + np.float32(self.b / avg) * length)
        return (np.float32(self.k1 + 1) * tf / (tf + kn)).astype(np.float32)

    def _query_vector(self, text: Text) -> tuple[np.ndarray, np.ndarray, float, dict[str, float]]:
        """Known term ids, their query weights idf*imp, the self-score, and imp per token."""
        tf, length = self._weighted_tf(self._fields(text))
        if not tf:
            return np.zeros(0, np.int64), np.zeros(0, np.float32), 0.0, {}
        terms = list(tf)
        imp = self._impact(np.fromiter(tf.values(), np.float32, len(tf)), length)
        tids = np.fromiter((self._term_id.get(t, -1) for t in terms), np.int64, len(terms))
        df = np.where(tids >= 0, self._df[np.maximum(tids, 0)], 0)
        idf = self._idf(df)
        self_score = float(np.sum(idf * imp * imp))
        known = tids >= 0
        imps = dict(zip(terms, imp.tolist(), strict=True))
        return tids[known], (idf * imp)[known], self_score, imps

    def _row_vector(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Term ids and impacts of an indexed row."""
        if row < self._rf:
            a, b = self._foff[row], self._foff[row + 1]
            t, tf = self._fterm[a:b].astype(np.int64), self._ftf[a:b]
        else:
            r = row - self._rf
            a, b = self._doff[r], self._doff[r + 1]
            t = np.frombuffer(self._dterm, np.int32)[a:b].astype(np.int64)
            tf = np.frombuffer(self._dtf, np.float32)[a:b]
        return t, self._impact(tf, self._len[row])

    def _self_scores(self, rows: np.ndarray) -> np.ndarray:
        out = np.zeros(len(rows), np.float64)
        for i, row in enumerate(rows.tolist()):
            t, w = self._row_vector(row)
            out[i] = float(np.sum(self._idf(self._df[t]) * w * w))
        return out

    # ---------------------------------------------------------------- indexing
    def _grow_rows(self, need: int) -> None:
        cap = len(self._alive)
        if need <= cap:
            return
        new = max(need, cap * 2)
        for name in ("_row_id", "_alive", "_has_emb", "_len", "_coff"):
            old = getattr(self, name)
            arr = np.zeros(new + len(old) - cap, dtype=old.dtype)  # _coff: one more
            arr[: len(old)] = old
            setattr(self, name, arr)

    def _grow_vocab(self) -> None:
        need = len(self._terms)
        if need > len(self._df):
            arr = np.zeros(max(need, 2 * len(self._df)), np.int32)
            arr[: len(self._df)] = self._df
            self._df = arr

    def _ingest(self, items: list[tuple[int, Text]], postings: bool) -> None:
        """Append items (ids not yet indexed) to the delta segment."""
        term_id, terms = self._term_id, self._terms
        all_t = array("i")
        all_tf = array("f")
        counts = []
        lengths = []
        for _, text in items:
            tf, length = self._weighted_tf(self._fields(text))
            for t, v in tf.items():
                tid = term_id.get(t)
                if tid is None:
                    tid = term_id[t] = len(terms)
                    terms.append(t)
                    if t[0] == IDENT:
                        self._ident_terms.append(tid)
                all_t.append(tid)
                all_tf.append(v)
            counts.append(len(tf))
            lengths.append(length)
        self._grow_vocab()
        if len(all_t):
            tid_np = np.frombuffer(all_t, np.int32)
            self._df[: len(terms)] += np.bincount(tid_np, minlength=len(terms)).astype(np.int32)
            del tid_np
        first = self._rows
        self._grow_rows(first + len(items))
        for i, (item_id, _) in enumerate(items):
            row = first + i
            self._id_row[item_id] = row
            self._row_id[row] = item_id
            self._alive[row] = True
        self._len[first : first + len(items)] = lengths
        self._len_sum += float(sum(lengths))
        self._rows += len(items)
        self._n += len(items)
        base = len(self._dterm)
        self._dterm.extend(all_t)
        self._dtf.extend(all_tf)
        off = base
        for n_terms in counts:
            off += n_terms
            self._doff.append(off)
        if postings:
            pos = 0
            dpost = self._dpost
            for i, n_terms in enumerate(counts):
                row = first + i
                for j in range(pos, pos + n_terms):
                    entry = dpost.get(all_t[j])
                    if entry is None:
                        entry = dpost[all_t[j]] = (array("i"), array("f"))
                    entry[0].append(row)
                    entry[1].append(all_tf[j])
                pos += n_terms
        if self.char_ngrams:
            self._char_ingest(first, [_plain(text, self.field_weights) for _, text in items])
        if self.embedder is not None:
            for item_id, text in items:
                self._pending[item_id] = _plain(text, self.field_weights)

    def _char_ingest(self, first: int, texts: list[str]) -> None:
        """Keep the char-channel texts of rows ``first ...`` and count their n-grams' df."""
        codes = _char_codes(texts)
        used = int(self._coff[first])
        need = used + len(codes)
        if need > len(self._cbuf):
            buf = np.zeros(max(need, len(self._cbuf) * 3 // 2, 1 << 12), np.uint16)
            buf[:used] = self._cbuf[:used]
            self._cbuf = buf
        self._cbuf[used:need] = codes
        self._coff[first + 1 : first + 1 + len(texts)] = used + np.flatnonzero(codes == 0) + 1
        _, buckets, _ = _char_grams(codes, self._cbits)
        if len(buckets) > 100_000:
            self._cdf += np.bincount(buckets, minlength=len(self._cdf))  # int64 -> int32
            self._cocc = int(np.count_nonzero(self._cdf))
        else:
            self._cocc += int(np.count_nonzero(self._cdf[np.unique(buckets)] == 0))
            np.add.at(self._cdf, buckets, 1)
        self._widen_char()

    def _widen_char(self) -> None:
        """Widen the n-gram df table 4x while more than 1/_CLOAD of its buckets are in use,
        re-hashing the kept texts of the live rows (texts are kept in row order, so the
        text index of :func:`_char_grams` over the whole buffer is the row)."""
        while self._cocc * _CLOAD > len(self._cdf) and self._cbits < _CBITS_MAX:
            self._cbits = min(self._cbits + 2, _CBITS_MAX)
            doc, buckets, _ = _char_grams(self._cbuf[: self._coff[self._rows]], self._cbits)
            cdf = np.zeros(1 << self._cbits, np.int32)
            cdf += np.bincount(buckets[self._alive[doc]], minlength=len(cdf))
            self._cdf = cdf
            self._cocc = int(np.count_nonzero(cdf))

    def _row_codes(self, rows: np.ndarray) -> np.ndarray:
        """The stored char-channel code units of ``rows`` (each with its 0), concatenated."""
        a = self._coff[rows]
        return self._cbuf[_ranges(a, self._coff[rows + 1] - a)]

    def add(self, item_id: int, text: Text) -> None:
        """Index one item (a string, or a mapping of field name to string). Re-adding an id
        replaces its text."""
        with self._lock:
            item_id = int(item_id)
            if item_id in self._id_row:
                self._remove(item_id)
            self._ingest([(item_id, text)], postings=True)
            self._maybe_merge()

    def add_many(self, items: Iterable[tuple[int, Text]], *, chunk: int = 20_000) -> None:
        """Index many ``(id, text)`` pairs; much faster than :meth:`add` for large batches.

        A small batch goes to the delta segment like single adds; a large one is appended
        in bulk and folded into the frozen arrays before this returns.
        """
        with self._lock:
            it = iter(items)
            bulk = False
            while True:
                batch: list[tuple[int, Text]] = []
                seen: set[int] = set()
                for item_id, text in it:
                    item_id = int(item_id)
                    if item_id in seen:  # a repeated id within the chunk: last text wins
                        batch = [(i, t) for i, t in batch if i != item_id]
                    elif item_id in self._id_row:
                        self._remove(item_id)
                    batch.append((item_id, text))
                    seen.add(item_id)
                    if len(batch) >= chunk:
                        break
                if not batch:
                    break
                if not bulk and len(batch) < min(chunk, 5_000):
                    self._ingest(batch, postings=True)
                    self._maybe_merge()
                    break
                bulk = True
                self._ingest(batch, postings=False)
                self._unposted = True
                if self._delta_size() >= self._merge_limit():
                    self._merge()
            if self._unposted:
                self._merge()

    def remove(self, item_id: int) -> bool:
        """Drop an item; returns False if it was not indexed."""
        with self._lock:
            if int(item_id) not in self._id_row:
                return False
            self._remove(int(item_id))
            self._maybe_merge()
            return True

    def _remove(self, item_id: int) -> None:
        row = self._id_row.pop(item_id)
        self._alive[row] = False
        self._has_emb[row] = False
        self._pending.pop(item_id, None)
        t, _ = self._row_vector(row)
        self._df[t] -= 1
        if self.char_ngrams:
            _, buckets, _ = _char_grams(self._row_codes(np.array([row])), self._cbits)
            np.subtract.at(self._cdf, buckets, 1)  # buckets are distinct (one text)
            self._cocc -= int(np.count_nonzero(self._cdf[buckets] == 0))
        self._n -= 1
        self._len_sum -= float(self._len[row])
        if row < self._rf:
            self._dead_frozen += len(t)

    # ----------------------------------------------------------------- merging
    def _delta_size(self) -> int:
        return len(self._dterm)

    def _merge_limit(self) -> int:
        return max(self.merge_min, int(self.merge_fraction * len(self._prow)))

    def _maybe_merge(self) -> None:
        if self._delta_size() >= self._merge_limit() or (
            self._dead_frozen > self._merge_limit()
        ):
            self._merge()

    def optimize(self) -> None:
        """Fold the delta segment into the frozen arrays and drop removed postings now."""
        with self._lock:
            self._merge()

    def _merge(self) -> None:
        vocab = len(self._terms)
        rf_new = self._rows
        # delta as CSR by term (rows ascending within a term: stable sort of row-major data)
        d_term = np.frombuffer(self._dterm, np.int32).copy() if len(self._dterm) else np.zeros(
            0, np.int32)
        d_tf = (np.frombuffer(self._dtf, np.float32).astype(np.float16) if len(self._dtf)
                else np.zeros(0, np.float16))
        d_off = np.frombuffer(self._doff, np.int64).copy()
        d_rows = np.repeat(np.arange(self._rf, rf_new, dtype=np.int32), np.diff(d_off))
        d_alive = self._alive[d_rows]
        d_order = np.argsort(d_term, kind="stable")
        d_order = d_order[d_alive[d_order]]
        d_cnt = np.bincount(d_term[d_order], minlength=vocab)
        d_ptr = np.zeros(vocab + 1, np.int64)
        np.cumsum(d_cnt, out=d_ptr[1:])
        # frozen counts, without removed rows
        f_cnt = np.zeros(vocab, np.int64)
        f_cnt[: self._vf] = np.diff(self._ptr)
        drop = self._dead_frozen > 0
        if drop:
            keep_all = self._alive[self._prow]
            nonempty = f_cnt[: self._vf] > 0
            kept = np.zeros(self._vf, np.int64)
            if nonempty.any():
                starts = self._ptr[:-1][nonempty]
                kept[nonempty] = np.add.reduceat(keep_all, starts, dtype=np.int64)
            f_new = np.zeros(vocab, np.int64)
            f_new[: self._vf] = kept
        else:
            keep_all = None
            f_new = f_cnt
        new_cnt = f_new + d_cnt
        ptr = np.zeros(vocab + 1, np.int64)
        np.cumsum(new_cnt, out=ptr[1:])
        total = int(ptr[-1])
        prow = np.empty(total, np.int32)
        ptf = np.empty(total, np.float16)
        # frozen part, term range by term range to bound temporaries
        old_ptr = self._ptr
        step = 1 << 22
        t0 = 0
        while t0 < self._vf:
            t1 = int(np.searchsorted(old_ptr, old_ptr[t0] + step, side="right"))
            t1 = min(max(t1 - 1, t0 + 1), self._vf)
            a, b = int(old_ptr[t0]), int(old_ptr[t1])
            if b > a:
                rows = self._prow[a:b]
                tfs = self._ptf[a:b]
                cnt = f_cnt[t0:t1]
                term_of = np.repeat(np.arange(t0, t1), cnt)
                if drop:
                    k = keep_all[a:b]
                    rows, tfs, term_of = rows[k], tfs[k], term_of[k]
                    # rank within term among kept entries
                    kc = f_new[t0:t1]
                    first = np.cumsum(kc) - kc
                    rank = np.arange(len(rows)) - np.repeat(first, kc)
                else:
                    rank = np.arange(b - a) - np.repeat(old_ptr[t0:t1] - a, cnt)
                dest = ptr[term_of] + rank
                prow[dest] = rows
                ptf[dest] = tfs
            t0 = t1
        # delta part goes after the frozen postings of each term
        if len(d_order):
            dt = d_term[d_order]
            rank = np.arange(len(d_order)) - d_ptr[dt]
            dest = ptr[dt] + f_new[dt] + rank
            prow[dest] = d_rows[d_order]
            ptf[dest] = d_tf[d_order]
        # forward: append delta rows
        self._foff = np.concatenate((self._foff, self._foff[-1] + d_off[1:]))
        self._fterm = np.concatenate((self._fterm, d_term))
        self._ftf = np.concatenate((self._ftf, d_tf))
        self._ptr, self._prow, self._ptf, self._vf = ptr, prow, ptf, vocab
        self._rf = rf_new
        self._dead_frozen = 0
        self._dterm = array("i")
        self._dtf = array("f")
        self._doff = array("q", [0])
        self._dpost = {}
        self._unposted = False

    # ------------------------------------------------------------------ search
    def _posting_parts(self, t: int) -> list[tuple[np.ndarray, np.ndarray]]:
        parts = []
        if t < self._vf:
            a, b = self._ptr[t], self._ptr[t + 1]
            if b > a:
                parts.append((self._prow[a:b], self._ptf[a:b]))
        d = self._dpost.get(t)
        if d is not None:
            parts.append((np.frombuffer(d[0], np.int32), np.frombuffer(d[1], np.float32)))
        return parts

    def _posting_len(self, t: int) -> int:
        n = int(self._ptr[t + 1] - self._ptr[t]) if t < self._vf else 0
        d = self._dpost.get(t)
        return n + (len(d[0]) if d is not None else 0)

    def _search(self, tids: np.ndarray, qw: np.ndarray, k: int,
                exclude: set[int]) -> tuple[np.ndarray, np.ndarray]:
        """Top rows and scores for a query vector (term ids, weights idf*imp_q)."""
        if len(tids) == 0 or self._n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        lens = [self._posting_len(int(t)) for t in tids.tolist()]
        order = sorted(range(len(tids)), key=lambda i: (lens[i], int(tids[i])))
        used = 0
        first: list[int] = []
        rest: list[int] = []
        for i in order:
            if lens[i] == 0:
                continue
            if not rest and (not first or used + lens[i] <= self.max_postings):
                first.append(i)
                used += lens[i]
            else:
                rest.append(i)
        rows_l, tf_l, w_l = [], [], []
        for i in first:
            for rows, tfs in self._posting_parts(int(tids[i])):
                rows_l.append(rows)
                tf_l.append(tfs)
                w_l.append(np.full(len(rows), qw[i], np.float32))
        rows = np.concatenate(rows_l)
        weights = np.concatenate(w_l) * self._impact(np.concatenate(tf_l), self._len[rows])
        if rest or len(rows) > 4096:
            acc = np.bincount(rows, weights=weights, minlength=self._rows)
            cand = np.flatnonzero(acc)
            part = acc[cand]
        else:
            cand, inv = np.unique(rows, return_inverse=True)
            part = np.bincount(inv, weights=weights)
        alive = self._alive[cand]
        if exclude:
            ex = np.fromiter((self._id_row[i] for i in exclude if i in self._id_row), np.int64)
            alive &= ~np.isin(cand, ex)
        cand, part = cand[alive], part[alive]
        limit = max(self.candidates, k)
        if rest and len(cand) > limit:
            top = np.argpartition(-part, limit - 1)[:limit]
            cand, part = cand[top], part[top]
        if rest and len(cand):
            part = part.copy()
            order_c = np.argsort(cand, kind="stable")
            cand, part = cand[order_c], part[order_c]
            cand_len = self._len[cand]
            for i in rest:
                w = np.float32(qw[i])
                for rows_t, tfs in self._posting_parts(int(tids[i])):
                    pos = np.searchsorted(rows_t, cand)
                    pos_c = np.minimum(pos, len(rows_t) - 1)
                    hit = rows_t[pos_c] == cand
                    part[hit] += self._impact(tfs[pos_c[hit]], cand_len[hit]) * w
        if len(cand) > k:
            top = np.argpartition(-part, k - 1)[:k]
            cand, part = cand[top], part[top]
        ids = self._row_id[cand]
        order_f = np.lexsort((ids, -part))
        return cand[order_f].astype(np.int64), part[order_f].astype(np.float64)

    def _hits(self, rows: np.ndarray, scores: np.ndarray, self_q: float) -> list[Hit]:
        selfs = self._self_scores(rows)
        out = []
        for row, s, sd in zip(rows.tolist(), scores.tolist(), selfs.tolist(), strict=True):
            denom = math.sqrt(self_q * sd) if self_q > 0 and sd > 0 else 0.0
            sim = min(1.0, s / denom) if denom else 0.0
            out.append(Hit(int(self._row_id[row]), float(s), sim))
        return out

    def _char_cos(self, qcodes: np.ndarray, dcodes: np.ndarray) -> np.ndarray:
        """Character n-gram TF-IDF cosine of a query (its codes with one 0) with each text of
        ``dcodes`` (0-separated codes)."""
        nd = int(np.count_nonzero(dcodes == 0))
        doc, bucket, cnt = _char_grams(np.concatenate((qcodes, dcodes)), self._cbits)
        out = np.zeros(nd, np.float64)
        if not len(doc) or doc[0] != 0:
            return out
        n = float(self._n)
        idf = np.log((1.0 + n) / (1.0 + self._cdf[bucket])) + 1.0
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

    def _query_embedding(self, text: Text, vector, embed: bool) -> np.ndarray | None:
        if vector is not None:
            return np.asarray(vector, np.float32)
        if self.embedder is None or not embed or self._emb is None or not self._has_emb.any():
            return None
        return np.asarray(self.embedder.embed([_plain(text, self.field_weights)]),
                          np.float32)[0]

    def _text_query(self, text: Text, vector, embed: bool) -> tuple:
        """A query text as (term ids, weights idf*imp, self-score, char codes, embedding)."""
        tids, qw, self_q, _ = self._query_vector(text)
        qcodes = (_char_codes([_plain(text, self.field_weights)]) if self.char_ngrams
                  else np.zeros(0, np.uint16))
        return tids, qw, self_q, qcodes, self._query_embedding(text, vector, embed)

    def _row_query(self, row: int) -> tuple:
        """An indexed row as a query, in the form of :meth:`_text_query`."""
        t, w = self._row_vector(row)
        qw = self._idf(self._df[t]) * w
        qcodes = (self._row_codes(np.array([row])) if self.char_ngrams
                  else np.zeros(0, np.uint16))
        qv = (self._emb[row].astype(np.float32)
              if self.embedder is not None and self._emb is not None and self._has_emb[row]
              else None)
        return t, qw, float(np.sum(qw * w)), qcodes, qv

    def _candidates(self, tids, qw, self_q, qcodes, qv, depth, exclude) -> dict:
        """The BM25F top ``depth`` rows and every signal for them (cosine NaN if unknown)."""
        rows, scores = self._search(tids, qw, depth, exclude)
        hits = self._hits(rows, scores, self_q)
        cos = np.full(len(rows), np.nan)
        if qv is not None and self._emb is not None and len(rows):
            known = self._has_emb[rows]
            cos[known] = self._emb[rows[known]].astype(np.float32) @ qv
        char = (self._char_cos(qcodes, self._row_codes(rows)) if self.char_ngrams and len(rows)
                else np.full(len(rows), np.nan))
        return {"rows": rows, "hits": hits, "id": self._row_id[rows].astype(np.int64),
                "score": scores, "lexical": np.array([h.similarity for h in hits], np.float64),
                "char": char, "cosine": cos}

    def _rank(self, tids, qw, self_q, qcodes, qv, k: int, exclude: set[int]) -> list[Hit]:
        """The top ``k`` of a query: BM25F's own when there is nothing to fuse (no query
        embedding, character view off), else the fused order of the BM25F top
        ``max(k, fusion_depth)``."""
        if qv is None and not self.char_ngrams:
            rows, scores = self._search(tids, qw, k, exclude)
            return self._hits(rows, scores, self_q)
        d = self._candidates(tids, qw, self_q, qcodes, qv, max(k, self.fusion_depth), exclude)
        return self._fuse(d)[:k]

    def _fuse(self, d: dict) -> list[Hit]:
        """Candidates in the order of the z-score fusion (module docstring), ties by id.

        ``Hit.similarity`` is the BM25F similarity, or ``(1 - a) * similarity + a *
        max(cosine, 0)`` (``a`` = ``fusion_weight``) when both embeddings are known.
        """
        a = self.fusion_weight
        hits, cos = d["hits"], d["cosine"]
        known = ~np.isnan(cos)
        sim = d["lexical"].copy()
        sim[known] = (1 - a) * sim[known] + a * np.maximum(cos[known], 0.0)
        fused = [Hit(h.id, h.score, float(s)) for h, s in zip(hits, sim.tolist(), strict=True)]
        if len(hits) > 1:
            lexical = _zscore(d["lexical"])
            if self.char_ngrams:
                lexical = (lexical + _zscore(d["char"])) / 2
            key = lexical
            if known.any():
                zc = np.zeros(len(cos))
                zc[known] = _zscore(cos[known])  # pending items count as average
                key = (1 - a) * lexical + a * zc
        else:
            key = sim
        order = np.lexsort((d["id"], -np.asarray(key)))
        return [fused[i] for i in order.tolist()]

    def signals(self, text: Text, depth: int | None = None, *, exclude: Iterable[int] = (),
                vector: Sequence[float] | np.ndarray | None = None,
                embed: bool = True) -> dict[str, np.ndarray]:
        """The candidates of a query with each signal, for inspection and measurement.

        Returns arrays ``id``, ``score`` (BM25F), ``lexical`` (BM25F similarity), ``char``
        (character n-gram cosine; NaN when that view is off) and ``cosine`` (embedding
        cosine; NaN where an item's or the query's embedding is unknown), in BM25F order.
        """
        with self._lock:
            d = self._candidates(*self._text_query(text, vector, embed),
                                 depth or self.fusion_depth, set(exclude))
            return {k: d[k] for k in ("id", "score", "lexical", "char", "cosine")}

    def query(self, text: Text, k: int = 10, *, exclude: Iterable[int] = (),
              vector: Sequence[float] | np.ndarray | None = None,
              embed: bool = True) -> list[Hit]:
        """The ``k`` items most similar to ``text``, best first (ties by id).

        The BM25F top ``fusion_depth`` are re-ranked by the z-score fusion of the module
        docstring. ``vector`` is the query's embedding if already known; otherwise, with an
        embedder, the query is embedded now unless ``embed`` is False (then it is ranked on
        lexical evidence alone, as at intake). ``Hit.score`` is the BM25F score;
        ``Hit.similarity`` in [0, 1] is for thresholds: the BM25F similarity, or
        ``(1 - a) * similarity + a * max(cosine, 0)`` (``a`` = ``fusion_weight``) when both
        embeddings are known. With neither a query embedding nor the character view, the
        order is BM25F's.
        """
        with self._lock:
            return self._rank(*self._text_query(text, vector, embed), k, set(exclude))

    def query_id(self, item_id: int, k: int = 10) -> list[Hit]:
        """The ``k`` items most similar to an indexed item (itself excluded)."""
        with self._lock:
            item_id = int(item_id)
            return self._rank(*self._row_query(self._id_row[item_id]), k, {item_id})

    def char_similarity(self, a: Text, b: Text) -> float:
        """Character n-gram TF-IDF cosine in [0, 1] of two texts, with this index's df."""
        with self._lock:
            if not self.char_ngrams:
                raise ValueError("the character n-gram view is off")
            ca, cb = (_char_codes([_plain(x, self.field_weights)]) for x in (a, b))
            return float(self._char_cos(ca, cb)[0])

    def similarity(self, a: Text, b: Text) -> float:
        """Lexical similarity in [0, 1] of two texts, with this index's idf (need not be indexed).
        """
        with self._lock:
            ta, la = self._weighted_tf(self._fields(a))
            tb, lb = self._weighted_tf(self._fields(b))
            if not ta or not tb:
                return 0.0
            union = list(ta.keys() | tb.keys())
            tids = [self._term_id.get(t, -1) for t in union]
            df = np.array([self._df[i] if i >= 0 else 0 for i in tids], np.float64)
            idf = self._idf(df).astype(np.float64)
            va = self._impact(np.array([ta.get(t, 0.0) for t in union]), la).astype(np.float64)
            vb = self._impact(np.array([tb.get(t, 0.0) for t in union]), lb).astype(np.float64)
            num = float(np.sum(idf * va * vb))
            den = math.sqrt(float(np.sum(idf * va * va)) * float(np.sum(idf * vb * vb)))
            return num / den if den else 0.0

    def shared_terms(self, text: Text, item_id: int, limit: int = 20) -> list[str]:
        """Terms of ``text`` that the indexed item also has, strongest contribution first.

        Numbers lose their ``#``; a single Chinese character is left out when a shared
        two-character term already contains it, so the list reads as words to highlight.
        """
        with self._lock:
            tids, qw, _, _ = self._query_vector(text)
            t, w = self._row_vector(self._id_row[int(item_id)])
            common, iq, idoc = np.intersect1d(tids, t, assume_unique=True, return_indices=True)
            if not len(common):
                return []
            contrib = qw[iq] * w[idoc]
            order = np.lexsort((common, -contrib))
            terms = [self._terms[int(common[i])] for i in order]
            bigram_chars = {c for term in terms if len(term) == 2 and _is_cjk(term) for c in term}
            out = [display(term) for term in terms
                   if not (len(term) == 1 and _is_cjk(term) and term in bigram_chars)]
            return list(dict.fromkeys(out))[:limit]

    # -------------------------------------------------------------- embeddings
    def pending_embeddings(self) -> int:
        """How many items still wait for their embedding."""
        return len(self._pending)

    def embed_pending(self, limit: int | None = None, batch: int = 64) -> int:
        """Embed items that are waiting (oldest first); returns how many were embedded."""
        if self.embedder is None:
            return 0
        done = 0
        while self._pending and (limit is None or done < limit):
            with self._lock:
                take = batch if limit is None else min(batch, limit - done)
                chunk = list(self._pending.items())[:take]
            vecs = np.asarray(self.embedder.embed([text for _, text in chunk]))
            with self._lock:
                for (item_id, text), v in zip(chunk, vecs, strict=True):
                    if self._pending.get(item_id) == text:
                        self._set_embedding(item_id, v)
            done += len(chunk)
        return done

    def set_embedding(self, item_id: int, vector: Sequence[float] | np.ndarray) -> None:
        """Store an item's embedding computed elsewhere (e.g. kept in the database)."""
        with self._lock:
            self._set_embedding(int(item_id), np.asarray(vector, np.float32))

    def _set_embedding(self, item_id: int, vector: np.ndarray) -> None:
        row = self._id_row[item_id]
        if self._emb is None or self._emb.shape[0] < len(self._alive):
            dim = vector.shape[0] if self._emb is None else self._emb.shape[1]
            emb = np.zeros((len(self._alive), dim), np.float16)
            if self._emb is not None:
                emb[: self._emb.shape[0]] = self._emb
            self._emb = emb
        self._emb[row] = vector
        self._has_emb[row] = True
        self._pending.pop(item_id, None)

    # -------------------------------------------------------------- clustering
    def _gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Forward entries (local index, term, impact) of ``rows``, sorted by (index, term)."""
        loc_l, term_l, imp_l = [], [], []
        frozen = rows < self._rf
        fr = np.flatnonzero(frozen)
        if len(fr):
            r = rows[fr]
            a, b = self._foff[r], self._foff[r + 1]
            cnt = b - a
            idx = _ranges(a, cnt)
            loc_l.append(np.repeat(fr, cnt))
            term_l.append(self._fterm[idx])
            imp_l.append(self._ftf[idx].astype(np.float32))
        for i in np.flatnonzero(~frozen).tolist():
            r = int(rows[i]) - self._rf
            a, b = self._doff[r], self._doff[r + 1]
            loc_l.append(np.full(b - a, i, np.int64))
            term_l.append(np.frombuffer(self._dterm, np.int32)[a:b].copy())
            imp_l.append(np.frombuffer(self._dtf, np.float32)[a:b].copy())
        if not loc_l:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
        loc = np.concatenate(loc_l).astype(np.int64)
        term = np.concatenate(term_l).astype(np.int64)
        imp = self._impact(np.concatenate(imp_l), self._len[rows[loc]])
        order = np.lexsort((term, loc))
        return loc[order], term[order], imp[order]

    def cluster(
        self,
        ids: Iterable[int] | None = None,
        *,
        threshold: float = 0.5,
        k: int = 10,
        budget: int = 256,
    ) -> list[list[int]]:
        """Group indexed items into near-duplicate clusters; every id is in exactly one group.

        Each item's ``k`` nearest neighbours within the set (lexical similarity, exactly
        scored among candidates that share its rarer terms, at most ``budget`` postings of
        them) give edges with similarity >= ``threshold``. Edges are joined strongest first
        (union-find); two groups join only if their leaders (the first item of each group)
        are themselves at least ``threshold`` similar, which stops chains of loosely related
        items from snowballing. Two items that both name numbered things ("8号炉", "No. 3")
        with no number in common are never linked directly. Groups come out largest first,
        then by smallest id; ids inside a group are sorted. Deterministic. Raises KeyError for
        ids that are not indexed.
        """
        with self._lock:
            uniq = sorted({int(i) for i in (self.ids() if ids is None else ids)})
            if not uniq:
                return []
            rows = np.array([self._id_row[i] for i in uniq], np.int64)
            sims = self._neighbour_sims(rows, k=k, budget=budget)
            return self._link(uniq, sims, threshold, k)

    def _neighbour_sims(self, rows: np.ndarray, *, k: int, budget: int) -> dict:
        """Candidate pairs (a < b, local indices) with their exact lexical similarity."""
        n = len(rows)
        loc, term, imp = self._gather(rows)
        if n < 2 or not len(loc):
            return {"a": np.zeros(0, np.int64), "b": np.zeros(0, np.int64),
                    "sim": np.zeros(0), "loc": loc, "term": term, "imp": imp,
                    "qv": np.zeros(0, np.float32), "self": np.zeros(n), "start": None}
        idf = self._idf(self._df[term])
        qv = idf * imp
        selfs = np.bincount(loc, weights=qv * imp, minlength=n)
        start = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(loc, minlength=n), out=start[1:])
        # sub-index: sorted by (term, loc)
        inv_order = np.lexsort((loc, term))
        s_term, s_loc, s_imp = term[inv_order], loc[inv_order], imp[inv_order]
        bounds = np.flatnonzero(np.diff(s_term)) + 1
        g_start = np.concatenate(([0], bounds))
        g_cnt = np.diff(np.concatenate((g_start, [len(s_term)])))
        grp_of_sorted = np.repeat(np.arange(len(g_start)), g_cnt)
        grp = np.empty(len(term), np.int64)
        grp[inv_order] = grp_of_sorted
        sub_df = g_cnt[grp]
        # candidate generation: per item, rarest terms first, within a postings budget
        useful = sub_df > 1
        e_idx = np.flatnonzero(useful)
        e_order = e_idx[np.lexsort((term[e_idx], sub_df[e_idx], loc[e_idx]))]
        sel = e_order[:0]
        if len(e_order):
            e_loc = loc[e_order]
            cost = sub_df[e_order] - 1
            csum = np.cumsum(cost)
            g_first = np.flatnonzero(np.concatenate(([True], e_loc[1:] != e_loc[:-1])))
            sizes = np.diff(np.append(g_first, len(e_loc)))
            within = csum - np.repeat(csum[g_first] - cost[g_first], sizes)
            is_first = np.zeros(len(e_loc), bool)
            is_first[g_first] = True
            pick = (within <= budget) | (is_first & (cost <= 4 * budget))
            sel = e_order[pick]
        pair_a: list[np.ndarray] = []
        pair_b: list[np.ndarray] = []
        limit_c = max(2 * k, 20)
        if len(sel):
            s_cost = sub_df[sel]
            marks = np.arange(1, int(s_cost.sum()) // _BLOCK + 2) * _BLOCK
            blocks = np.searchsorted(np.cumsum(s_cost), marks)
            lo = 0
            for hi in [*blocks.tolist(), len(sel)]:
                if hi <= lo:
                    continue
                es = sel[lo:hi]
                lo = hi
                cnt = sub_df[es]
                gs = g_start[grp[es]]
                idx = _ranges(gs, cnt)
                a = np.repeat(loc[es], cnt)
                bb = s_loc[idx]
                contrib = np.repeat(qv[es], cnt) * s_imp[idx]
                keep = a != bb
                a, bb, contrib = a[keep], bb[keep], contrib[keep]
                key = a * n + bb
                o = np.argsort(key, kind="stable")
                key, contrib = key[o], contrib[o]
                first_k = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
                part = np.add.reduceat(contrib, first_k) if len(first_k) else contrib[:0]
                ukey = key[first_k]
                ua, ub = ukey // n, ukey % n
                o2 = np.lexsort((ub, -part, ua))
                ua, ub = ua[o2], ub[o2]
                g0 = np.flatnonzero(np.concatenate(([True], ua[1:] != ua[:-1])))
                rank = np.arange(len(ua)) - np.repeat(g0, np.diff(np.append(g0, len(ua))))
                top = rank < limit_c
                pair_a.append(ua[top])
                pair_b.append(ub[top])
        if pair_a:
            pa, pb = np.concatenate(pair_a), np.concatenate(pair_b)
            lo_, hi_ = np.minimum(pa, pb), np.maximum(pa, pb)
            ukey = np.unique(lo_ * n + hi_)
            pa, pb = ukey // n, ukey % n
        else:
            pa = pb = np.zeros(0, np.int64)
        # exact scores: expand the shorter side's terms, look them up in the other's postings
        comp = s_term * n + s_loc  # sorted
        scores = np.zeros(len(pa), np.float64)
        lens = np.diff(start)
        swap = lens[pa] > lens[pb]
        qa = np.where(swap, pb, pa)
        qb = np.where(swap, pa, pb)
        step = max(1, _BLOCK // max(1, int(lens.mean())))
        for lo in range(0, len(qa), step):
            xa, xb = qa[lo:lo + step], qb[lo:lo + step]
            cnt = lens[xa]
            idx = _ranges(start[xa], cnt)
            pid = np.repeat(np.arange(len(xa)), cnt)
            needle = term[idx] * n + np.repeat(xb, cnt)
            pos = np.searchsorted(comp, needle)
            pos_c = np.minimum(pos, len(comp) - 1)
            hit = comp[pos_c] == needle
            scores[lo:lo + len(xa)] = np.bincount(
                pid[hit], weights=qv[idx[hit]] * s_imp[pos_c[hit]], minlength=len(xa))
        den = np.sqrt(selfs[pa] * selfs[pb])
        sim = np.where(den > 0, scores / np.where(den > 0, den, 1), 0.0)
        return {"a": pa, "b": pb, "sim": np.minimum(sim, 1.0), "loc": loc, "term": term,
                "imp": imp, "qv": qv, "self": selfs, "start": start}

    def _ident_sets(self, d: dict) -> dict[int, set[int]]:
        if not self._ident_terms or not len(d["term"]):
            return {}
        mask = np.isin(d["term"], np.array(self._ident_terms, np.int64))
        out: dict[int, set[int]] = {}
        for i, t in zip(d["loc"][mask].tolist(), d["term"][mask].tolist(), strict=True):
            out.setdefault(i, set()).add(t)
        return out

    def _pair_sim(self, x: int, y: int, d: dict) -> float:
        start, term = d["start"], d["term"]
        ta = term[start[x]:start[x + 1]]
        tb = term[start[y]:start[y + 1]]
        _, ia, ib = np.intersect1d(ta, tb, assume_unique=True, return_indices=True)
        s = float(np.sum(d["qv"][start[x] + ia] * d["imp"][start[y] + ib]))
        den = math.sqrt(d["self"][x] * d["self"][y])
        return min(1.0, s / den) if den else 0.0

    def _link(self, uniq: list[int], d: dict, threshold: float, k: int) -> list[list[int]]:
        n = len(uniq)
        pa, pb, sim = d["a"], d["b"], d["sim"]
        ok = sim >= threshold
        pa, pb, sim = pa[ok], pb[ok], sim[ok]
        # keep an edge if it is among the k best of either end
        both_a = np.concatenate((pa, pb))
        both_b = np.concatenate((pb, pa))
        both_s = np.concatenate((sim, sim))
        o = np.lexsort((both_b, -both_s, both_a))
        both_a, both_b, both_s = both_a[o], both_b[o], both_s[o]
        if len(both_a):
            g0 = np.flatnonzero(np.concatenate(([True], both_a[1:] != both_a[:-1])))
            rank = np.arange(len(both_a)) - np.repeat(g0, np.diff(np.append(g0, len(both_a))))
            keep = rank < k
            ea = np.minimum(both_a, both_b)[keep]
            eb = np.maximum(both_a, both_b)[keep]
            es = both_s[keep]
            key, first = np.unique(ea * n + eb, return_index=True)
            ea, eb, es = ea[first], eb[first], es[first]
            o = np.lexsort((eb, ea, -es))
            edges = list(zip(ea[o].tolist(), eb[o].tolist(), es[o].tolist(), strict=True))
        else:
            edges = []
        idents = self._ident_sets(d)
        if idents:
            edges = [e for e in edges if not (e[0] in idents and e[1] in idents
                                              and idents[e[0]].isdisjoint(idents[e[1]]))]
        known = {(a, b): s for a, b, s in edges}
        uf = _UnionFind(n)
        leader = list(range(n))
        checked: dict[tuple[int, int], float] = {}
        for a, b, _ in edges:
            ra, rb = uf.find(a), uf.find(b)
            if ra == rb:
                continue
            la, lb = leader[ra], leader[rb]
            if (la, lb) != (a, b) and (la, lb) != (b, a):
                key = (min(la, lb), max(la, lb))
                ls = known.get(key)
                if ls is None:
                    ls = checked.get(key)
                    if ls is None:
                        ls = checked[key] = self._pair_sim(key[0], key[1], d)
                if ls < threshold:
                    continue
            # the bigger group's leader leads (ties: the smaller index)
            big, small = (ra, rb) if (uf.size[ra], -leader[ra]) >= (uf.size[rb], -leader[rb]) \
                else (rb, ra)
            uf.parent[small] = big
            uf.size[big] += uf.size[small]
        groups: dict[int, list[int]] = {}
        for i in range(n):
            groups.setdefault(uf.find(i), []).append(uniq[i])
        out = list(groups.values())
        out.sort(key=lambda g: (-len(g), g[0]))
        return out


def _is_cjk(s: str) -> bool:
    return all("\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" for c in s)
