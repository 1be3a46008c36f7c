"""The grouping engine: BM25F lexical search and clustering over opinions, pure Python + numpy.

:class:`GroupingEngine` is the front: it holds the settings and the lock and hands each
question to the part that answers it, one module per job:

- :mod:`.bm25f`: a text's field-weighted term frequencies; the BM25F idf and saturation.
- :mod:`.index`: vocabulary, rows and postings (frozen and delta segments, merging), the
  BM25F similarity, shared terms. Rows are the index's; the other parts key on them.
- :mod:`.chars`: the character n-gram view (kept texts, hashed df, its cosine).
- :mod:`.embeddings`: optional embeddings, stored per row, and the texts waiting for one.
- :mod:`.ranking`: the pruned BM25F top-k and the vector top-k (both views nominate), ranked
  by the noisy-OR of BM25F similarity and calibrated cosine, with the better view's evidence,
  max(BM25F similarity, calibrated cosine), as the similarity for thresholds; without
  vectors, the z-score fusion of BM25F similarity and character cosine.
- :mod:`.clustering`: near-duplicate groups from nearest neighbours (union-find).

Each module's docstring gives its model. No parameter is fitted to data: z-scores, equal
weights, and the standard BM25 (k1 = 1.2, b = 0.75) and TF-IDF settings.

The engine is not meant to be shared between threads without a lock; it takes one itself
around every public method, so concurrent calls are serialised, not interleaved.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from . import bm25f, clustering, ranking
from .bm25f import DEFAULT_FIELD, Text
from .chars import CharView, text_codes
from .embeddings import Embedder, EmbeddingStore
from .index import LexicalIndex
from .ranking import Hit, Query

__all__ = ["Embedder", "GroupingEngine", "Hit", "Text"]


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
        self.embedder = embedder
        self.fusion_weight = float(fusion_weight)
        self.fusion_depth = int(fusion_depth)
        self.max_postings = int(max_postings)
        self.candidates = int(candidates)
        self._lock = threading.RLock()
        self._index = LexicalIndex(k1=k1, b=b, merge_min=merge_min,
                                   merge_fraction=merge_fraction)
        self._chars = CharView() if char_ngrams else None
        self._emb = EmbeddingStore()

    # Settings that belong to a part, readable here as before (one place holds each).
    @property
    def k1(self) -> float:
        return self._index.k1

    @property
    def b(self) -> float:
        return self._index.b

    @property
    def merge_min(self) -> int:
        return self._index.merge_min

    @property
    def merge_fraction(self) -> float:
        return self._index.merge_fraction

    @property
    def char_ngrams(self) -> bool:
        """Whether the character n-gram view is on."""
        return self._chars is not None

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return self._index.n

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._index.id_row

    def ids(self) -> list[int]:
        """The ids currently indexed, in insertion order."""
        with self._lock:
            return self._index.ids()

    def _plain(self, text: Text) -> str:
        return bm25f.plain(text, self.field_weights)

    # ---------------------------------------------------------------- indexing
    def _ingest(self, items: list[tuple[int, Text]], postings: bool) -> None:
        """Append items (ids not yet indexed) to every part."""
        fw = self.field_weights
        first = self._index.ingest([item_id for item_id, _ in items],
                                   (bm25f.weighted_tf(text, fw) for _, text in items), postings)
        self._emb.reserve(self._index.capacity)
        if self._chars is not None:
            self._chars.add(first, [self._plain(text) for _, text in items], self._index.alive)
        if self.embedder is not None:
            for item_id, text in items:
                self._emb.pending[item_id] = self._plain(text)

    def _remove(self, item_id: int) -> None:
        row = self._index.remove(item_id)
        self._emb.drop(item_id, row)
        if self._chars is not None:
            self._chars.remove(row)

    def add(self, item_id: int, text: Text) -> None:
        """Index one item (a string, or a mapping of field name to string). Re-adding an id
        replaces its text."""
        with self._lock:
            item_id = int(item_id)
            if item_id in self._index.id_row:
                self._remove(item_id)
            self._ingest([(item_id, text)], postings=True)
            self._index.maybe_merge()

    def add_many(self, items: Iterable[tuple[int, Text]], *, chunk: int = 20_000) -> None:
        """Index many ``(id, text)`` pairs; much faster than :meth:`add` for large batches.

        A small batch goes to the delta segment like single adds; a large one is appended
        in bulk and folded into the frozen arrays before this returns.
        """
        with self._lock:
            index = self._index
            it = iter(items)
            bulk = False
            while True:
                batch: list[tuple[int, Text]] = []
                seen: set[int] = set()
                for item_id, text in it:
                    item_id = int(item_id)
                    if item_id in seen:  # a repeated id within the chunk: last text wins
                        batch = [(i, t) for i, t in batch if i != item_id]
                    elif item_id in index.id_row:
                        self._remove(item_id)
                    batch.append((item_id, text))
                    seen.add(item_id)
                    if len(batch) >= chunk:
                        break
                if not batch:
                    break
                if not bulk and len(batch) < min(chunk, 5_000):
                    self._ingest(batch, postings=True)
                    index.maybe_merge()
                    break
                bulk = True
                self._ingest(batch, postings=False)
                if index.delta_size() >= index.merge_limit():
                    index.merge()
            if index.unposted:
                index.merge()

    def remove(self, item_id: int) -> bool:
        """Drop an item; returns False if it was not indexed."""
        with self._lock:
            if int(item_id) not in self._index.id_row:
                return False
            self._remove(int(item_id))
            self._index.maybe_merge()
            return True

    def optimize(self) -> None:
        """Fold the delta segment into the frozen arrays and drop removed postings now."""
        with self._lock:
            self._index.merge()

    # ------------------------------------------------------------------ search
    def _query_embedding(self, text: Text, vector, embed: bool) -> np.ndarray | None:
        if vector is not None:
            return np.asarray(vector, np.float32)
        if self.embedder is None or not embed or not self._emb.any():
            return None
        return np.asarray(self.embedder.embed([self._plain(text)]), np.float32)[0]

    def _text_query(self, text: Text, vector, embed: bool) -> Query:
        tids, qw, self_q = self._index.query_vector(*bm25f.weighted_tf(text, self.field_weights))
        qcodes = (text_codes([self._plain(text)]) if self._chars is not None
                  else np.zeros(0, np.uint16))
        return Query(tids, qw, self_q, qcodes, self._query_embedding(text, vector, embed))

    def _row_query(self, row: int) -> Query:
        """An indexed row as a query, in the form of :meth:`_text_query`."""
        tids, qw, self_q = self._index.row_query_vector(row)
        qcodes = (self._chars.codes(np.array([row])) if self._chars is not None
                  else np.zeros(0, np.uint16))
        qv = self._emb.vector(row)
        return Query(tids, qw, self_q, qcodes, qv)

    def _candidates(self, q: Query, depth: int, exclude: set[int]) -> dict:
        return ranking.candidate_signals(
            self._index, self._chars, self._emb, q, depth, exclude,
            max_postings=self.max_postings, candidates=self.candidates)

    def _rank(self, q: Query, k: int, exclude: set[int]) -> list[Hit]:
        """The top ``k`` of a query: BM25F's own when there is nothing to fuse (no query
        embedding, character view off), else the fused order of the BM25F top
        ``max(k, fusion_depth)``."""
        if q.vector is None and self._chars is None:
            rows, scores = ranking.search(self._index, q.tids, q.weights, k, exclude,
                                          max_postings=self.max_postings,
                                          candidates=self.candidates)
            return ranking.hits(self._index, rows, scores, q.self_score)
        d = self._candidates(q, max(k, self.fusion_depth), exclude)
        return ranking.fuse(d, self.fusion_weight, self._chars is not None)[:k]

    def signals(self, text: Text, depth: int | None = None, *, exclude: Iterable[int] = (),
                vector: Sequence[float] | np.ndarray | None = None,
                embed: bool = True) -> dict[str, np.ndarray]:
        """The candidates of a query with each signal, for inspection and measurement.

        Returns arrays ``id``, ``score`` (BM25F), ``lexical`` (BM25F similarity), ``char``
        (character n-gram cosine; NaN when that view is off), ``cosine`` (embedding
        cosine; NaN where an item's or the query's embedding is unknown) and ``cal`` (the
        calibrated cosine, :mod:`.embeddings`): the BM25F top ``depth`` in BM25F order, then
        the vector top ``depth`` that BM25F did not nominate.
        """
        with self._lock:
            d = self._candidates(self._text_query(text, vector, embed),
                                 depth or self.fusion_depth, set(exclude))
            return {k: d[k] for k in ("id", "score", "lexical", "char", "cosine", "cal")}

    def query(self, text: Text, k: int = 10, *, exclude: Iterable[int] = (),
              vector: Sequence[float] | np.ndarray | None = None,
              embed: bool = True) -> list[Hit]:
        """The ``k`` items most similar to ``text``, best first (ties by id).

        Both views nominate candidates: the BM25F top ``fusion_depth`` and, with a query
        vector, the vector top ``fusion_depth``; :mod:`.ranking` orders them (the noisy-OR
        of the two views where both are known). ``vector`` is the query's embedding if
        already known; otherwise, with an embedder, the query is embedded now unless
        ``embed`` is False (then it is ranked on lexical evidence alone). ``Hit.score`` is
        the BM25F score; ``Hit.similarity`` in [0, 1] is for thresholds: the better of the
        BM25F similarity and the calibrated cosine (when both embeddings are known). With
        neither a query embedding nor the character view, the order is BM25F's.
        """
        with self._lock:
            return self._rank(self._text_query(text, vector, embed), k, set(exclude))

    def query_id(self, item_id: int, k: int = 10) -> list[Hit]:
        """The ``k`` items most similar to an indexed item (itself excluded)."""
        with self._lock:
            item_id = int(item_id)
            return self._rank(self._row_query(self._index.id_row[item_id]), k, {item_id})

    def char_similarity(self, a: Text, b: Text) -> float:
        """Character n-gram TF-IDF cosine in [0, 1] of two texts, with this index's df."""
        with self._lock:
            if self._chars is None:
                raise ValueError("the character n-gram view is off")
            ca, cb = (text_codes([self._plain(x)]) for x in (a, b))
            return float(self._chars.cosine(ca, cb, self._index.n)[0])

    def similarity(self, a: Text, b: Text) -> float:
        """Lexical similarity in [0, 1] of two texts, with this index's idf (need not be indexed).
        """
        with self._lock:
            fw = self.field_weights
            return self._index.similarity(*bm25f.weighted_tf(a, fw), *bm25f.weighted_tf(b, fw))

    def pair_similarity(self, a: Text, b: Text, *, vectors: tuple | None = None) -> float:
        """The similarity of two texts in [0, 1], as :meth:`query` gives it: the better of
        the lexical similarity and the calibrated cosine of their embeddings (``vectors``
        if given, else the embedder's; lexical alone without either)."""
        lex = self.similarity(a, b)
        with self._lock:
            if vectors is None and (self.embedder is None or not self._emb.any()):
                return lex
            if vectors is None:
                va, vb = np.asarray(self.embedder.embed([self._plain(a), self._plain(b)]),
                                    np.float32)
            else:
                va, vb = (np.asarray(v, np.float32) for v in vectors)
            mu = self._emb.background(None)
            cal = float(self._emb.calibrate(np.array([float(va @ vb)]), mu)[0])
        return max(lex, cal)

    def shared_terms(self, text: Text, item_id: int, limit: int = 20) -> list[str]:
        """Terms of ``text`` that the indexed item also has, strongest contribution first.

        Numbers lose their ``#``; a single Chinese character is left out when a shared
        two-character term already contains it, so the list reads as words to highlight.
        """
        with self._lock:
            tids, qw, _ = self._index.query_vector(*bm25f.weighted_tf(text, self.field_weights))
            return self._index.shared_terms(tids, qw, self._index.id_row[int(item_id)], limit)

    # -------------------------------------------------------------- embeddings
    def has_embeddings(self) -> bool:
        """Whether some indexed item has its embedding (a query vector can then help)."""
        with self._lock:
            return self._emb.any()

    def pending_embeddings(self) -> int:
        """How many items still wait for their embedding."""
        return len(self._emb.pending)

    def embed_pending(self, limit: int | None = None, batch: int = 64) -> int:
        """Embed items that are waiting (oldest first); returns how many were embedded."""
        if self.embedder is None:
            return 0
        pending = self._emb.pending
        done = 0
        while pending and (limit is None or done < limit):
            with self._lock:
                take = batch if limit is None else min(batch, limit - done)
                chunk = list(pending.items())[:take]
            vecs = np.asarray(self.embedder.embed([text for _, text in chunk]))
            with self._lock:
                for (item_id, text), v in zip(chunk, vecs, strict=True):
                    if pending.get(item_id) == text:
                        self._set_embedding(item_id, v)
            done += len(chunk)
        return done

    def set_embedding(self, item_id: int, vector: Sequence[float] | np.ndarray) -> None:
        """Store an item's embedding computed elsewhere (e.g. kept in the database)."""
        with self._lock:
            self._set_embedding(int(item_id), np.asarray(vector, np.float32))

    def set_embeddings(self, items: Iterable[tuple[int, Sequence[float] | np.ndarray]], *,
                       chunk: int = 16_384) -> int:
        """Store many ``(id, vector)`` pairs at once (ids not indexed are skipped); much
        faster than :meth:`set_embedding` for a whole campaign. Returns how many were stored.
        """
        done = 0
        it = iter(items)
        while True:
            batch = [(int(i), v) for i, v in itertools.islice(it, chunk)]
            if not batch:
                return done
            last = dict(batch)  # a repeated id: its last vector
            with self._lock:
                ids = list(last)
                rows = (self._index.id_row.rows(np.array(ids, np.int64))
                        if all(-(1 << 63) <= i < 1 << 63 for i in ids)
                        else np.array([self._index.id_row.get(i, -1) for i in ids]))
                known = np.flatnonzero(rows >= 0)
                if len(known):
                    vals = list(last.values())
                    self._emb.store_many([ids[j] for j in known.tolist()], rows[known],
                                         np.asarray([vals[j] for j in known.tolist()],
                                                    np.float32))
                    done += len(known)

    def _set_embedding(self, item_id: int, vector: np.ndarray) -> None:
        self._emb.store(item_id, self._index.id_row[item_id], vector)

    # -------------------------------------------------------------- clustering
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
        items from snowballing. With embeddings, each item's ``k`` nearest by cosine within
        the set are candidates too, and a pair's similarity is the better of its lexical
        similarity and its calibrated cosine (:mod:`.embeddings`). Two items that both name
        numbered things ("8号炉", "No. 3") with no number in common are never linked directly.
        Groups come out largest first, then by smallest id; ids inside a group are sorted.
        Deterministic. Raises KeyError for ids that are not indexed.
        """
        with self._lock:
            uniq = sorted({int(i) for i in (self.ids() if ids is None else ids)})
            if not uniq:
                return []
            return clustering.cluster(self._index, uniq, threshold=threshold, k=k,
                                      budget=budget, vectors=self._emb)
