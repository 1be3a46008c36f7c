"""The lexical index: vocabulary, rows, and the BM25F postings in a frozen and a delta segment.

Every item (an opinion, or any text with an integer id) is a row holding a sparse vector of
BM25F term frequencies (:mod:`.bm25f`). A query is analysed the same way, so

    score(q, d) = sum over shared t of idf(t) * imp_q(t) * imp_d(t),

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

Rows are never reused: the character view and the embedding store keep their own per-row
data under the same row numbers.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable

import numpy as np

from ..text import IDENT, display
from . import bm25f
from .arrays import give_back, ranges

_INT64 = (-(1 << 63), (1 << 63) - 1)


class IdMap:
    """Item id -> row, without a Python object per id: the ids folded so far sorted in a
    numpy array (int64) with their rows (int32; -1 once removed), and a dict of the ids
    added since, folded in when it holds ``fold`` of them. At 1,000,000 ids: 12 MB, where a
    dict of int objects took about 100 MB. A lookup is a dict probe and a binary search."""

    def __init__(self, fold: int = 1 << 16) -> None:
        self.keys = np.zeros(0, np.int64)
        self.vals = np.zeros(0, np.int32)
        self.recent: dict[int, int] = {}
        self.fold = int(fold)
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def _at(self, item_id: int) -> int:
        """The index of a live folded id in ``keys``, else -1."""
        if not len(self.keys) or not _INT64[0] <= item_id <= _INT64[1]:
            return -1
        i = int(self.keys.searchsorted(item_id))
        if i < len(self.keys) and self.keys[i] == item_id and self.vals[i] >= 0:
            return i
        return -1

    def get(self, item_id, default=None):
        r = self.recent.get(item_id)
        if r is not None:
            return r
        if not isinstance(item_id, int | np.integer):
            return default
        i = self._at(int(item_id))
        return default if i < 0 else int(self.vals[i])

    def __contains__(self, item_id) -> bool:
        return self.get(item_id) is not None

    def __getitem__(self, item_id) -> int:
        r = self.get(item_id)
        if r is None:
            raise KeyError(item_id)
        return r

    def __setitem__(self, item_id: int, row: int) -> None:
        """Map an id that is not mapped now."""
        self.recent[int(item_id)] = int(row)
        self.n += 1
        if len(self.recent) >= self.fold:
            self._fold()

    def pop(self, item_id) -> int:
        r = self.recent.pop(item_id, None)
        if r is None:
            i = self._at(int(item_id))
            if i < 0:
                raise KeyError(item_id)
            r = int(self.vals[i])
            self.vals[i] = -1
        self.n -= 1
        return r

    def _fold(self) -> None:
        live = self.vals >= 0
        keys = np.concatenate((self.keys[live], np.fromiter(self.recent, np.int64,
                                                            len(self.recent))))
        vals = np.concatenate((self.vals[live], np.fromiter(self.recent.values(), np.int32,
                                                            len(self.recent))))
        order = np.argsort(keys, kind="stable")
        self.keys, self.vals = keys[order], vals[order]
        self.recent = {}

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """The rows of ``ids`` (int64), -1 where an id is not mapped."""
        ids = np.asarray(ids, np.int64)
        out = np.full(len(ids), -1, np.int64)
        if len(self.keys):
            i = np.minimum(self.keys.searchsorted(ids), len(self.keys) - 1)
            hit = self.keys[i] == ids
            out[hit] = self.vals[i[hit]]
        if self.recent:
            for j in np.flatnonzero(out < 0).tolist():
                out[j] = self.recent.get(int(ids[j]), -1)
        return out


class LexicalIndex:
    """Terms, rows and postings. Not locked: the engine in front of it takes the lock."""

    def __init__(self, *, k1: float, b: float, merge_min: int, merge_fraction: float) -> None:
        self.k1, self.b = float(k1), float(b)
        self.merge_min = int(merge_min)
        self.merge_fraction = float(merge_fraction)
        # vocabulary
        self.term_id: dict[str, int] = {}
        self.terms: list[str] = []
        self.ident_terms: list[int] = []  # ids of "№8"-style identifier tokens
        self.df = np.zeros(1024, dtype=np.int32)
        # rows
        self.id_row = IdMap()
        self.row_id = np.zeros(1024, dtype=np.int64)
        self.alive = np.zeros(1024, dtype=bool)
        self.length = np.zeros(1024, dtype=np.float32)  # weighted length of each row
        self.len_sum = 0.0
        self.rows = 0  # rows ever used (live and removed)
        self.n = 0  # live rows
        # frozen segment: inverted (per term) and forward (per row) CSR
        self.vf = 0  # terms covered by ptr
        self.ptr = np.zeros(1, dtype=np.int64)
        self.prow = np.zeros(0, dtype=np.int32)
        self.ptf = np.zeros(0, dtype=np.float16)
        self.rf = 0  # rows covered by foff
        self.foff = np.zeros(1, dtype=np.int64)
        self.fterm = np.zeros(0, dtype=np.int32)
        self.ftf = np.zeros(0, dtype=np.float16)
        self.dead_frozen = 0  # postings of removed rows still in the frozen segment
        # delta segment: forward arrays for rows >= rf, and per-term postings for queries
        self.dterm = array("i")
        self.dtf = array("f")
        self.doff = array("q", [0])
        self.dpost: dict[int, tuple[array, array]] = {}
        self.unposted = False  # bulk rows in the delta without dpost postings

    # ------------------------------------------------------------------ basics
    @property
    def capacity(self) -> int:
        """Rows the per-row arrays can hold now."""
        return len(self.alive)

    def ids(self) -> list[int]:
        """The live ids, in insertion order."""
        rows = np.flatnonzero(self.alive[: self.rows])
        return [int(x) for x in self.row_id[rows]]

    def idf(self, df: np.ndarray) -> np.ndarray:
        return bm25f.idf(df, self.n)

    def avglen(self, fallback: float) -> float:
        return self.len_sum / self.n if self.n else fallback

    def impact(self, tf: np.ndarray, length: np.ndarray | float) -> np.ndarray:
        """BM25 saturation with length normalisation against the current average length."""
        avg = self.avglen(float(np.mean(length)) if np.size(length) else 1.0) or 1.0
        return bm25f.impact(tf, length, avg, self.k1, self.b)

    # ------------------------------------------------------------------ vectors
    def query_vector(self, tf: dict[str, float],
                     length: float) -> tuple[np.ndarray, np.ndarray, float]:
        """Known term ids of a query's weighted tf, their query weights idf*imp, and the
        query's self-score."""
        if not tf:
            return np.zeros(0, np.int64), np.zeros(0, np.float32), 0.0
        terms = list(tf)
        imp = self.impact(np.fromiter(tf.values(), np.float32, len(tf)), length)
        tids = np.fromiter((self.term_id.get(t, -1) for t in terms), np.int64, len(terms))
        df = np.where(tids >= 0, self.df[np.maximum(tids, 0)], 0)
        idf = self.idf(df)
        self_score = float(np.sum(idf * imp * imp))
        known = tids >= 0
        return tids[known], (idf * imp)[known], self_score

    def row_terms(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Term ids and (weighted) term frequencies of an indexed row."""
        if row < self.rf:
            a, b = self.foff[row], self.foff[row + 1]
            return self.fterm[a:b].astype(np.int64), self.ftf[a:b]
        r = row - self.rf
        a, b = self.doff[r], self.doff[r + 1]
        t = np.frombuffer(self.dterm, np.int32)[a:b].astype(np.int64)
        return t, np.frombuffer(self.dtf, np.float32)[a:b]

    def row_vector(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Term ids and impacts of an indexed row."""
        t, tf = self.row_terms(row)
        return t, self.impact(tf, self.length[row])

    def row_query_vector(self, row: int) -> tuple[np.ndarray, np.ndarray, float]:
        """An indexed row as a query, in the form of :meth:`query_vector`."""
        t, w = self.row_vector(row)
        qw = self.idf(self.df[t]) * w
        return t, qw, float(np.sum(qw * w))

    def self_scores(self, rows: np.ndarray) -> np.ndarray:
        out = np.zeros(len(rows), np.float64)
        for i, row in enumerate(rows.tolist()):
            t, w = self.row_vector(row)
            out[i] = float(np.sum(self.idf(self.df[t]) * w * w))
        return out

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Forward entries (local index, term, impact) of ``rows``, sorted by (index, term)."""
        loc_l, term_l, imp_l = [], [], []
        frozen = rows < self.rf
        fr = np.flatnonzero(frozen)
        if len(fr):
            r = rows[fr]
            a, b = self.foff[r], self.foff[r + 1]
            cnt = b - a
            idx = ranges(a, cnt)
            loc_l.append(np.repeat(fr, cnt))
            term_l.append(self.fterm[idx])
            imp_l.append(self.ftf[idx].astype(np.float32))
        for i in np.flatnonzero(~frozen).tolist():
            r = int(rows[i]) - self.rf
            a, b = self.doff[r], self.doff[r + 1]
            loc_l.append(np.full(b - a, i, np.int64))
            term_l.append(np.frombuffer(self.dterm, np.int32)[a:b].copy())
            imp_l.append(np.frombuffer(self.dtf, np.float32)[a:b].copy())
        if not loc_l:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
        loc = np.concatenate(loc_l).astype(np.int64)
        term = np.concatenate(term_l).astype(np.int64)
        imp = self.impact(np.concatenate(imp_l), self.length[rows[loc]])
        order = np.lexsort((term, loc))
        return loc[order], term[order], imp[order]

    def similarity(self, ta: dict[str, float], la: float, tb: dict[str, float],
                   lb: float) -> float:
        """Lexical similarity in [0, 1] of two weighted tfs, with this index's idf."""
        if not ta or not tb:
            return 0.0
        union = list(ta.keys() | tb.keys())
        tids = [self.term_id.get(t, -1) for t in union]
        df = np.array([self.df[i] if i >= 0 else 0 for i in tids], np.float64)
        idf = self.idf(df).astype(np.float64)
        va = self.impact(np.array([ta.get(t, 0.0) for t in union]), la).astype(np.float64)
        vb = self.impact(np.array([tb.get(t, 0.0) for t in union]), lb).astype(np.float64)
        num = float(np.sum(idf * va * vb))
        den = math.sqrt(float(np.sum(idf * va * va)) * float(np.sum(idf * vb * vb)))
        return num / den if den else 0.0

    def shared_terms(self, tids: np.ndarray, qw: np.ndarray, row: int, limit: int) -> list[str]:
        """Terms of a query vector that ``row`` also has, strongest contribution first, as
        words to highlight (see :meth:`GroupingEngine.shared_terms`)."""
        t, w = self.row_vector(row)
        common, iq, idoc = np.intersect1d(tids, t, assume_unique=True, return_indices=True)
        if not len(common):
            return []
        contrib = qw[iq] * w[idoc]
        order = np.lexsort((common, -contrib))
        terms = [self.terms[int(common[i])] for i in order]
        bigram_chars = {c for term in terms if len(term) == 2 and _is_cjk(term) for c in term}
        out = [display(term) for term in terms
               if not (len(term) == 1 and _is_cjk(term) and term in bigram_chars)]
        return list(dict.fromkeys(out))[:limit]

    # ---------------------------------------------------------------- indexing
    def _grow_rows(self, need: int) -> None:
        cap = len(self.alive)
        if need <= cap:
            return
        new = max(need, cap * 2)
        for name in ("row_id", "alive", "length"):
            old = getattr(self, name)
            arr = np.zeros(new, dtype=old.dtype)
            arr[: len(old)] = old
            setattr(self, name, arr)

    def _grow_vocab(self) -> None:
        need = len(self.terms)
        if need > len(self.df):
            arr = np.zeros(max(need, 2 * len(self.df)), np.int32)
            arr[: len(self.df)] = self.df
            self.df = arr

    def ingest(self, ids: list[int], vectors: Iterable[tuple[dict[str, float], float]],
               postings: bool) -> int:
        """Append items (ids not yet indexed; their weighted tf and length, see
        :func:`.bm25f.weighted_tf`) to the delta segment; returns the first new row.
        Without ``postings`` the rows wait, unposted, for the next :meth:`merge`."""
        term_id, terms = self.term_id, self.terms
        all_t = array("i")
        all_tf = array("f")
        counts = []
        lengths = []
        for tf, length in vectors:
            for t, v in tf.items():
                tid = term_id.get(t)
                if tid is None:
                    tid = term_id[t] = len(terms)
                    terms.append(t)
                    if t[0] == IDENT:
                        self.ident_terms.append(tid)
                all_t.append(tid)
                all_tf.append(v)
            counts.append(len(tf))
            lengths.append(length)
        self._grow_vocab()
        if len(all_t):
            tid_np = np.frombuffer(all_t, np.int32)
            self.df[: len(terms)] += np.bincount(tid_np, minlength=len(terms)).astype(np.int32)
            del tid_np
        first = self.rows
        self._grow_rows(first + len(ids))
        for i, item_id in enumerate(ids):
            row = first + i
            self.id_row[item_id] = row
            self.row_id[row] = item_id
            self.alive[row] = True
        self.length[first : first + len(ids)] = lengths
        self.len_sum += float(sum(lengths))
        self.rows += len(ids)
        self.n += len(ids)
        base = len(self.dterm)
        self.dterm.extend(all_t)
        self.dtf.extend(all_tf)
        off = base
        for n_terms in counts:
            off += n_terms
            self.doff.append(off)
        if postings:
            pos = 0
            dpost = self.dpost
            for i, n_terms in enumerate(counts):
                row = first + i
                for j in range(pos, pos + n_terms):
                    entry = dpost.get(all_t[j])
                    if entry is None:
                        entry = dpost[all_t[j]] = (array("i"), array("f"))
                    entry[0].append(row)
                    entry[1].append(all_tf[j])
                pos += n_terms
        else:
            self.unposted = True
        return first

    def remove(self, item_id: int) -> int:
        """Tombstone an indexed id; returns its row."""
        row = self.id_row.pop(item_id)
        self.alive[row] = False
        t, _ = self.row_terms(row)
        self.df[t] -= 1
        self.n -= 1
        self.len_sum -= float(self.length[row])
        if row < self.rf:
            self.dead_frozen += len(t)
        return row

    # ----------------------------------------------------------------- merging
    def delta_size(self) -> int:
        return len(self.dterm)

    def merge_limit(self) -> int:
        return max(self.merge_min, int(self.merge_fraction * len(self.prow)))

    def maybe_merge(self) -> None:
        if self.delta_size() >= self.merge_limit() or (
            self.dead_frozen > self.merge_limit()
        ):
            self.merge()

    def merge(self) -> None:
        """Fold the delta segment into the frozen arrays and drop removed postings."""
        vocab = len(self.terms)
        rf_new = self.rows
        # delta as CSR by term (rows ascending within a term: stable sort of row-major data)
        d_term = np.frombuffer(self.dterm, np.int32).copy() if len(self.dterm) else np.zeros(
            0, np.int32)
        d_tf = (np.frombuffer(self.dtf, np.float32).astype(np.float16) if len(self.dtf)
                else np.zeros(0, np.float16))
        d_off = np.frombuffer(self.doff, np.int64).copy()
        self.dterm, self.dtf, self.doff = array("i"), array("f"), array("q", [0])  # copied
        d_rows = np.repeat(np.arange(self.rf, rf_new, dtype=np.int32), np.diff(d_off))
        d_alive = self.alive[d_rows]
        d_order = np.argsort(d_term, kind="stable")
        d_order = d_order[d_alive[d_order]]
        d_cnt = np.bincount(d_term[d_order], minlength=vocab)
        d_ptr = np.zeros(vocab + 1, np.int64)
        np.cumsum(d_cnt, out=d_ptr[1:])
        # frozen counts, without removed rows
        f_cnt = np.zeros(vocab, np.int64)
        f_cnt[: self.vf] = np.diff(self.ptr)
        drop = self.dead_frozen > 0
        if drop:
            keep_all = self.alive[self.prow]
            nonempty = f_cnt[: self.vf] > 0
            kept = np.zeros(self.vf, np.int64)
            if nonempty.any():
                starts = self.ptr[:-1][nonempty]
                kept[nonempty] = np.add.reduceat(keep_all, starts, dtype=np.int64)
            f_new = np.zeros(vocab, np.int64)
            f_new[: self.vf] = kept
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
        old_ptr = self.ptr
        step = 1 << 20  # postings per chunk: about 40 MB of temporaries
        t0 = 0
        while t0 < self.vf:
            t1 = int(np.searchsorted(old_ptr, old_ptr[t0] + step, side="right"))
            t1 = min(max(t1 - 1, t0 + 1), self.vf)
            a, b = int(old_ptr[t0]), int(old_ptr[t1])
            if b > a:
                rows = self.prow[a:b]
                tfs = self.ptf[a:b]
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
        # The old postings, the delta's buffers and the temporaries go before the forward
        # arrays are copied: the peak of a merge is one copy of the index, not two.
        self.ptr, self.prow, self.ptf, self.vf = ptr, prow, ptf, vocab
        ptr = prow = ptf = old_ptr = keep_all = d_order = d_rows = d_alive = None
        rows = tfs = term_of = rank = dest = k = dt = None  # views into the old postings
        self.dpost = {}
        give_back()
        # forward: append delta rows
        self.foff = np.concatenate((self.foff, self.foff[-1] + d_off[1:]))
        self.fterm = np.concatenate((self.fterm, d_term))
        self.ftf = np.concatenate((self.ftf, d_tf))
        self.rf = rf_new
        self.dead_frozen = 0
        self.unposted = False
        give_back()

    # ---------------------------------------------------------------- postings
    def posting_parts(self, t: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """The postings (rows ascending, tf) of term ``t``: frozen part, then delta part."""
        parts = []
        if t < self.vf:
            a, b = self.ptr[t], self.ptr[t + 1]
            if b > a:
                parts.append((self.prow[a:b], self.ptf[a:b]))
        d = self.dpost.get(t)
        if d is not None:
            parts.append((np.frombuffer(d[0], np.int32), np.frombuffer(d[1], np.float32)))
        return parts

    def posting_len(self, t: int) -> int:
        n = int(self.ptr[t + 1] - self.ptr[t]) if t < self.vf else 0
        d = self.dpost.get(t)
        return n + (len(d[0]) if d is not None else 0)


def _is_cjk(s: str) -> bool:
    return all("\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" for c in s)
