"""The grouping part of the JSON API, mounted by zhenggai/api under /api/v1/grouping/.

``request.auth`` is the calling Member. Suggestions are for any member of the campaign
(the intake form); proposals are for clerks (the summarising desk). Decisions on proposals
are taken with the problems endpoints (create, add opinions, remove opinion), as events.
"""
from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema

from zhenggai.api.types import Id
from zhenggai.campaigns.access import may_view
from zhenggai.campaigns.models import Campaign
from zhenggai.errors import Forbidden
from zhenggai.ids import in_range

from . import service

router = Router(tags=["grouping"])


class ProblemHit(Schema):
    problem: int
    summary: str
    state: str
    score: float
    opinions: int


class OpinionHit(Schema):
    opinion: int
    text: str
    problem: int | None
    score: float


class SuggestOut(Schema):
    problems: list[ProblemHit]
    opinions: list[OpinionHit]


class GroupOut(Schema):
    opinions: list[int]
    texts: list[str]
    shared: list[str]


def _campaign(request, pk: int, view: str) -> Campaign:
    if not in_range(pk):  # no campaign has it; the database could not hold it
        raise Http404
    c = get_object_or_404(Campaign, pk=pk, org_id=request.auth.org_id)
    if not may_view(request.auth, c, view):
        raise Forbidden(_("You may not see this in this campaign."))
    return c


class SuggestIn(Schema):
    text: str
    k: int = 5


@router.get("/{campaign}/suggest", response=SuggestOut)
def suggest(request, campaign: int, text: str, k: int = 5):
    """Likely existing problems for a text, and similar opinions, best first. Prefer the
    POST form: a text in a URL may be kept by logs and proxies on the way."""
    return _suggest(request, campaign, text, k)


@router.post("/{campaign}/suggest", response=SuggestOut)
def suggest_post(request, campaign: int, body: SuggestIn):
    """The same, with the text in the body."""
    return _suggest(request, campaign, body.text, body.k)


def _suggest(request, campaign: int, text: str, k: int) -> dict:
    c = _campaign(request, campaign, "submit")
    s = service.suggest(c, text[:2000], k=min(max(k, 1), 50))
    return {
        "problems": [{"problem": p.problem.pk, "summary": p.problem.summary,
                      "state": p.problem.state, "score": p.score, "opinions": p.opinions}
                     for p in s.problems],
        "opinions": [{"opinion": o.opinion_id, "text": o.text, "problem": o.problem_id,
                      "score": o.score} for o in s.opinions],
    }


@router.get("/{campaign}/proposals", response=list[GroupOut])
def proposals(request, campaign: Id):
    """Groups of unsummarised opinions that share words (clerks only)."""
    c = _campaign(request, campaign, "summarising_desk")
    return [{"opinions": [o.pk for o in g.opinions], "texts": [o.text for o in g.opinions],
             "shared": g.shared} for g in service.propose_groups(c)]
