"""Clustering: near-duplicate groups from each item's nearest neighbours.

With embeddings, each item's nearest neighbours by cosine are candidate pairs too, and a
pair's similarity is the better of its lexical similarity and its calibrated cosine
(:mod:`.embeddings`): the better view's evidence, never a mean that drags it down.

Each item's ``k`` nearest neighbours within the set (BM25F similarity, exactly scored among
candidates that share its rarer terms, at most ``budget`` postings of them) give edges with
similarity >= ``threshold``. Edges are joined strongest first (union-find); two groups join
only if their leaders (the first item of each group) are themselves at least ``threshold``
similar, which stops chains of loosely related items from snowballing. Two items that both
name numbered things ("8号炉", "No. 3") with no number in common are never linked directly.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .arrays import give_back, ranges, unique
from .embeddings import EmbeddingStore, kmeans
from .index import LexicalIndex

_BLOCK = 1 << 19  # expanded postings per step: bounds the temporary memory
_DENSE = 1 << 22  # cells of the dense block that exact scoring reads (16 MB of float32)
_VBLOCK = 1 << 25  # cosines per step of the vector neighbours (128 MB of float32)
_EXACT_MAX = 8_192  # vector neighbours exactly up to this many items, else by k-means cells
_CELL_PROBE = 3  # cells (its own and the nearest others) an item is compared with


class Neighbours(NamedTuple):
    """Candidate pairs (a < b, local indices) with their exact similarity ``sim``, and the
    set's forward entries they were scored from: per local index ``loc`` (sorted, starting at
    ``start[loc]``), its ``term``, impact ``imp`` and query weight ``qv``; ``selfs`` are the
    self-scores."""

    a: np.ndarray
    b: np.ndarray
    sim: np.ndarray
    loc: np.ndarray
    term: np.ndarray
    imp: np.ndarray
    qv: np.ndarray
    selfs: np.ndarray
    start: np.ndarray | None


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


def cluster(index: LexicalIndex, uniq: list[int], *, threshold: float, k: int,
            budget: int, vectors: EmbeddingStore | None = None) -> list[list[int]]:
    """Group the indexed ids ``uniq`` (sorted, distinct, not empty); see
    :meth:`GroupingEngine.cluster`. Raises KeyError for ids that are not indexed."""
    if uniq[0] < -(1 << 63) or uniq[-1] >= 1 << 63:
        raise KeyError(uniq[0] if uniq[0] < -(1 << 63) else uniq[-1])
    rows = index.id_row.rows(np.array(uniq, np.int64))
    if (rows < 0).any():
        raise KeyError(uniq[int(np.flatnonzero(rows < 0)[0])])
    loc, term, imp = index.gather(rows)
    nb = neighbours(len(rows), loc, term, imp, index.idf(index.df[term]), k=k, budget=budget)
    vsim = None
    if vectors is not None and vectors.any() and bool(vectors.has[rows].any()):
        nb, vsim = _with_vectors(nb, rows, vectors, k)
    groups = link(uniq, nb, threshold, k, index.ident_terms, vsim)
    del nb, loc, term, imp
    give_back()
    return groups


def _with_vectors(d: Neighbours, rows: np.ndarray, store: EmbeddingStore, k: int):
    """Add each item's ``k`` nearest by cosine (within the set) to the candidate pairs, and
    raise every pair's similarity to its calibrated cosine where that is higher. Returns the
    new neighbours and the calibrated cosine of a pair of local indices (0 if unknown).
    Vectors are read from the store's int8 rows a block at a time: no float32 copy of the
    set's vectors is made (154 MB at 100,000)."""
    n = len(rows)
    known = np.flatnonzero(store.has[rows])
    krows = rows[known]

    def vk(i: np.ndarray) -> np.ndarray:  # float32 vectors of known-local indices
        return store.rows(krows[i])

    mu = store.background(None)
    kk = min(k, len(known) - 1)
    pa_l, pb_l = [d.a], [d.b]
    if kk > 0 and len(known) > _EXACT_MAX:
        a_, b_ = _cell_neighbours(vk, len(known), kk)
        pa_l.append(known[a_])
        pb_l.append(known[b_])
    elif kk > 0:
        every = vk(np.arange(len(known)))
        step = max(1, _VBLOCK // max(1, len(known)))
        for lo in range(0, len(known), step):
            s = every[lo:lo + step] @ every.T
            s[np.arange(len(s)), np.arange(lo, lo + len(s))] = -np.inf
            top = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
            pa_l.append(np.repeat(known[lo:lo + len(s)], kk))
            pb_l.append(known[top.ravel()])
        every = s = None
    pa, pb = np.concatenate(pa_l), np.concatenate(pb_l)
    lo_, hi_ = np.minimum(pa, pb), np.maximum(pa, pb)
    okey = d.a * n + d.b
    oo = np.argsort(okey, kind="stable")
    okey, osim = okey[oo], d.sim[oo]
    key = unique(lo_ * n + hi_)
    a, b = key // n, key % n
    at = np.minimum(np.searchsorted(okey, key), max(0, len(okey) - 1))
    lex = np.where(okey[at] == key, osim[at], 0.0) if len(okey) else np.zeros(len(key))
    pos = np.full(n, -1, np.int64)
    pos[known] = np.arange(len(known))
    both = (pos[a] >= 0) & (pos[b] >= 0)
    cal = np.zeros(len(a))
    wb = np.flatnonzero(both)
    for lo in range(0, len(wb), 8_192):  # 12 MB of float32 per side
        w = wb[lo:lo + 8_192]
        cos = np.einsum("ij,ij->i", vk(pos[a[w]]), vk(pos[b[w]]))
        cal[w] = store.calibrate(cos, mu)

    def vsim(x: int, y: int) -> float:
        if pos[x] < 0 or pos[y] < 0:
            return 0.0
        v = vk(pos[[x, y]])
        return float(store.calibrate(np.array([float(v[0] @ v[1])]), mu)[0])

    return d._replace(a=a, b=b, sim=np.maximum(lex, cal)), vsim


def _cell_neighbours(vk, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Approximate ``k`` nearest by cosine of ``n`` unit vectors (``vk(indices)`` gives them
    as float32 rows): k-means cells over the set (about sqrt(n)), each row compared exactly
    with the rows of its own and the ``_CELL_PROBE - 1`` nearest other cells. Returns pairs
    (a, b) of row indices."""
    c = max(2, round(n ** 0.5))
    rng = np.random.default_rng(n)
    sample = np.sort(rng.choice(n, size=min(n, 40 * c, 65_536), replace=False))
    cent = kmeans(vk(sample), c, seed=n)
    cell = np.empty(n, np.int64)
    for lo in range(0, n, 16_384):
        cell[lo:lo + 16_384] = np.argmax(vk(np.arange(lo, min(n, lo + 16_384))) @ cent.T,
                                         axis=1)
    order = np.argsort(cell, kind="stable")
    ptr = np.zeros(c + 1, np.int64)
    np.cumsum(np.bincount(cell, minlength=c), out=ptr[1:])
    near = np.argsort(-(cent @ cent.T), axis=1, kind="stable")[:, :_CELL_PROBE]
    pa_l, pb_l = [], []
    for ci in range(c):
        mine = order[ptr[ci]:ptr[ci + 1]]
        if not len(mine):
            continue
        other = np.concatenate([order[ptr[x]:ptr[x + 1]] for x in near[ci].tolist()])
        kk = min(k, len(other) - 1)
        if kk <= 0:
            continue
        vo = vk(other)
        s = vk(mine) @ vo.T
        s[mine[:, None] == other[None, :]] = -np.inf
        top = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
        pa_l.append(np.repeat(mine, kk))
        pb_l.append(other[top.ravel()])
    if not pa_l:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a, b = np.concatenate(pa_l), np.concatenate(pb_l)
    keep = a != b
    return a[keep], b[keep]


def _budgeted(loc: np.ndarray, term: np.ndarray, sub_df: np.ndarray,
              budget: int) -> np.ndarray:
    """The entries whose postings are expanded for candidates: per item, its terms shared
    with another item of the set, rarest first, while their postings stay within
    ``budget`` (an item's rarest term always, up to ``4 * budget``)."""
    e_idx = np.flatnonzero(sub_df > 1)
    e_order = e_idx[np.lexsort((term[e_idx], sub_df[e_idx], loc[e_idx]))]
    if not len(e_order):
        return e_order
    e_loc = loc[e_order]
    cost = sub_df[e_order].astype(np.int64) - 1
    csum = np.cumsum(cost)
    g_first = np.flatnonzero(np.concatenate(([True], e_loc[1:] != e_loc[:-1])))
    sizes = np.diff(np.append(g_first, len(e_loc)))
    within = csum - np.repeat(csum[g_first] - cost[g_first], sizes)
    is_first = np.zeros(len(e_loc), bool)
    is_first[g_first] = True
    return e_order[(within <= budget) | (is_first & (cost <= 4 * budget))]


def neighbours(n: int, loc: np.ndarray, term: np.ndarray, imp: np.ndarray, idf: np.ndarray,
               *, k: int, budget: int) -> Neighbours:
    """Candidate pairs among ``n`` items with their exact lexical similarity, from the items'
    forward entries (``loc``, ``term``, ``imp``, sorted by (loc, term)) and each entry's
    ``idf``."""
    if n < 2 or not len(loc):
        return Neighbours(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), loc,
                          term, imp, np.zeros(0, np.float32), np.zeros(n), None)
    qv = idf * imp
    selfs = np.bincount(loc, weights=qv * imp, minlength=n)
    start = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(loc, minlength=n), out=start[1:])
    # sub-index: sorted by (term, loc)
    inv_order = np.lexsort((loc, term))
    s_term, s_loc, s_imp = term[inv_order], loc[inv_order], imp[inv_order]
    bounds = np.flatnonzero(np.diff(s_term)) + 1
    s_term = None
    g_start = np.concatenate(([0], bounds))
    g_cnt = np.diff(np.concatenate((g_start, [len(s_loc)])))
    grp = np.empty(len(term), np.int32)  # each entry's term among the set's distinct terms
    grp[inv_order] = np.repeat(np.arange(len(g_start), dtype=np.int32), g_cnt)
    inv_order = None
    sub_df = g_cnt[grp].astype(np.int32)
    sel = _budgeted(loc, term, sub_df, budget)
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
            idx = ranges(gs, cnt)
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
        ukey = unique(lo_ * n + hi_)
        pa, pb = ukey // n, ukey % n
    else:
        pa = pb = np.zeros(0, np.int64)
    # exact scores: expand the shorter side's terms and read the other's impacts from a
    # dense block (its rows x the set's distinct terms), the pairs taken in the order of
    # the side looked up: one array read per term instead of a binary search.
    lens = np.diff(start)
    swap = lens[pa] > lens[pb]
    qa = np.where(swap, pb, pa)
    qb = np.where(swap, pa, pb)
    by_b = np.argsort(qb, kind="stable")
    qa, qb = qa[by_b], qb[by_b]
    n_terms = len(g_start)
    per = max(1, min(n, _DENSE // n_terms))
    dense = np.zeros((per, n_terms), np.float32)
    cuts = np.searchsorted(qb, np.arange(0, n + per, per))
    scores = np.zeros(len(pa), np.float64)
    for j in range(len(cuts) - 1):
        lo, hi = int(cuts[j]), int(cuts[j + 1])
        if hi == lo:
            continue
        r0 = j * per
        e0, e1 = start[r0], start[min(n, r0 + per)]
        dense[loc[e0:e1] - r0, grp[e0:e1]] = imp[e0:e1]
        for p0 in range(lo, hi, _BLOCK // 32):  # bounded temporaries
            p1 = min(hi, p0 + _BLOCK // 32)
            xa, xb = qa[p0:p1], qb[p0:p1]
            cnt = lens[xa]
            idx = ranges(start[xa], cnt)
            got = dense[np.repeat(xb - r0, cnt), grp[idx]]
            scores[p0:p1] = np.bincount(np.repeat(np.arange(p1 - p0), cnt),
                                        weights=qv[idx] * got, minlength=p1 - p0)
        dense[loc[e0:e1] - r0, grp[e0:e1]] = 0.0
    scores[by_b] = scores.copy()
    den = np.sqrt(selfs[pa] * selfs[pb])
    sim = np.where(den > 0, scores / np.where(den > 0, den, 1), 0.0)
    return Neighbours(pa, pb, np.minimum(sim, 1.0), loc, term, imp, qv, selfs, start)


def _ident_sets(d: Neighbours, ident_terms: list[int]) -> dict[int, set[int]]:
    if not ident_terms or not len(d.term):
        return {}
    mask = np.isin(d.term, np.array(ident_terms, np.int64))
    out: dict[int, set[int]] = {}
    for i, t in zip(d.loc[mask].tolist(), d.term[mask].tolist(), strict=True):
        out.setdefault(i, set()).add(t)
    return out


def _pair_sim(x: int, y: int, d: Neighbours) -> float:
    start, term = d.start, d.term
    ta = term[start[x]:start[x + 1]]
    tb = term[start[y]:start[y + 1]]
    _, ia, ib = np.intersect1d(ta, tb, assume_unique=True, return_indices=True)
    s = float(np.sum(d.qv[start[x] + ia] * d.imp[start[y] + ib]))
    den = math.sqrt(d.selfs[x] * d.selfs[y])
    return min(1.0, s / den) if den else 0.0


def link(uniq: list[int], d: Neighbours, threshold: float, k: int,
         ident_terms: list[int], vsim=None) -> list[list[int]]:
    """Join the candidate pairs of ``d`` into groups of the ids ``uniq`` (by local index);
    ``ident_terms`` are the term ids of numbered things. Largest group first, then by
    smallest id; ids sorted inside a group."""
    n = len(uniq)
    ok = d.sim >= threshold
    pa, pb, sim = d.a[ok], d.b[ok], d.sim[ok]
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
    idents = _ident_sets(d, ident_terms)
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
                    ls = _pair_sim(key[0], key[1], d)
                    if vsim is not None:
                        ls = max(ls, vsim(key[0], key[1]))
                    checked[key] = ls
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
