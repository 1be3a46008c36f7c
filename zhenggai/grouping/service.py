"""Keeping a grouping index per campaign up to date, and answering from it.

Each process (gunicorn worker) holds one :class:`~zhenggai.grouping.engine.GroupingEngine`
per campaign, built lazily from the opinions table. Every intake (opinions/intake.py: one
opinion, an import, a bulk load) writes an :class:`~zhenggai.grouping.models.IndexLog` row
per opinion in the opinion's own transaction, so both commit or neither does; before
answering, a process reads the log rows above the last ``seq`` it saw (plus a small overlap,
because two transactions may commit their rows out of ``seq`` order; a bulk write locks the
log so that its wide block of seqs cannot) and indexes the new opinions. So an opinion
committed by any process is found by every process on its next question.

Only texts and ids are indexed; membership of problems is read from the database at answer
time, so accepting, moving and splitting groups need no index update.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max

from zhenggai.opinions.models import Opinion
from zhenggai.problems.models import Problem

from . import vectors
from .engine import GroupingEngine
from .models import IndexLog, LogHorizon, OpinionVector
from .text import shared_words

#: Re-read this many log rows below the last seen seq (out-of-order commits).
OVERLAP = 200
_CHUNK = 5000  # ids per IN list: under SQLite's and PostgreSQL's parameter limits
#: A suggestion below this lexical similarity is not shown (unrelated texts score ~0).
MIN_SIMILARITY = 0.15
#: Opinions are proposed as a group when at least this similar (engine.cluster threshold).
GROUP_THRESHOLD = 0.45


@dataclass
class _Index:
    engine: GroupingEngine
    last_seq: int
    horizon: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: indexed opinions whose vector the worker has not stored yet (looked up at catch-up)
    novec: set[int] = field(default_factory=set)


@dataclass
class ProblemSuggestion:
    problem: Problem
    score: float
    opinions: int  # how many of its opinions matched


@dataclass
class OpinionSuggestion:
    opinion_id: int
    text: str
    problem_id: int | None
    score: float


@dataclass
class Suggestions:
    problems: list[ProblemSuggestion]
    opinions: list[OpinionSuggestion]


@dataclass
class Group:
    opinions: list[Opinion]
    shared: list[str]  # words the group's opinions share, to highlight


class Service:
    """The indexes of one process. Tests make a second one to stand for another process."""

    def __init__(self) -> None:
        self._indexes: dict[int, _Index] = {}
        self._lock = threading.Lock()
        self.query_vector = vectors.QueryEmbedder()

    def _horizon(self) -> int:
        return LogHorizon.objects.aggregate(m=Max("pruned_to"))["m"] or 0

    def _build(self, campaign_id: int) -> _Index:
        # Read the log position first: anything logged later is caught up afterwards.
        last = IndexLog.objects.aggregate(m=Max("seq"))["m"] or 0
        horizon = self._horizon()
        eng = GroupingEngine()
        rows = Opinion.objects.filter(campaign_id=campaign_id).values_list("id", "text")
        eng.add_many(rows.iterator(chunk_size=20_000))
        eng.optimize()
        ix = _Index(eng, last, horizon)
        if vectors.enabled():
            ix.novec = set(eng.ids())
            vecs = OpinionVector.objects.filter(opinion__campaign_id=campaign_id,
                                                model=vectors.MODEL)

            def stored():
                for oid, blob in vecs.values_list("opinion_id", "vector").iterator(
                        chunk_size=20_000):
                    if oid in eng:
                        ix.novec.discard(oid)
                        yield oid, vectors.from_bytes(blob)

            # in blocks, as bench/grouping.py loads them (one call per vector took minutes
            # at 1,000,000: each placed its row in the vector cells on its own)
            eng.set_embeddings(stored())
        return ix

    def index(self, campaign_id: int) -> GroupingEngine:
        """The up-to-date engine for a campaign (built on first use, then caught up)."""
        with self._lock:
            ix = self._indexes.get(campaign_id)
            if ix is None:
                ix = self._indexes[campaign_id] = self._build(campaign_id)
                return ix.engine
        with ix.lock:
            self._catch_up(campaign_id, ix)
        return ix.engine

    def _catch_up(self, campaign_id: int, ix: _Index) -> None:
        horizon = self._horizon()
        if horizon > ix.horizon and ix.last_seq - OVERLAP < horizon:
            # log rows we may still need (our overlap window) are gone: rebuild
            fresh = self._build(campaign_id)
            ix.engine, ix.last_seq, ix.horizon = fresh.engine, fresh.last_seq, fresh.horizon
            return
        ix.horizon = horizon
        log = list(IndexLog.objects.filter(campaign_id=campaign_id,
                                           seq__gt=max(0, ix.last_seq - OVERLAP))
                   .values_list("seq", "opinion_id"))
        new = [oid for _s, oid in log if oid not in ix.engine]
        for i in range(0, len(new), _CHUNK):  # an import logs thousands at once
            part = new[i:i + _CHUNK]
            texts = dict(Opinion.objects.filter(pk__in=part).values_list("id", "text"))
            for oid in part:
                if oid in texts:
                    ix.engine.add(oid, texts[oid])
                    ix.novec.add(oid)
        if log:
            ix.last_seq = max(ix.last_seq, max(s for s, _o in log))
        if ix.novec and vectors.enabled():  # vectors the worker stored since
            wait = list(ix.novec)
            for i in range(0, len(wait), _CHUNK):
                got = OpinionVector.objects.filter(opinion_id__in=wait[i:i + _CHUNK],
                                                   model=vectors.MODEL)
                for oid, blob in got.values_list("opinion_id", "vector"):
                    if oid in ix.engine:
                        ix.engine.set_embedding(oid, vectors.from_bytes(blob))
                    ix.novec.discard(oid)

    def forget(self, campaign_id: int | None = None) -> None:
        with self._lock:
            if campaign_id is None:
                self._indexes.clear()
            else:
                self._indexes.pop(campaign_id, None)

    # -- questions -----------------------------------------------------------------------

    def suggest(self, campaign, text: str, k: int = 5) -> Suggestions:
        """Likely existing problems (in the order of their best-ranked opinion, with its score
        and how many of their opinions matched) and similar opinions for a text being written,
        best first. Unrelated texts give nothing."""
        text = (text or "").strip()
        if not text:
            return Suggestions([], [])
        eng = self.index(campaign.pk)
        hits = [h for h in eng.query(text, k=max(50, 5 * k), vector=self._vector(eng, text),
                                     embed=False)
                if h.similarity >= MIN_SIMILARITY]
        if not hits:
            return Suggestions([], [])
        rows = {o["id"]: o for o in Opinion.objects.filter(pk__in=[h.id for h in hits])
                .values("id", "text", "problem_id")}
        opinions: list[OpinionSuggestion] = []
        best: dict[int, list] = {}
        for h in hits:
            row = rows.get(h.id)
            if row is None:
                continue
            score = round(float(h.similarity), 4)
            opinions.append(OpinionSuggestion(h.id, row["text"], row["problem_id"], score))
            pid = row["problem_id"]
            if pid is not None:
                b = best.setdefault(pid, [score, 0])
                b[0] = max(b[0], score)
                b[1] += 1
        # Problems in the order of their best opinion among the hits: the engine's ranking
        # (fused evidence), not the plain similarity kept for the threshold and the display.
        ranked = list(best.items())[:k]
        problems = Problem.objects.in_bulk([pid for pid, _b in ranked])
        return Suggestions(
            [ProblemSuggestion(problems[pid], b[0], b[1]) for pid, b in ranked if pid in problems],
            opinions[:k])

    def _vector(self, eng: GroupingEngine, text: str):
        """The text's vector if the model is on, some opinion has one, and it fits the
        intake budget (:class:`vectors.QueryEmbedder`); else None (lexical only)."""
        if not vectors.enabled() or not eng.has_embeddings():
            return None
        return self.query_vector(text)

    def rank_problems(self, campaign, text: str, problems) -> list[tuple[Problem, float]]:
        """``problems`` (of this campaign) ranked by how similar their opinions are to
        ``text``: each problem's best opinion similarity (the engine's), best first; problems
        with no similar opinion follow in their given order with 0. For the desk's merge
        target list."""
        problems = list(problems)
        text = (text or "").strip()
        if not problems or not text:
            return [(p, 0.0) for p in problems]
        eng = self.index(campaign.pk)
        wanted = {p.pk for p in problems}
        of = dict(Opinion.objects.filter(problem_id__in=wanted).values_list("id", "problem_id"))
        best: dict[int, float] = {}
        for h in eng.query(text, k=max(200, 20 * len(problems)),
                           vector=self._vector(eng, text), embed=False):
            pid = of.get(h.id)
            if pid is not None and pid not in best:
                best[pid] = round(float(h.similarity), 4)
        rank = {pid: i for i, pid in enumerate(best)}
        order = sorted(range(len(problems)),
                       key=lambda i: (rank.get(problems[i].pk, len(rank)), i))
        return [(problems[i], best.get(problems[i].pk, 0.0)) for i in order]

    def propose_groups(self, campaign, *, threshold: float = GROUP_THRESHOLD,
                       min_size: int = 2) -> list[Group]:
        """Groups of the campaign's unsummarised opinions that share words, largest first.
        Every unsummarised opinion is in at most one group; nothing is written."""
        eng = self.index(campaign.pk)
        loose = dict(Opinion.objects.waiting(campaign).values_list("id", "text"))
        # Every intake logs its opinions (opinions/intake.py), so the index has them all
        # but one committed since its catch-up above: that one waits for the next question.
        ids = [i for i in loose if i in eng]
        clusters = [c for c in eng.cluster(ids, threshold=threshold) if len(c) >= min_size]
        if not clusters:
            return []
        objs = Opinion.objects.in_bulk([i for c in clusters for i in c])
        groups = []
        for c in clusters:
            lead = c[0]
            shared: list[str] = []
            for other in c[1:]:  # words, not character fragments (text.shared_words)
                for w in shared_words(loose[lead], loose[other]):
                    if w not in shared:
                        shared.append(w)
            groups.append(Group([objs[i] for i in c if i in objs], shared[:12]))
        return groups


service = Service()


def suggest(campaign, text: str, k: int = 5) -> Suggestions:
    return service.suggest(campaign, text, k)


def propose_groups(campaign, **kw) -> list[Group]:
    return service.propose_groups(campaign, **kw)


def rank_problems(campaign, text: str, problems) -> list[tuple[Problem, float]]:
    return service.rank_problems(campaign, text, problems)


@transaction.atomic
def prune_log(keep: int = 10_000) -> int:
    """Delete all but the last ``keep`` log rows (processes further behind rebuild).
    Run it from time to time so the log keeps no long record of arrival order."""
    last = IndexLog.objects.aggregate(m=Max("seq"))["m"] or 0
    upto = last - keep
    if upto <= 0:
        return 0
    n, _ = IndexLog.objects.filter(seq__lte=upto).delete()
    h = LogHorizon.objects.first() or LogHorizon()
    h.pruned_to = max(h.pruned_to, upto)
    h.save()
    return n


def problems_like(campaign, texts, *, k: int = 10, among=None) -> list[ProblemSuggestion]:
    """The problems most like these texts (a clerk's ticked opinions, or the words of a
    search), best first: those that more of the texts find, then in the engine's ranking
    (`suggest`); each with its best similarity to any of the texts and how many of its
    opinions matched. `among`: a queryset of the problems that may be offered (say, those
    still open to grouping); others are left out."""
    best: dict[int, ProblemSuggestion] = {}
    rank: dict[int, int] = {}
    found_by: dict[int, int] = {}
    for t in texts:
        for r, s in enumerate(service.suggest(campaign, t, k=max(k, 10)).problems):
            pid = s.problem.pk
            b = best.get(pid)
            if b is None:
                best[pid] = ProblemSuggestion(s.problem, s.score, s.opinions)
            else:
                b.score = max(b.score, s.score)
                b.opinions += s.opinions
            rank[pid] = min(rank.get(pid, r), r)
            found_by[pid] = found_by.get(pid, 0) + 1
    ids = list(best)
    if among is not None and ids:
        allowed = set(among.filter(pk__in=ids).values_list("pk", flat=True))
        ids = [i for i in ids if i in allowed]
    ids.sort(key=lambda i: (-found_by[i], rank[i], -best[i].score))
    return [best[i] for i in ids[:k]]
