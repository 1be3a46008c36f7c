"""Ranking: the pruned BM25F top-k over the index, then the fusion of every signal.

Query
-----
Terms are visited rarest first; postings are accumulated while their total stays within a
budget (``max_postings``); the best ``candidates`` rows by that partial score are then
completed exactly with the remaining (common) terms by binary search in their postings.
So a query touches the long postings of common words only at a few hundred positions.

Fusion
------
Both views nominate: the BM25F top ``fusion_depth`` (50) and, when the query has a vector,
the vector top ``fusion_depth`` (an exact search, :mod:`.embeddings`), so that an opinion that
says the same thing in other words is a candidate even if it shares no word. Every candidate
is scored on every signal: the BM25F similarity and the calibrated cosine, both on [0, 1]
against their own scale (the cosine above the index's background), so neither needs a weight.

Two numbers come of them. The **order** is the noisy-OR of the two,
``1 - (1 - lexical) * (1 - cal)``: read each as the chance that its view has seen a duplicate,
it is the chance that one of them has. A candidate both views find fairly close comes before
one that a single view finds a little closer and the other not at all (what reciprocal-rank
or z-score fusion do with ranks, here on the similarities themselves, so it needs no rank
constant and is the same for a list of 5 or of 100). The **similarity for thresholds** is the
better view's evidence, ``max(lexical, cal)`` (:func:`pair_similarity`): a duplicate in other
words or in the same words crosses a threshold either way, and two weak views do not add up
to a group. A query without a vector (at intake, before its own is computed) is ranked on the
lexical evidence alone, and a candidate whose vector is pending by its BM25F similarity. No
parameter here is fitted to data: the standard BM25 and TF-IDF settings, z-scores, and the
two formulas above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .chars import CharView
from .embeddings import EmbeddingStore
from .index import LexicalIndex


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result. Results come in the engine's ranking order (the fused order of
    :mod:`.ranking` when the character view or embeddings take part, else BM25F's);
    ``score`` is the BM25F score, ``similarity`` in [0, 1] is for thresholds."""

    id: int
    score: float
    similarity: float


class Query(NamedTuple):
    """A query in every view: BM25F term ids and weights idf*imp with its self-score, its
    character codes (one 0-terminated text; empty when that view is off), its embedding."""

    tids: np.ndarray
    weights: np.ndarray
    self_score: float
    codes: np.ndarray
    vector: np.ndarray | None


def zscore(x: np.ndarray) -> np.ndarray:
    sd = float(x.std())
    return (x - x.mean()) / (sd if sd > 0 else 1.0)


def search(index: LexicalIndex, tids: np.ndarray, qw: np.ndarray, k: int, exclude: set[int],
           *, max_postings: int, candidates: int) -> tuple[np.ndarray, np.ndarray]:
    """Top rows and scores for a query vector (term ids, weights idf*imp_q)."""
    if len(tids) == 0 or index.n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    lens = [index.posting_len(int(t)) for t in tids.tolist()]
    order = sorted(range(len(tids)), key=lambda i: (lens[i], int(tids[i])))
    used = 0
    first: list[int] = []
    rest: list[int] = []
    for i in order:
        if lens[i] == 0:
            continue
        if not rest and (not first or used + lens[i] <= max_postings):
            first.append(i)
            used += lens[i]
        else:
            rest.append(i)
    rows_l, tf_l, w_l = [], [], []
    for i in first:
        for rows, tfs in index.posting_parts(int(tids[i])):
            rows_l.append(rows)
            tf_l.append(tfs)
            w_l.append(np.full(len(rows), qw[i], np.float32))
    rows = np.concatenate(rows_l)
    weights = np.concatenate(w_l) * index.impact(np.concatenate(tf_l), index.length[rows])
    if rest or len(rows) > 4096:
        acc = np.bincount(rows, weights=weights, minlength=index.rows)
        cand = np.flatnonzero(acc)
        part = acc[cand]
    else:
        cand, inv = np.unique(rows, return_inverse=True)
        part = np.bincount(inv, weights=weights)
    alive = index.alive[cand]
    if exclude:
        ex = np.fromiter((index.id_row[i] for i in exclude if i in index.id_row), np.int64)
        alive &= ~np.isin(cand, ex)
    cand, part = cand[alive], part[alive]
    limit = max(candidates, k)
    if rest and len(cand) > limit:
        top = np.argpartition(-part, limit - 1)[:limit]
        cand, part = cand[top], part[top]
    if rest and len(cand):
        part = part.copy()
        order_c = np.argsort(cand, kind="stable")
        cand, part = cand[order_c], part[order_c]
        cand_len = index.length[cand]
        for i in rest:
            w = np.float32(qw[i])
            for rows_t, tfs in index.posting_parts(int(tids[i])):
                pos = np.searchsorted(rows_t, cand)
                pos_c = np.minimum(pos, len(rows_t) - 1)
                hit = rows_t[pos_c] == cand
                part[hit] += index.impact(tfs[pos_c[hit]], cand_len[hit]) * w
    if len(cand) > k:
        top = np.argpartition(-part, k - 1)[:k]
        cand, part = cand[top], part[top]
    ids = index.row_id[cand]
    order_f = np.lexsort((ids, -part))
    return cand[order_f].astype(np.int64), part[order_f].astype(np.float64)


def hits(index: LexicalIndex, rows: np.ndarray, scores: np.ndarray, self_q: float) -> list[Hit]:
    """Rows with their BM25F scores as hits, with the BM25F similarity."""
    selfs = index.self_scores(rows)
    out = []
    for row, s, sd in zip(rows.tolist(), scores.tolist(), selfs.tolist(), strict=True):
        denom = math.sqrt(self_q * sd) if self_q > 0 and sd > 0 else 0.0
        sim = min(1.0, s / denom) if denom else 0.0
        out.append(Hit(int(index.row_id[row]), float(s), sim))
    return out


def score_rows(index: LexicalIndex, tids: np.ndarray, qw: np.ndarray,
               rows: np.ndarray) -> np.ndarray:
    """The exact BM25F score of a query vector on each of ``rows``."""
    out = np.zeros(len(rows), np.float64)
    for i, row in enumerate(rows.tolist()):
        t, w = index.row_vector(row)
        _, iq, idoc = np.intersect1d(tids, t, assume_unique=True, return_indices=True)
        out[i] = float(np.sum(qw[iq] * w[idoc]))
    return out


def candidate_signals(index: LexicalIndex, chars: CharView | None, embeddings: EmbeddingStore,
               q: Query, depth: int, exclude: set[int], *, max_postings: int,
               candidates: int) -> dict:
    """The candidates of both views and every signal for them (cosine NaN if unknown).

    The BM25F top ``depth`` rows, then (with a query vector) the vector top ``depth`` rows
    that BM25F did not nominate, each scored exactly on every signal. ``cal`` is the
    calibrated cosine (:mod:`.embeddings`), ``vrank``/``lrank`` mark which view nominated a
    row (its rank there, or -1)."""
    rows, scores = search(index, q.tids, q.weights, depth, exclude,
                          max_postings=max_postings, candidates=candidates)
    nl = len(rows)
    if q.vector is not None and embeddings.any():
        ex = np.fromiter((index.id_row[i] for i in exclude if i in index.id_row), np.int64)
        vrows, _ = embeddings.top(q.vector, depth, index.alive, ex)
        extra = vrows[~np.isin(vrows, rows)]
        if len(extra):
            rows = np.concatenate((rows, extra))
            scores = np.concatenate((scores, score_rows(index, q.tids, q.weights, extra)))
    found = hits(index, rows, scores, q.self_score)
    cos = embeddings.cosines(rows, q.vector)
    mu = embeddings.background(q.vector) if q.vector is not None else 0.0
    char = (chars.cosine(q.codes, chars.codes(rows), index.n) if chars is not None and len(rows)
            else np.full(len(rows), np.nan))
    return {"rows": rows, "hits": found, "id": index.row_id[rows].astype(np.int64),
            "score": scores, "lexical": np.array([h.similarity for h in found], np.float64),
            "char": char, "cosine": cos, "cal": embeddings.calibrate(cos, mu),
            "nominated_lexically": np.arange(len(rows)) < nl}


def lexical_evidence(d: dict, with_char: bool) -> np.ndarray:
    """The lexical view's z-score per candidate: that of the BM25F similarity, averaged with
    that of the character cosine when that view is on and tells the candidates apart (on
    Chinese text it reads nothing and would only halve the BM25F evidence)."""
    parts = [d["lexical"]]
    if with_char and len(d["char"]) and float(np.nanstd(d["char"])) > 0:
        parts.append(d["char"])
    return sum(zscore(np.asarray(p, np.float64)) for p in parts) / len(parts)


def fuse(d: dict, fusion_weight: float, with_char: bool) -> list[Hit]:
    """Candidates (from :func:`candidate_signals`) in the fused order, ties by BM25F
    similarity, then id.

    Without a query vector: the lexical evidence (:func:`lexical_evidence`). With one, a
    candidate whose vector is known is ordered by :func:`fused_order`, one whose vector is
    pending by its BM25F similarity (the evidence it has: never buried below it while it
    waits). ``Hit.similarity`` is :func:`pair_similarity` (BM25F's alone while pending).
    ``fusion_weight`` is unused (kept for compatibility).
    """
    found, cos, cal = d["hits"], d["cosine"], d["cal"]
    known = ~np.isnan(cos)
    sim, key = d["lexical"].copy(), d["lexical"].copy()
    if known.any():
        sim[known] = pair_similarity(sim[known], cal[known])
        key[known] = fused_order(key[known], cal[known])
    elif len(found) > 1:
        key = lexical_evidence(d, with_char)
    fused = [Hit(h.id, h.score, float(s)) for h, s in zip(found, sim.tolist(), strict=True)]
    order = np.lexsort((d["id"], -d["lexical"], -np.asarray(key)))  # ties: more words in common
    return [fused[i] for i in order.tolist()]


def fused_order(lexical, cal):
    """The ranking key of candidates known to both views: the noisy-OR of the BM25F
    similarity and the calibrated cosine, ``1 - (1 - lexical) * (1 - cal)``. It is at least
    the better view's evidence and grows with the other's, so agreement of two views counts
    (module docstring)."""
    return 1.0 - (1.0 - np.asarray(lexical)) * (1.0 - np.asarray(cal))


def pair_similarity(lexical, cal):
    """The similarity of two texts in [0, 1] from the BM25F similarity and the calibrated
    cosine (:mod:`.embeddings`): the better view's evidence, never dragged down by the
    other: ``max(lexical, cal)``."""
    return np.maximum(lexical, cal)
