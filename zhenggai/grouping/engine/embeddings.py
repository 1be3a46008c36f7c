"""Optional embeddings: the vectors of the rows that have one, and the texts still waiting.

An ``embedder`` with ``embed(texts) -> (n, d) float array`` (L2-normalised rows) may be given
to the engine. Items are then embedded once, later, by
:meth:`GroupingEngine.embed_pending` (or given with :meth:`GroupingEngine.set_embedding`);
until then they are ranked lexically.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


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

    def reserve(self, capacity: int) -> None:
        """Follow the index's row capacity."""
        if capacity > len(self.has):
            has = np.zeros(capacity, dtype=bool)
            has[: len(self.has)] = self.has
            self.has = has

    def any(self) -> bool:
        """Whether some live row has its vector."""
        return self.vecs is not None and bool(self.has.any())

    def store(self, item_id: int, row: int, vector: np.ndarray) -> None:
        if self.vecs is None or self.vecs.shape[0] < len(self.has):
            dim = vector.shape[0] if self.vecs is None else self.vecs.shape[1]
            vecs = np.zeros((len(self.has), dim), np.float16)
            if self.vecs is not None:
                vecs[: self.vecs.shape[0]] = self.vecs
            self.vecs = vecs
        self.vecs[row] = vector
        self.has[row] = True
        self.pending.pop(item_id, None)

    def drop(self, item_id: int, row: int) -> None:
        self.has[row] = False
        self.pending.pop(item_id, None)

    def vector(self, row: int) -> np.ndarray | None:
        """A row's vector (float32), or None while it is unknown."""
        if self.vecs is None or not self.has[row]:
            return None
        return self.vecs[row].astype(np.float32)

    def cosines(self, rows: np.ndarray, qv: np.ndarray | None) -> np.ndarray:
        """Cosine of a query vector with each row's vector; NaN where either is unknown."""
        cos = np.full(len(rows), np.nan)
        if qv is not None and self.vecs is not None and len(rows):
            known = self.has[rows]
            cos[known] = self.vecs[rows[known]].astype(np.float32) @ qv
        return cos
