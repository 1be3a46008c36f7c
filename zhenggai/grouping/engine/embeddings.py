"""Optional embeddings: the vectors of the rows that have one, and the texts still waiting.

An ``embedder`` with ``embed(texts) -> (n, d) float array`` (L2-normalised rows) may be given
to the engine. Items are then embedded once, later, by
:meth:`GroupingEngine.embed_pending` (or given with :meth:`GroupingEngine.set_embedding`,
e.g. from the vectors the worker stored); until then they are ranked lexically.

Vectors are kept as float16 (768 bytes for 384 dimensions). The vector view nominates its own
candidates: an exact search (a float32 product over blocks of rows), so an opinion that says
the same thing in other words is found even when it shares no word with the query.

Calibration
-----------
A sentence encoder's raw cosine is not on the scale of the lexical similarity: unrelated texts
already score high (about 0.75-0.8 for multilingual-e5). The cosine used for thresholds is
measured above the background of this index: ``(cos - mu) / (1 - mu)``, clipped to [0, 1],
where ``mu`` is the query's mean cosine with every indexed vector (``q . mean(v)``; for a
pair of texts, the mean cosine between indexed vectors, ``|mean(v)|^2``). It is computed from
the indexed texts themselves, with no label: 0 is "as close as an average opinion", 1 is
"the same vector".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

_BLOCK = 1 << 16  # rows per float32 block of the exact search


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised vectors, e.g. a wrapped sentence encoder."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, d) float array, one L2-normalised row per text."""
        ...


class EmbeddingStore:
    """Per row of the lexical index: its vector (float16) if known. Per id: the text waiting
    to be embedded, oldest first."""

    def __init__(self) -> None:
        self.vecs: np.ndarray | None = None  # (capacity, d), allocated at the first vector
        self.has = np.zeros(1024, dtype=bool)
        self.pending: dict[int, str] = {}
        self.total: np.ndarray | None = None  # sum of the known vectors (float64)
        self.count = 0

    def reserve(self, capacity: int) -> None:
        """Follow the index's row capacity."""
        if capacity > len(self.has):
            has = np.zeros(capacity, dtype=bool)
            has[: len(self.has)] = self.has
            self.has = has

    def any(self) -> bool:
        """Whether some live row has its vector."""
        return self.vecs is not None and self.count > 0

    def store(self, item_id: int, row: int, vector: np.ndarray) -> None:
        vector = np.asarray(vector, np.float32)
        if self.vecs is None or self.vecs.shape[0] < len(self.has):
            dim = vector.shape[0] if self.vecs is None else self.vecs.shape[1]
            vecs = np.zeros((len(self.has), dim), np.float16)
            if self.vecs is not None:
                vecs[: self.vecs.shape[0]] = self.vecs
            self.vecs = vecs
        if self.total is None:
            self.total = np.zeros(self.vecs.shape[1], np.float64)
        if self.has[row]:
            self.total -= self.vecs[row]
            self.count -= 1
        self.vecs[row] = vector
        self.has[row] = True
        self.total += self.vecs[row]
        self.count += 1
        self.pending.pop(item_id, None)

    def drop(self, item_id: int, row: int) -> None:
        if self.has[row] and self.vecs is not None and self.total is not None:
            self.total -= self.vecs[row]
            self.count -= 1
        self.has[row] = False
        self.pending.pop(item_id, None)

    def vector(self, row: int) -> np.ndarray | None:
        """A row's vector (float32), or None while it is unknown."""
        if self.vecs is None or not self.has[row]:
            return None
        return self.vecs[row].astype(np.float32)

    def mean(self) -> np.ndarray | None:
        """The mean of the known vectors (float32), or None."""
        if not self.count or self.total is None:
            return None
        return (self.total / self.count).astype(np.float32)

    def background(self, qv: np.ndarray | None) -> float:
        """The query's mean cosine with the indexed vectors (the pair background without a
        query: the mean cosine between indexed vectors)."""
        m = self.mean()
        if m is None:
            return 0.0
        return float(np.clip(m @ (m if qv is None else qv), -1.0, 0.999))

    def calibrate(self, cos: np.ndarray, mu: float) -> np.ndarray:
        """Cosines above the background ``mu``, on [0, 1] (NaN stays NaN)."""
        return np.clip((cos - mu) / (1.0 - mu), 0.0, 1.0)

    def cosines(self, rows: np.ndarray, qv: np.ndarray | None) -> np.ndarray:
        """Cosine of a query vector with each row's vector; NaN where either is unknown."""
        cos = np.full(len(rows), np.nan)
        if qv is not None and self.vecs is not None and len(rows):
            known = self.has[rows]
            cos[known] = self.vecs[rows[known]].astype(np.float32) @ qv
        return cos

    def top(self, qv: np.ndarray, k: int, alive: np.ndarray,
            exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` live rows with a vector nearest to ``qv`` (rows, cosines), best first."""
        if self.vecs is None or k <= 0 or not self.count:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        n = min(len(alive), self.vecs.shape[0])
        qv = np.asarray(qv, np.float32)
        best_r: list[np.ndarray] = []
        best_s: list[np.ndarray] = []
        for lo in range(0, n, _BLOCK):
            hi = min(n, lo + _BLOCK)
            s = self.vecs[lo:hi].astype(np.float32) @ qv
            ok = self.has[lo:hi] & alive[lo:hi]
            s[~ok] = -np.inf
            if exclude is not None and len(exclude):
                ex = exclude[(exclude >= lo) & (exclude < hi)] - lo
                s[ex] = -np.inf
            kk = min(k, hi - lo)
            top = np.argpartition(-s, kk - 1)[:kk]
            top = top[np.isfinite(s[top])]
            best_r.append(top + lo)
            best_s.append(s[top])
        rows = np.concatenate(best_r) if best_r else np.zeros(0, np.int64)
        sims = np.concatenate(best_s) if best_s else np.zeros(0, np.float32)
        order = np.lexsort((rows, -sims))[:k]
        return rows[order].astype(np.int64), sims[order]
