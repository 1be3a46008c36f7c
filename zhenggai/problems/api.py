"""Problems, their events and every action on them over the JSON API (mounted under
/api/v1/). Each endpoint calls one domain action; the rules are the domain's."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Literal

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from zhenggai.api.params import as_utc
from zhenggai.api.types import Id, Text
from zhenggai.campaigns.models import Campaign
from zhenggai.errors import InvalidInput
from zhenggai.figures.queries import figures
from zhenggai.ids import in_range
from zhenggai.opinions.models import Opinion
from zhenggai.org import clock
from zhenggai.org.models import Category, Member, Unit

from . import actions, lifecycle, registry
from .models import Event, FollowUp, Problem

router = Router(tags=["problems"])


# -- shapes -------------------------------------------------------------------------------
class ProblemOut(Schema):
    id: int
    campaign: int = Field(alias="campaign_id")
    summary: str
    scope: str
    state: str
    category: int | None = Field(None, alias="category_id")
    unit: int | None = Field(None, alias="unit_id")
    owner: int | None = Field(None, alias="owner_id")
    measures: str
    root_cause: str
    preventive: str
    deadline: dt.date | None
    first_raised: dt.date | None
    opinions: int = Field(alias="n_opinions")
    overdue: bool
    version: int
    updated_at: dt.datetime

    @staticmethod
    def resolve_overdue(obj) -> bool:
        # The organisation's today, read once per response (_today) or here.
        day = getattr(obj, "today", None) or clock.today(obj.org_id)
        return obj.days_overdue(day) > 0


class ProblemPage(Schema):
    items: list[ProblemOut]
    next: str | None = Field(description="pass as `cursor` for the next page; null at the end")


class EventOut(Schema):
    seq: int
    kind: str
    at: dt.datetime
    day: dt.date
    from_state: str
    to_state: str
    reason: str
    note: str
    actor: int | None = Field(None, alias="actor_id")


class CreateIn(Schema):
    campaign: Id
    opinions: list[Id] = Field(min_length=1)
    summary: Text
    scope: Literal["individual", "common"] = "common"
    category: Id | None = None
    owner: Id | None = None
    unit: Id | None = None
    measures: Text = ""
    deadline: dt.date | None = None
    root_cause: Text | None = Field(None, description="where the campaign uses them")
    preventive: Text | None = Field(None, description="where the campaign uses them")


class AssignIn(Schema):
    owner: Id | None = None
    unit: Id | None = None
    measures: Text = ""
    deadline: dt.date | None = None
    scope: Literal["individual", "common"] | None = None
    root_cause: Text | None = Field(None, description="where the campaign uses them")
    preventive: Text | None = Field(None, description="where the campaign uses them")
    version: Id | None = None


class UpdateIn(Schema):
    summary: Text | None = None
    scope: Literal["individual", "common"] | None = None
    category: Id | None = None
    root_cause: Text | None = Field(None, description="where the campaign uses them")
    preventive: Text | None = Field(None, description="where the campaign uses them")
    version: Id | None = None


class OpinionsIn(Schema):
    opinions: list[Id] = Field(min_length=1)
    version: Id | None = None


class ClaimIn(Schema):
    done: Text
    evidence: Text = ""
    version: Id | None = None


class VerifyIn(Schema):
    passed: bool
    findings: Text = ""
    version: Id | None = None


class CheckIn(Schema):
    holds: bool
    findings: Text = ""
    version: Id | None = None


class FollowUpIn(Schema):
    opinion: Id
    channel: Literal[tuple(c.value for c in FollowUp.STAFF_CHANNELS)]  # type: ignore[valid-type]
    outcome: Literal["satisfied", "not_satisfied", "no_answer"]
    note: Text = ""


class PosterIn(Schema):
    text: Text
    signed: bool = True


class ReasonIn(Schema):
    reason: Text
    version: Id | None = None


class NoteIn(Schema):
    note: Text = ""
    version: Id | None = None


class RoundIn(Schema):
    name: Text
    starts_on: dt.date
    ends_on: dt.date


class RoundOut(Schema):
    id: int
    name: str
    starts_on: dt.date
    ends_on: dt.date
    items: int

    @staticmethod
    def resolve_items(obj) -> int:
        return obj.items.count()


class Done(Schema):
    problem: ProblemOut
    event: EventOut


# -- helpers ------------------------------------------------------------------------------
def _org(request) -> int:
    return request.auth.org_id


def _problem(request, problem_id: Id) -> Problem:
    return get_object_or_404(Problem, pk=problem_id, org_id=_org(request))


def _ref(model, pk, request):
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk, org_id=_org(request)).first()
    if obj is None:
        raise InvalidInput(_("No %(what)s %(id)s in this organisation."),
                           what=model._meta.verbose_name, id=pk)
    return obj


def _opinions(request, ids: list[int]) -> list[Opinion]:
    found = list(Opinion.objects.filter(pk__in=ids, org_id=_org(request)))
    if len(found) != len(set(ids)):
        raise InvalidInput(_("Some of these opinions do not exist in this organisation."))
    return found


def _done(problem: Problem, event: Event | None = None) -> dict:
    problem.refresh_from_db()
    return {"problem": problem, "event": event or problem.events.order_by("-seq").first()}


def _cursor(value: str | None) -> tuple[dt.datetime, int] | None:
    if not value:
        return None
    try:
        at, pk = json.loads(base64.urlsafe_b64decode(value.encode()))
        if not in_range(int(pk)):
            raise ValueError(pk)
        return as_utc(dt.datetime.fromisoformat(at)), int(pk)
    except (ValueError, TypeError, json.JSONDecodeError) as e:
        raise InvalidInput(_("This cursor is not valid.")) from e


def _next(p: Problem) -> str:
    raw = json.dumps([p.updated_at.isoformat(), p.pk])
    return base64.urlsafe_b64encode(raw.encode()).decode()


# -- reads --------------------------------------------------------------------------------
@router.get("/problems", response=ProblemPage)
def list_problems(request, campaign: Id | None = None, status: str | None = None,
                  unit: Id | None = None, category: Id | None = None,
                  owner: Id | None = None, overdue: bool | None = None,
                  updated_since: dt.datetime | None = None, cursor: str | None = None,
                  limit: int = 50):
    """Newest change first. Filters combine; `cursor` continues where the last page ended."""
    limit = min(max(limit, 1), 200)
    qs = Problem.objects.filter(org_id=_org(request))
    today = clock.today(_org(request))
    if campaign is not None:
        qs = qs.filter(campaign_id=campaign)
    if status:
        if status not in lifecycle.STATES:
            raise InvalidInput(_("Unknown state “%(s)s”."), s=status)
        qs = qs.filter(state=status)
    for field, value in (("unit_id", unit), ("category_id", category), ("owner_id", owner)):
        if value is not None:
            qs = qs.filter(**{field: value})
    if overdue is not None:
        late = Q(deadline__lt=today, state__in=lifecycle.UNCLAIMED)
        qs = qs.filter(late) if overdue else qs.exclude(late)
    if updated_since is not None:
        qs = qs.filter(updated_at__gte=as_utc(updated_since))
    after = _cursor(cursor)
    if after:
        at, pk = after
        qs = qs.filter(Q(updated_at__lt=at) | Q(updated_at=at, pk__lt=pk))
    rows = list(qs.order_by("-updated_at", "-pk")[:limit + 1])
    for p in rows:
        p.today = today
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next": _next(rows[-1]) if more else None}


@router.get("/problems/{problem_id}", response=ProblemOut)
def get_problem(request, problem_id: Id):
    """One problem of the caller's organisation, with its state, owner, deadline and figures."""
    return _problem(request, problem_id)


@router.get("/problems/{problem_id}/events", response=list[EventOut])
def problem_events(request, problem_id: Id):
    """The problem's events in order: every change of its state, who made it and why."""
    return list(_problem(request, problem_id).events.order_by("seq"))


@router.get("/figures")
def get_figures(request, as_of: dt.date | None = None,
                by: Literal["unit", "category", "owner", "campaign"] | None = None):
    """The same object as `zhenggai figures --format json`."""
    return figures(_org(request), as_of, by)


# -- actions ------------------------------------------------------------------------------
# One handler per endpoint; which path, schema and kinds it serves is the registry's
# (problems/registry.py: `Api`), and the routes are added from it below.
def create_problem(request, body: CreateIn):
    """The clerk makes a problem of one or more opinions, with its summary, owner, measures and
    deadline."""
    campaign = get_object_or_404(Campaign, pk=body.campaign, org_id=_org(request))
    p = actions.create_problem(
        campaign, _opinions(request, body.opinions), actor=request.auth, summary=body.summary,
        scope=body.scope, category=_ref(Category, body.category, request),
        owner=_ref(Member, body.owner, request), unit=_ref(Unit, body.unit, request),
        measures=body.measures, deadline=body.deadline, root_cause=body.root_cause,
        preventive=body.preventive)
    return Status(201, _done(p))


def assign(request, problem_id: Id, body: AssignIn):
    """Assign the problem to its responsible unit and owner."""
    p = _problem(request, problem_id)
    actions.assign(p, actor=request.auth, owner=_ref(Member, body.owner, request),
                   unit=_ref(Unit, body.unit, request), measures=body.measures,
                   deadline=body.deadline, scope=body.scope, expected_version=body.version,
                   root_cause=body.root_cause, preventive=body.preventive)
    return _done(p)


def update(request, problem_id: Id, body: UpdateIn):
    """Change a problem's summary, scope, measures or deadline (the clerk)."""
    p = _problem(request, problem_id)
    actions.update_problem(p, actor=request.auth, summary=body.summary, scope=body.scope,
                           category=_ref(Category, body.category, request),
                           expected_version=body.version, root_cause=body.root_cause,
                           preventive=body.preventive)
    return _done(p)


def add_opinions(request, problem_id: Id, body: OpinionsIn):
    """Add opinions to a problem (the clerk groups them)."""
    p = _problem(request, problem_id)
    actions.add_opinions(p, _opinions(request, body.opinions), actor=request.auth,
                         expected_version=body.version)
    return _done(p)


def split_opinion(request, opinion_id: Id):
    """Take an opinion out of its problem: it waits at the summarising desk again."""
    (opinion,) = _opinions(request, [opinion_id])
    p = actions.remove_opinion(opinion, actor=request.auth)
    return _done(p)


def claim(request, problem_id: Id, body: ClaimIn):
    """The owner reports the problem resolved, with what was done (and photos)."""
    p = _problem(request, problem_id)
    c = actions.claim(p, actor=request.auth, done=body.done, evidence=body.evidence,
                      expected_version=body.version)
    return _done(p, c.event)


def verify(request, problem_id: Id, body: VerifyIn):
    """The representative verifies a claim: passed, or not thorough."""
    p = _problem(request, problem_id)
    e = actions.verify(p, actor=request.auth, passed=body.passed, findings=body.findings,
                       expected_version=body.version)
    return _done(p, e)


def check(request, problem_id: Id, body: CheckIn):
    """A consolidation check of a verified problem: it holds, or it has come back."""
    p = _problem(request, problem_id)
    e = actions.consolidation_check(p, actor=request.auth, holds=body.holds,
                                    findings=body.findings, expected_version=body.version)
    return _done(p, e)


def followup(request, problem_id: Id, body: FollowUpIn):
    """The proposer's answer to the follow-up: satisfied or not."""
    p = _problem(request, problem_id)
    (opinion,) = _opinions(request, [body.opinion])
    if opinion.problem_id != p.pk:
        raise InvalidInput(_("This opinion is not part of this problem."))
    f = actions.record_followup(opinion, actor=request.auth, channel=body.channel,
                                outcome=body.outcome, note=body.note)
    return _done(p, f.event)


def poster(request, problem_id: Id, body: PosterIn):
    """Put up a poster about the problem on the public board."""
    p = _problem(request, problem_id)
    x = actions.post_poster(p, actor=request.auth, text=body.text, signed=body.signed)
    return _done(p, x.event)


def propose_decline(request, problem_id: Id, body: ReasonIn):
    """Propose to decline a problem, with the reason; a leader decides."""
    p = _problem(request, problem_id)
    e = actions.propose_decline(p, actor=request.auth, reason=body.reason,
                                expected_version=body.version)
    return _done(p, e)


def decline(request, problem_id: Id, body: ReasonIn):
    """A leader declines the problem; the reason is shown to its proposers."""
    p = _problem(request, problem_id)
    e = actions.decline(p, actor=request.auth, reason=body.reason,
                        expected_version=body.version)
    return _done(p, e)


def reject_decline(request, problem_id: Id, body: NoteIn):
    """A leader rejects a proposed decline: the problem goes on."""
    p = _problem(request, problem_id)
    e = actions.reject_decline(p, actor=request.auth, note=body.note,
                               expected_version=body.version)
    return _done(p, e)


def contest(request, problem_id: Id, body: ReasonIn):
    """Contest a problem counted as resolved: it goes back to its representative."""
    p = _problem(request, problem_id)
    e = actions.contest(p, actor=request.auth, reason=body.reason)
    return _done(p, e)


@router.post("/campaigns/{campaign_id}/review-rounds", response={201: RoundOut})
def review_round(request, campaign_id: Id, body: RoundIn):
    """Start a review round of a campaign: every problem counted as resolved is checked again."""
    campaign = get_object_or_404(Campaign, pk=campaign_id, org_id=_org(request))
    r = actions.start_review_round(campaign, actor=request.auth, name=body.name,
                                   starts_on=body.starts_on, ends_on=body.ends_on)
    return Status(201, r)


class HandOverIn(Schema):
    member: Id = Field(description="the member who leaves or is transferred")
    to: Id | None = Field(None, description="the successor, a member")
    to_unit: Id | None = Field(None, description="or the successor unit")
    reason: Text


class Moved(Schema):
    moved: int
    problems: list[int]


@router.post("/campaigns/{campaign_id}/handovers", response=Moved)
def hand_over(request, campaign_id: Id, body: HandOverIn):
    """A leader hands all the live problems of a member in this campaign to a successor (a
    person or a unit), one event each with the reason. Nothing moves if any is refused."""
    campaign = get_object_or_404(Campaign, pk=campaign_id, org_id=_org(request))
    moved = actions.hand_over(
        campaign, _ref(Member, body.member, request), actor=request.auth,
        to=_ref(Member, body.to, request), to_unit=_ref(Unit, body.to_unit, request),
        reason=body.reason)
    return {"moved": len(moved), "problems": [p.pk for p in moved]}


class CarryOverIn(Schema):
    problems: list[Id] | None = Field(
        None, description="the ids to carry over; leave out (null) for all unresolved ones")


@router.get("/campaigns/{campaign_id}/carry-over", response=list[ProblemOut])
def carry_over_candidates(request, campaign_id: Id):
    """The unresolved problems of the previous campaign, which may carry over into this
    one (empty without a previous campaign)."""
    campaign = get_object_or_404(Campaign, pk=campaign_id, org_id=_org(request))
    if campaign.previous_id is None:
        return []
    return list(actions.unresolved_to_carry(campaign.previous)[:1000])


@router.post("/campaigns/{campaign_id}/carry-over", response=Moved)
def carry_over(request, campaign_id: Id, body: CarryOverIn):
    """A leader of this campaign carries over the unresolved problems of the previous one
    that they pick (or all): one event each; each keeps its first-raised day and age."""
    campaign = get_object_or_404(Campaign, pk=campaign_id, org_id=_org(request))
    moved = actions.carry_over_many(campaign, actor=request.auth, problems=body.problems)
    return {"moved": len(moved), "problems": [p.pk for p in moved]}


class BulletinIn(Schema):
    text: Text
    language: Literal["zh-hans", "en"] = Field(
        description="the language it is written in; it is shown as written")


class BulletinOut(Schema):
    id: int
    campaign: int = Field(alias="campaign_id")
    text: str
    language: str
    day: dt.date
    written_by: int = Field(alias="written_by_id")


@router.post("/campaigns/{campaign_id}/bulletins", response={201: BulletinOut})
def post_bulletin(request, campaign_id: Id, body: BulletinIn):
    """A leader's situation bulletin (形势和任务), shown on the board, the kiosk and the
    situation page from today."""
    from zhenggai.campaigns import bulletins

    campaign = get_object_or_404(Campaign, pk=campaign_id, org_id=_org(request))
    return Status(201, bulletins.post(campaign, actor=request.auth, text=body.text,
                                      language=body.language))


@router.get("/bulletins/latest", response={200: BulletinOut, 204: None})
def latest_bulletin(request, as_of: dt.date | None = None):
    """The bulletin the board shows as of a day (default: today); 204 when there is none."""
    from zhenggai.campaigns import bulletins

    b = bulletins.latest(_org(request), as_of)
    return b if b is not None else Status(204, None)


for _api in registry.api_routes():
    router.post(_api.path, response={_api.status: Done})(globals()[_api.handler])
