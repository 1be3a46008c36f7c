"""Optional embeddings: the vectors of the rows that have one, and the texts still waiting.

An ``embedder`` with ``embed(texts) -> (n, d) float array`` (L2-normalised rows) may be given
to the engine. Items are then embedded once, later, by
:meth:`GroupingEngine.embed_pending` (or given with :meth:`GroupingEngine.set_embedding`,
e.g. from the vectors the worker stored); until then they are ranked lexically.

Vectors are kept as int8 with a scale per row, as their difference from a fixed centre
(``v ~ c + q * peak / 127``, ``peak`` the row's largest component of ``v - c``: 388 bytes for
384 dimensions; no float32 copy of the whole matrix is ever made, and int8 converts to float32
several times faster than float16). The centre is the mean of the first vectors stored. A
sentence encoder's vectors share a large common part, which set each row's ``peak`` when
stored whole; the part left after the centre has about half the peak (multilingual-e5 on the
dev files of bench/grouping.py: 0.067 against 0.129), so a cosine is off by half as much
(mean 0.00012, 99th percentile 0.0004, against 0.00023 and 0.0008). That still decides
between near-copies: on PAWS-X, where a sentence's paraphrase and its word-swapped twin differ
in the fourth decimal, ranking by these cosines alone finds the paraphrase first for 49.4% of
queries against 50.3% from float32 (the engine's fused order hardly moves with it: 50.5 and
50.6%). 4 bytes a dimension at 1,000,000 rows would be 1.5 GB of the 2 GB a process has.

The vector view nominates its own candidates, so an opinion that says the same thing in other
words is found even when it shares no word with the query. Up to ``IVF_MIN`` vectors the
search is exact (a float32 product over blocks of rows). Above, an inverted file (IVF, as in
FAISS) answers: k-means (numpy, seeded, on a sample) splits the vectors into about sqrt(n)
cells; a query reads the ``NPROBE`` cells whose centroids are nearest and scores their rows
exactly. New vectors go to their nearest cell at once; the cells are trained again when the
number of vectors has doubled since, so a cell stays about sqrt(n) rows and a query reads
about ``NPROBE`` * sqrt(n) rows (16,000 at 1,000,000).

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

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from .arrays import give_back, unique

_BLOCK = 1 << 16  # rows per float32 block of the exact search
IVF_MIN = 20_000  # vectors from which the inverted file answers (exact search below)
NPROBE = 16  # cells a query reads
_KMEANS_ITER = 8
_KMEANS_SAMPLE = 40  # training rows per cell (at most 65,536 in all)


def _dot(m: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``m @ q`` in float32 on this thread (a BLAS product spreads over threads, and on a busy
    machine its threads wait for each other longer than the product takes)."""
    return np.einsum("ij,j->i", m.astype(np.float32), np.asarray(q, np.float32))


def kmeans(x: np.ndarray, c: int, *, iters: int = _KMEANS_ITER, seed: int = 0) -> np.ndarray:
    """``c`` unit centroids of the unit rows ``x`` (float32) by spherical k-means, seeded."""
    rng = np.random.default_rng(seed)
    cent = x[rng.choice(len(x), size=c, replace=False)].astype(np.float32)
    for _ in range(iters):
        assign = np.argmax(x @ cent.T, axis=1)
        sums = np.zeros_like(cent)
        np.add.at(sums, assign, x)
        empty = ~np.any(sums, axis=1)
        if empty.any():  # an empty cell restarts at a random row
            sums[empty] = x[rng.choice(len(x), size=int(empty.sum()), replace=False)]
        cent = sums / (np.linalg.norm(sums, axis=1, keepdims=True) + 1e-12)
    return cent


def nearest_cells(store: EmbeddingStore, rows: np.ndarray, cent: np.ndarray,
                  step: int = 16_384) -> np.ndarray:
    """The nearest centroid of each of ``rows`` (converted to float32 per step)."""
    out = np.empty(len(rows), np.int32)
    for lo in range(0, len(rows), step):
        out[lo:lo + step] = np.argmax(store.rows(rows[lo:lo + step]) @ cent.T, axis=1)
    return out


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised vectors, e.g. a wrapped sentence encoder."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, d) float array, one L2-normalised row per text."""
        ...


class EmbeddingStore:
    """Per row of the lexical index: its vector (int8 and a scale) if known. Per id: the text
    waiting to be embedded, oldest first."""

    def __init__(self) -> None:
        self.vecs: np.ndarray | None = None  # (capacity, d) int8, allocated at the first vector
        self.scale = np.zeros(0, np.float32)  # per row: vector = centre + vecs[row] * scale
        self.centre: np.ndarray | None = None  # float32, fixed at the first vectors stored
        self.has = np.zeros(1024, dtype=bool)
        self.pending: dict[int, str] = {}
        self.total: np.ndarray | None = None  # sum of the known vectors (float64)
        self.second: np.ndarray | None = None  # sum of their outer products (d x d, float64)
        self.count = 0
        # inverted file (None until IVF_MIN vectors): centroids, each row's cell, per cell
        # its rows (CSR from the training, plus rows stored since)
        self.cent: np.ndarray | None = None
        self.cell = np.full(1024, -1, np.int32)
        self.cptr = np.zeros(1, np.int64)
        self.crows = np.zeros(0, np.int32)
        self.cextra: list[list[int]] = []
        self.trained_at = 0

    def reserve(self, capacity: int) -> None:
        """Follow the index's row capacity."""
        if capacity > len(self.has):
            has = np.zeros(capacity, dtype=bool)
            has[: len(self.has)] = self.has
            self.has = has
            cell = np.full(capacity, -1, np.int32)
            cell[: len(self.cell)] = self.cell
            self.cell = cell

    def any(self) -> bool:
        """Whether some live row has its vector."""
        return self.vecs is not None and self.count > 0

    def _room(self, dim: int) -> None:
        if self.vecs is None or self.vecs.shape[0] < len(self.has):
            dim = dim if self.vecs is None else self.vecs.shape[1]
            vecs = np.zeros((len(self.has), dim), np.int8)
            scale = np.zeros(len(self.has), np.float32)
            if self.vecs is not None:
                vecs[: self.vecs.shape[0]] = self.vecs
                scale[: len(self.scale)] = self.scale
            self.vecs, self.scale = vecs, scale
        if self.total is None:
            self.total = np.zeros(self.vecs.shape[1], np.float64)
            self.second = np.zeros((self.vecs.shape[1],) * 2, np.float64)

    def store(self, item_id: int, row: int, vector: np.ndarray) -> None:
        self.store_many([item_id], np.array([row]), np.asarray(vector, np.float32)[None, :])

    def store_many(self, item_ids, rows: np.ndarray, vectors: np.ndarray) -> None:
        """Store the vectors of ``rows`` (distinct), e.g. loaded from the database."""
        vectors = np.asarray(vectors)
        self._room(vectors.shape[1])
        rows = np.asarray(rows, np.int64)
        old = rows[self.has[rows]]
        if len(old):
            self._account(old, -1.0)
        vectors = np.asarray(vectors, np.float32)
        if self.centre is None:
            self.centre = vectors.mean(axis=0).astype(np.float32)
        vectors = vectors - self.centre
        peak = np.max(np.abs(vectors), axis=1)
        scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
        self.vecs[rows] = np.rint(vectors / scale[:, None]).astype(np.int8)
        self.scale[rows] = scale
        self.has[rows] = True
        self._account(rows, 1.0)
        for item_id in item_ids:
            self.pending.pop(item_id, None)
        if self.cent is not None:
            cells = nearest_cells(self, rows, self.cent)
            self.cell[rows] = cells
            for r, c in zip(rows.tolist(), cells.tolist(), strict=True):
                self.cextra[c].append(r)
        if self.count >= IVF_MIN and self.count >= 2 * self.trained_at:
            self.train()

    def _account(self, rows: np.ndarray, sign: float, step: int = 16_384) -> None:
        for lo in range(0, len(rows), step):
            v = self.rows(rows[lo:lo + step])
            self.total += sign * v.sum(axis=0, dtype=np.float64)
            self.second += sign * (v.T @ v).astype(np.float64)
        self.count += int(sign) * len(rows)

    def drop(self, item_id: int, row: int) -> None:
        if self.has[row] and self.vecs is not None and self.total is not None:
            self._account(np.array([row]), -1.0)
        self.has[row] = False
        self.cell[row] = -1
        self.pending.pop(item_id, None)

    def train(self) -> None:
        """(Re)build the inverted file over the known vectors (see the module docstring)."""
        rows = np.flatnonzero(self.has)
        c = int(min(1024, max(16, round(len(rows) ** 0.5))))
        rng = np.random.default_rng(len(rows))
        take = min(len(rows), _KMEANS_SAMPLE * c, 65_536)
        sample = np.sort(rng.choice(rows, size=take, replace=False))
        self.cent = kmeans(self.rows(sample), c, seed=len(rows))
        cells = nearest_cells(self, rows, self.cent)
        self.cell[:] = -1
        self.cell[rows] = cells
        order = np.argsort(cells, kind="stable")
        self.crows = rows[order].astype(np.int32)
        self.cptr = np.zeros(c + 1, np.int64)
        np.cumsum(np.bincount(cells, minlength=c), out=self.cptr[1:])
        self.cextra = [[] for _ in range(c)]
        self.trained_at = len(rows)
        give_back()

    def cell_rows(self, cells: np.ndarray) -> np.ndarray:
        """The rows (with a vector, each once) now in any of ``cells``."""
        parts = [self.crows[self.cptr[c]:self.cptr[c + 1]] for c in cells.tolist()]
        parts += [np.array(self.cextra[c], np.int32) for c in cells.tolist() if self.cextra[c]]
        rows = unique(np.concatenate(parts)).astype(np.int64) if parts else np.zeros(0, np.int64)
        inside = np.zeros(len(self.cent), bool)
        inside[cells] = True
        return rows[(self.cell[rows] >= 0) & inside[np.maximum(self.cell[rows], 0)]]

    def rows(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of ``rows`` (all known) as float32."""
        v = self.vecs[rows].astype(np.float32)
        v *= self.scale[rows, None]
        v += self.centre
        return v

    def vector(self, row: int) -> np.ndarray | None:
        """A row's vector (float32), or None while it is unknown."""
        if self.vecs is None or not self.has[row]:
            return None
        return self.rows(np.array([row]))[0]

    def mean(self) -> np.ndarray | None:
        """The mean of the known vectors (float32), or None."""
        if not self.count or self.total is None:
            return None
        return (self.total / self.count).astype(np.float32)

    def spread(self, qv: np.ndarray) -> tuple[float, float]:
        """Mean and standard deviation of the query's cosine over every indexed vector, exact
        from the running first and second moments (no scan)."""
        if not self.count or self.total is None or self.second is None:
            return 0.0, 1.0
        q = np.asarray(qv, np.float64)
        mean = float(q @ self.total) / self.count
        var = float(q @ self.second @ q) / self.count - mean * mean
        return mean, math.sqrt(var) if var > 1e-12 else 1.0

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

    def _cos(self, rows: np.ndarray, qv: np.ndarray) -> np.ndarray:
        """The cosine of the query vector with each of ``rows`` (all known)."""
        qv = np.asarray(qv, np.float32)
        return _dot(self.vecs[rows], qv) * self.scale[rows] + self.centre @ qv

    def cosines(self, rows: np.ndarray, qv: np.ndarray | None) -> np.ndarray:
        """Cosine of a query vector with each row's vector; NaN where either is unknown."""
        cos = np.full(len(rows), np.nan)
        if qv is not None and self.vecs is not None and len(rows):
            known = self.has[rows]
            cos[known] = self._cos(rows[known], qv)
        return cos

    def top(self, qv: np.ndarray, k: int, alive: np.ndarray,
            exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` live rows with a vector nearest to ``qv`` (rows, cosines), best first."""
        if self.vecs is None or k <= 0 or not self.count:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        n = min(len(alive), self.vecs.shape[0])
        qv = np.asarray(qv, np.float32)
        if self.cent is not None:
            probe = np.argsort(-(self.cent @ qv), kind="stable")[:NPROBE]
            rows = self.cell_rows(probe)
            rows = rows[alive[rows]]
            if exclude is not None and len(exclude):
                rows = rows[~np.isin(rows, exclude)]
            s = self._cos(rows, qv)
            if len(rows) > k:
                top = np.argpartition(-s, k - 1)[:k]
                rows, s = rows[top], s[top]
            order = np.lexsort((rows, -s))
            return rows[order].astype(np.int64), s[order]
        best_r: list[np.ndarray] = []
        best_s: list[np.ndarray] = []
        qc = self.centre @ qv  # every row's cosine starts from the centre's
        for lo in range(0, n, _BLOCK):
            hi = min(n, lo + _BLOCK)
            s = _dot(self.vecs[lo:hi], qv) * self.scale[lo:hi] + qc
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
