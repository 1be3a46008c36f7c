"""The grouping part of the JSON API, mounted by zhenggai/api under /api/v1/grouping/.

``request.auth`` is the calling Member. Suggestions are for any member of the campaign
(the intake form); proposals, moves and splits are for clerks (the summarising desk). A
proposed group is accepted with the problems endpoint that creates a problem; a move of
opinions into another problem and the split of a group in two are one call each here, all or
nothing (grouping/moves.py), as events.
"""
from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from zhenggai.api.types import Id, Text
from zhenggai.campaigns.access import may_view
from zhenggai.campaigns.models import Campaign
from zhenggai.errors import Forbidden, InvalidInput
from zhenggai.ids import in_range
from zhenggai.opinions.models import Opinion
from zhenggai.problems.models import Problem

from . import moves, service
from . import proposals as stored_proposals

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
    """Groups of unsummarised opinions that share words (clerks only): those the worker
    computed and stored, each with its opinions still waiting, biggest first (none yet
    while the first run is being computed, within a minute of new opinions)."""
    c = _campaign(request, campaign, "summarising_desk")
    return [{"opinions": [o.pk for o in g.opinions], "texts": [o.text for o in g.opinions],
             "shared": g.shared} for g in stored_proposals.stored(c)]


class MoveIn(Schema):
    opinions: list[Id] = Field(min_length=1)
    problem: Id = Field(description="the problem the opinions move into")
    version: Id | None = Field(None, description="its version as you read it: a 409 if it "
                               "changed meanwhile")


class MoveOut(Schema):
    problem: int
    version: int
    opinions: list[int] = Field(description="the problem's opinions after the move")


class SplitIn(Schema):
    group: list[Id] = Field(min_length=2, description="the opinions of the proposed group")
    part: list[Id] = Field(min_length=1, description="those that make the first problem")
    summary: Text
    summary_rest: Text = Field("", description="the second problem's summary (default: "
                               "`summary`)")


class SplitOut(Schema):
    problems: list[int] = Field(description="the two new problems: the part's, the rest's")


def _opinions(campaign: Campaign, ids: list[int]) -> list[Opinion]:
    found = list(Opinion.objects.filter(campaign=campaign, pk__in=ids))
    if len(found) != len(set(ids)):
        raise InvalidInput(_("Some of these opinions are not in this campaign."))
    return found


@router.post("/{campaign}/move", response=MoveOut)
def move(request, campaign: Id, body: MoveIn):
    """Move opinions into a problem of the campaign, each out of the problem it is in: one
    act, all or nothing (clerks only)."""
    c = _campaign(request, campaign, "summarising_desk")
    to = get_object_or_404(Problem, pk=body.problem, campaign=c)
    p = moves.move_opinions(_opinions(c, body.opinions), to, actor=request.auth,
                            expected_version=body.version)
    p.refresh_from_db()
    return {"problem": p.pk, "version": p.version,
            "opinions": sorted(p.opinions.values_list("pk", flat=True))}


@router.post("/{campaign}/split", response={201: SplitOut})
def split(request, campaign: Id, body: SplitIn):
    """Summarise a proposed group as two problems, `part` and the rest: one act, all or
    nothing (clerks only)."""
    c = _campaign(request, campaign, "summarising_desk")
    made = moves.split_group(c, _opinions(c, body.group), body.part, actor=request.auth,
                             summary=body.summary, summary_rest=body.summary_rest)
    return Status(201, {"problems": [p.pk for p in made]})
