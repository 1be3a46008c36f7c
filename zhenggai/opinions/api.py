"""Opinions over the JSON API: submit (named with a token, or anonymous without one), and
an anonymous proposer's case by receipt. The receipt travels in the body, never in a URL."""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from zhenggai.api.auth import TokenAuth
from zhenggai.api.types import Id, Text
from zhenggai.campaigns.access import may_view
from zhenggai.campaigns.models import Campaign
from zhenggai.errors import Forbidden, InvalidInput, NotFound
from zhenggai.org import clock
from zhenggai.org.models import Category, Unit
from zhenggai.problems import actions as problem_actions
from zhenggai.problems.models import Problem
from zhenggai.problems.photos import MAX_BYTES, MAX_PHOTOS
from zhenggai.security.address import client_address

from . import intake, receipts, slips
from .models import Opinion

router = Router(tags=["opinions"])
_token = TokenAuth()  # optional here: an anonymous opinion comes without one


class OpinionIn(Schema):
    campaign: Id
    text: Text = Field("", description="required, unless `problem` is given")
    anonymous: bool = False
    unit: Id | None = None
    category: Id | None = None
    photos: list[str] = Field(
        [], description="up to 6 photos, each a JPEG, PNG or WebP image in base64 (10 MB "
                        "at most before encoding); re-encoded from their pixels, so that no "
                        "place, camera or time is kept")
    problem: Id | None = Field(
        None, description="“me too” (附议) on this problem of the campaign (not verified, "
                          "closed or declined): the opinion joins it, a named one at once, an "
                          "anonymous one when its day is over; an empty text says the "
                          "problem's summary")


class PaperIn(Schema):
    campaign: Id
    slip: str = Field(description="the slip number on the paper form, e.g. 3141 5926")
    text: Text
    unit: Id | None = None
    category: Id | None = None
    received_on: dt.date | None = Field(None, description="the day the form was taken from "
                                                          "the box; today by default")


class SlipsIn(Schema):
    campaign: Id
    count: int = Field(description="how many slips, 1 to 40")


class SlipOut(Schema):
    number: str
    receipt: str | None = Field(description="null in a replay: a code is shown once")


class SlipsOut(Schema):
    slips: list[SlipOut] = Field(description="shown this once and never stored: print them now")


class OpinionOut(Schema):
    id: int
    campaign: int = Field(alias="campaign_id")
    text: str
    anonymous: bool
    received_on: dt.date
    unit: int | None = Field(None, alias="unit_id")
    category: int | None = Field(None, alias="category_id")
    problem: int | None = Field(None, alias="problem_id")


class Submitted(Schema):
    opinion: OpinionOut
    me_too: int | None = Field(None, description="the problem this opinion said “me too” on")
    receipt: str | None = Field(
        None, description="anonymous only: shown this once, never stored; a lost receipt "
                          "cannot be recovered")
    receipt_withheld: bool = Field(
        False, description="a replay (same Idempotency-Key) of an anonymous submission: the "
                           "receipt was in the first answer and is never shown again")


class ReceiptIn(Schema):
    receipt: str


class CaseEvent(Schema):
    day: dt.date
    kind: str
    from_state: str
    to_state: str
    reason: str


class Case(Schema):
    opinion: OpinionOut
    state: str | None
    summary: str | None
    deadline: dt.date | None
    events: list[CaseEvent]
    questionnaire: bool = Field(description="the problem was verified: are you satisfied?")


class AnswerIn(ReceiptIn):
    outcome: str = Field(description="satisfied, not_satisfied or no_answer")


class TextIn(ReceiptIn):
    text: Text


def _ref(model, pk, campaign):
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk, org_id=campaign.org_id).first()
    if obj is None:
        raise InvalidInput(_("No %(what)s %(id)s in this organisation."),
                           what=model._meta.verbose_name, id=pk)
    return obj


@router.post("/opinions", response={201: Submitted}, auth=None)
def submit(request, body: OpinionIn):
    """Named opinions need a member's token; anonymous ones need none and keep no link to
    whoever sent them (a token sent with one is not even looked at)."""
    member = None if body.anonymous else _token(request)
    campaign = Campaign.by_id(body.campaign)
    if campaign is None:
        raise NotFound(_("No %(what)s %(id)s in this organisation."),
                       what=Campaign._meta.verbose_name, id=body.campaign)
    if not body.anonymous and member is None:
        raise Forbidden(_("A named opinion needs a member's API token."))
    # A member of another organisation is refused by intake's rules (NotAMember, 403).
    s = intake.submit_opinion(
        campaign, text=body.text, channel="api", author=None if body.anonymous else member,
        anonymous=body.anonymous, unit=_ref(Unit, body.unit, campaign),
        category=_ref(Category, body.category, campaign),
        at=clock.now_of_day(campaign.org_clock_day),  # the organisation's clock
        photos=_decode_photos(body.photos),
        me_too=None if body.problem is None else Problem(pk=body.problem))
    return Status(201, {"opinion": s.opinion, "receipt": s.receipt,
                        "me_too": s.me_too.pk if s.me_too else None})


def _decode_photos(photos: list[str]) -> list[bytes]:
    """The photos' bytes, for problems/photos.py to check; the count first, before any is
    decoded, and no more of each than enough for a size over the limit to be refused."""
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(_("At most %(n)s photos with one opinion."), n=MAX_PHOTOS)
    out = []
    for p in photos:
        head, sep, rest = p.partition(",")  # a data: URL is welcome too
        b64 = rest if sep and head.startswith("data:") else p
        b64 = b64[:(MAX_BYTES // 3 + 2) * 4]
        try:
            out.append(base64.b64decode(b64, validate=True))
        except (binascii.Error, ValueError):
            raise InvalidInput(_("A photo must be sent as base64.")) from None
    return out


def _campaign(pk: int, member) -> Campaign:
    c = Campaign.objects.filter(pk=pk, org_id=member.org_id).first()
    if c is None:
        raise NotFound(_("No %(what)s %(id)s in this organisation."),
                       what=Campaign._meta.verbose_name, id=pk)
    return c


@router.post("/slips", response={201: SlipsOut})
def print_slips(request, body: SlipsIn):
    """For clerks: new receipt slips for anonymous paper forms, to print now. Each has a
    number (for the form) and a receipt code (for the worker): the codes are in this answer
    only, stored as hashes, and a repeat with the same Idempotency-Key does not show them."""
    c = _campaign(body.campaign, request.auth)
    printed = slips.print_slips(c, actor=request.auth, count=body.count)
    return Status(201, {"slips": [{"number": p.number, "receipt": p.receipt}
                                  for p in printed]})


@router.post("/opinions/paper", response={201: Submitted})
def type_in_paper(request, body: PaperIn):
    """For clerks: an anonymous paper form typed in with its slip's number. The slip's
    receipt then follows the case; an unknown slip is a 404, a used one a 409."""
    c = _campaign(body.campaign, request.auth)
    s = slips.submit_paper(c, actor=request.auth, slip=body.slip, text=body.text,
                           unit=_ref(Unit, body.unit, c), category=_ref(Category, body.category, c),
                           received_on=body.received_on)
    return Status(201, {"opinion": s.opinion, "receipt": None})


@router.get("/opinions", response=list[OpinionOut])
def list_opinions(request, campaign: Id, unsummarised: bool = False, limit: int = 100,
                  after: Id | None = None):
    """For clerks: the opinions of a campaign, by id; `after` continues from an id."""
    c = get_object_or_404(Campaign, pk=campaign, org_id=request.auth.org_id)
    if not may_view(request.auth, c, "summarising_desk"):
        raise Forbidden(_("Only a clerk of this campaign may list its opinions."))
    qs = Opinion.objects.waiting(c) if unsummarised else Opinion.objects.filter(campaign=c)
    if after is not None:
        qs = qs.filter(pk__gt=after)
    return list(qs.order_by("pk")[:min(max(limit, 1), 500)])


def _case(holder) -> dict:
    o = Opinion.objects.get(pk=holder.opinion.pk)
    p = o.problem
    events = list(p.events.order_by("seq")) if p else []
    from zhenggai.notifications.schedules import pending_questionnaire

    return {"opinion": o, "state": p.state if p else None, "summary": p.summary if p else None,
            "deadline": p.deadline if p else None, "events": events,
            "questionnaire": pending_questionnaire(o)}


@router.post("/receipts/case", response=Case, auth=None)
def case(request, body: ReceiptIn):
    """An anonymous proposer's case: their opinion, its problem and what happened to it."""
    return _case(receipts.redeem(body.receipt, address=client_address(request)))


@router.post("/receipts/answer", response=Case, auth=None)
def answer(request, body: AnswerIn):
    """“Is it fixed to your satisfaction?”, answered with the receipt."""
    holder = receipts.redeem(body.receipt, address=client_address(request))
    problem_actions.proposer_answer(holder.opinion, actor=holder, outcome=body.outcome)
    return _case(holder)


@router.post("/receipts/contest", response=Case, auth=None)
def contest(request, body: TextIn):
    """Contest, with a receipt, a problem counted as resolved: it goes back to its representative.
    404 for an unknown receipt."""
    holder = receipts.redeem(body.receipt, address=client_address(request))
    problem = problem_actions.proposers_problem(holder.opinion)
    problem_actions.contest(problem, actor=holder, reason=body.text)
    return _case(holder)


@router.post("/receipts/poster", response=Case, auth=None)
def poster(request, body: TextIn):
    """Put up a poster, with a receipt, about a problem on the public board. 404 for an unknown
    receipt."""
    holder = receipts.redeem(body.receipt, address=client_address(request))
    problem = problem_actions.proposers_problem(holder.opinion)
    problem_actions.post_poster(problem, actor=holder, text=body.text, signed=False)
    return _case(holder)

