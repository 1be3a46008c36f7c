"""Ranking: the pruned BM25F top-k over the index, then the fusion of every signal.

Query
-----
Terms are visited rarest first; postings are accumulated while their total stays within a
budget (``max_postings``); the best ``candidates`` rows by that partial score are then
completed exactly with the remaining (common) terms by binary search in their postings.
So a query touches the long postings of common words only at a few hundred positions.

Fusion
------
The BM25F top ``fusion_depth`` (50) are the candidates. They are re-ranked by equal-weight
z-score fusion (each signal standardised over the candidates, then averaged): the lexical
evidence is the mean of the z-scores of BM25F similarity and character n-gram cosine; the
semantic evidence is the z-score of the embedding cosine. Lexical and semantic evidence
count equally (``fusion_weight`` = 0.5 is the semantic share), so two views of the same
surface form do not outvote the one semantic signal. An item whose embedding is pending
counts as average on the semantic side; a query without an embedding (e.g. at intake, before
its own embedding is computed) is ranked on the lexical evidence alone. No parameter here is
fitted to data: z-scores, equal weights, and the standard BM25 and TF-IDF settings.
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


def candidate_signals(index: LexicalIndex, chars: CharView | None, embeddings: EmbeddingStore,
               q: Query, depth: int, exclude: set[int], *, max_postings: int,
               candidates: int) -> dict:
    """The BM25F top ``depth`` rows and every signal for them (cosine NaN if unknown)."""
    rows, scores = search(index, q.tids, q.weights, depth, exclude,
                          max_postings=max_postings, candidates=candidates)
    found = hits(index, rows, scores, q.self_score)
    cos = embeddings.cosines(rows, q.vector)
    char = (chars.cosine(q.codes, chars.codes(rows), index.n) if chars is not None and len(rows)
            else np.full(len(rows), np.nan))
    return {"rows": rows, "hits": found, "id": index.row_id[rows].astype(np.int64),
            "score": scores, "lexical": np.array([h.similarity for h in found], np.float64),
            "char": char, "cosine": cos}


def fuse(d: dict, fusion_weight: float, with_char: bool) -> list[Hit]:
    """Candidates (from :func:`candidate_signals`) in the order of the z-score fusion, ties by id.

    ``Hit.similarity`` is the BM25F similarity, or ``(1 - a) * similarity + a *
    max(cosine, 0)`` (``a`` = ``fusion_weight``) when both embeddings are known.
    ``with_char``: the character view takes part.
    """
    a = fusion_weight
    found, cos = d["hits"], d["cosine"]
    known = ~np.isnan(cos)
    sim = d["lexical"].copy()
    sim[known] = (1 - a) * sim[known] + a * np.maximum(cos[known], 0.0)
    fused = [Hit(h.id, h.score, float(s)) for h, s in zip(found, sim.tolist(), strict=True)]
    if len(found) > 1:
        lexical = zscore(d["lexical"])
        if with_char:
            lexical = (lexical + zscore(d["char"])) / 2
        key = lexical
        if known.any():
            zc = np.zeros(len(cos))
            zc[known] = zscore(cos[known])  # pending items count as average
            key = (1 - a) * lexical + a * zc
    else:
        key = sim
    order = np.lexsort((d["id"], -np.asarray(key)))
    return [fused[i] for i in order.tolist()]
