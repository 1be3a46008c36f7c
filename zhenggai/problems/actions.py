"""Every state change of a problem: one function each, all through `_commit`.

An action checks the registry's entry and the actor (rules.check), folds the new event
into the state, and in one transaction writes the event, the problem's row (only where its
version is still the one the caller read: a second writer gets a Conflict, not a lost
update) and the figure deltas. A refused action raises before anything is written.
"""

from __future__ import annotations

import datetime as dt
import itertools

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhenggai.api import idempotency
from zhenggai.campaigns.models import Campaign, CampaignRole, Role
from zhenggai.campaigns.roles import has_role
from zhenggai.errors import Conflict, Forbidden, InvalidInput, Refused
from zhenggai.figures.ledger import Book
from zhenggai.notifications import events as tell
from zhenggai.opinions.models import Opinion
from zhenggai.org import clock
from zhenggai.org.models import Category, Member, Unit
from zhenggai.text import clean as clean_text

from . import lifecycle, rules
from . import photos as photo_files
from .lifecycle import Kind
from .models import (
    Claim,
    ClaimPhoto,
    Event,
    FollowUp,
    Poster,
    Problem,
    ReviewItem,
    ReviewRound,
    Scope,
)
from .registry import ACTIONS
from .state import (
    OPINION_REF_COLUMNS,
    EventData,
    OpinionRef,
    ProblemState,
    apply,
    fold_answers,
)

MAX_TEXT = 5000


def _now(at: dt.datetime | None, org) -> dt.datetime:
    """When an act happens: `at` if given, else the organisation's now (its clock)."""
    now = clock.now(org)
    if at is None:
        return now
    if timezone.is_naive(at):
        raise InvalidInput(_("Times must carry a time zone."))
    if at > now + dt.timedelta(minutes=5):
        raise InvalidInput(_("An event cannot be dated in the future."))
    return at


def _day_only(at: dt.datetime) -> dt.datetime:
    """Anonymous acts keep no time finer than the day."""
    local = timezone.localtime(at)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _text(value: str, label, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    value = clean_text(value)  # the one cleaner: valid, no bidi controls, visible or empty
    if required and not value:
        raise InvalidInput(_("%(field)s must not be empty."), field=label)
    if len(value) > limit:
        raise InvalidInput(_("%(field)s is longer than %(n)s characters."), field=label, n=limit)
    return value


def opinion_ref(o: Opinion) -> OpinionRef:
    return OpinionRef(o.pk, o.received_on, o.anonymous, o.campaign_id, o.unit_id, o.category_id)


def stored_state(p: Problem, answers: bool = False) -> ProblemState:
    """The state as the problem's row stores it, with the opinions the figures need (and,
    with `answers`, the proposers' answers to the current claim, for a follow-up's
    figures)."""
    refs = {
        o[0]: OpinionRef(*o)
        for o in Opinion.objects.filter(problem_id=p.pk).values_list(*OPINION_REF_COLUMNS)
    }
    return ProblemState(
        state=p.state, org=p.org_id, campaign=p.campaign_id, summary=p.summary, scope=p.scope,
        category=p.category_id, unit=p.unit_id, owner=p.owner_id, measures=p.measures,
        root_cause=p.root_cause, preventive=p.preventive, deadline=p.deadline,
        created_on=p.created_on, base_first_raised=p.first_raised_given,
        opinions=refs, reopen_reason=p.reopen_reason, last_claim_by=p.last_claim_by_id,
        ever_verified=p.ever_verified, verified_on=p.verified_on, verified_by=p.verified_by_id,
        recheck_due=p.recheck_due, decline_requested=p.decline_requested, version=p.version,
        answers=_answers(p.pk) if answers else {},
    )


def _answers(problem_id: int) -> dict[str, str]:
    """The proposers' latest answers since the problem's last claim, folded from its events."""
    out: dict[str, str] = {}
    rows = (Event.objects.filter(problem_id=problem_id, kind__in=(Kind.CLAIM, Kind.FOLLOWUP))
            .order_by("seq").values_list("kind", "data"))
    for kind, data in rows:
        out = fold_answers(out, kind, data or {})
    return out


def row_fields(s: ProblemState) -> dict:
    """The fields of the problem's row (the projection the pages read) for state `s`."""
    return dict(
        state=s.state, org_id=s.org, campaign_id=s.campaign, summary=s.summary, scope=s.scope,
        category_id=s.category, unit_id=s.unit, owner_id=s.owner, measures=s.measures,
        root_cause=s.root_cause, preventive=s.preventive, deadline=s.deadline,
        created_on=s.created_on, first_raised_given=s.base_first_raised,
        first_raised=s.first_raised, n_opinions=s.n_opinions, n_anonymous=s.n_anonymous,
        reopen_reason=s.reopen_reason, last_claim_by_id=s.last_claim_by,
        ever_verified=s.ever_verified, verified_on=s.verified_on, verified_by_id=s.verified_by,
        recheck_due=s.recheck_due, decline_requested=s.decline_requested, version=s.version,
    )


def _commit(problem: Problem | None, action: Kind, *, actor, at=None, campaign=None,
            reason: str = "", note: str = "", data: dict | None = None,
            to_state: str | None = None, expected_version: int | None = None,
            opinion=None, anonymous: bool = False) -> tuple[Problem, Event]:
    """Check, fold, and write one event. Must run inside transaction.atomic()."""
    kind = Kind(action)
    at = _now(at, problem.org_id if problem is not None else campaign.org_id)
    if anonymous:  # no author and no time finer than the day
        at = _day_only(at)
    day = timezone.localdate(at)
    callers = problem
    if problem is None:
        before = ProblemState()
    else:
        # Read the row again inside the transaction: the caller's copy may be stale.
        fresh = Problem.objects.get(pk=problem.pk)
        if expected_version is not None and fresh.version != expected_version:
            raise Conflict()
        problem = fresh
        campaign = problem.campaign
        before = stored_state(problem, answers=kind is Kind.FOLLOWUP)
        if timezone.localdate(problem.updated_at) > day:
            raise InvalidInput(_("An event cannot be dated before the problem's last event."))
    a = rules.check(kind, before, campaign, actor,
                    problem_id=problem.pk if problem else None, opinion=opinion, day=day)
    target = to_state or a.target or before.state
    e = EventData(kind=kind, day=day, from_state=before.state, to_state=target,
                  reason=reason, actor_id=None if anonymous else rules.member_id(actor),
                  data=data or {})
    after = apply(before, e)
    now = timezone.now()
    if problem is None:
        problem = Problem.objects.create(**row_fields(after), updated_at=at)
    else:
        n = Problem.objects.filter(pk=problem.pk, version=before.version).update(
            **row_fields(after), updated_at=at
        )
        if n != 1:
            raise Conflict()
        # Both the fresh row and the caller's copy now show the new state.
        for obj in {id(problem): problem, id(callers): callers}.values():
            for k, v in row_fields(after).items():
                setattr(obj, k, v)
            obj.updated_at = at
    event = Event.objects.create(
        problem=problem, seq=after.version, kind=kind.value, actor_id=e.actor_id, at=at, day=day,
        from_state=before.state, to_state=target, reason=reason, note=note,
        data=e.data, recorded_at=_day_only(now) if anonymous else now,
    )
    book = Book()
    book.transition(before, after, kind, day, e.data)
    book.flush()
    if a.review is not None:
        _mark_review_item(problem, event, passed=a.review)
    # Queued to be told, in this transaction (notifications/events.py: who hears of what).
    tell.record(event, anonymous)
    # An API write sent with an Idempotency-Key is marked done with it (api/idempotency.py).
    idempotency.seal()
    return problem, event


def _mark_review_item(problem: Problem, event: Event, passed: bool) -> None:
    ReviewItem.objects.filter(
        problem=problem, outcome=ReviewItem.Outcome.PENDING,
        round__starts_on__lte=event.day, round__ends_on__gte=event.day,
    ).update(outcome=ReviewItem.Outcome.PASSED if passed else ReviewItem.Outcome.FAILED,
             event=event)


def _check_opinions(opinions, campaign: Campaign, day: dt.date) -> list[Opinion]:
    opinions = list(opinions)
    if len({o.pk for o in opinions}) != len(opinions):
        raise InvalidInput(_("The same opinion is listed twice."))
    for o in opinions:
        if o.org_id != campaign.org_id:
            raise InvalidInput(_("Opinion %(id)s belongs to another organisation."), id=o.pk)
        if o.received_on > day:
            raise InvalidInput(_("Opinion %(id)s was received after this day."), id=o.pk)
    return opinions


def _take_opinions(problem: Problem, opinions: list[Opinion]) -> None:
    # A conditional update: if another clerk grouped one of them first, nobody wins twice.
    ids = [o.pk for o in opinions]
    n = Opinion.objects.filter(pk__in=ids, problem__isnull=True).update(problem=problem)
    if n != len(ids):
        raise Conflict(_("Some of these opinions were grouped into a problem meanwhile."))
    for o in opinions:
        o.problem_id = problem.pk


def _plan_data(campaign: Campaign, *, owner, unit, deadline, measures, scope) -> dict:
    if owner is not None and owner.org_id != campaign.org_id:
        raise InvalidInput(_("The owner must be a member of this organisation."))
    if unit is not None and unit.org_id != campaign.org_id:
        raise InvalidInput(_("The owning unit must belong to this organisation."))
    if owner is None and unit is None:
        raise InvalidInput(_("Give an owner, an owning unit, or both."))
    if deadline is None:  # an assigned problem without one could never be overdue
        raise InvalidInput(_("Give a deadline: an assigned problem has one."))
    if scope not in Scope.values:
        raise InvalidInput(_("Scope must be individual or common."))
    if scope == Scope.INDIVIDUAL and owner is None:
        raise InvalidInput(_("An individual problem needs a person as owner."))
    if unit is None:
        unit = owner.unit
    return {
        "owner": owner.pk if owner else None,
        "unit": unit.pk if unit else None,
        "deadline": deadline.isoformat() if deadline else None,
        "measures": _text(measures, _("Measures"), required=False),
        "scope": scope,
    }


def _capa_data(campaign: Campaign, root_cause: str | None, preventive: str | None) -> dict:
    """The root cause and preventive measure (ISO 9001 §10.2), where the campaign records
    them; None leaves what the problem has. A campaign that does not use them refuses them."""
    given = {k: v for k, v in (("root_cause", root_cause), ("preventive", preventive))
             if v is not None}
    if not campaign.uses_capa:
        if any(clean_text(v) for v in given.values()):
            raise InvalidInput(_("This campaign does not record root causes and preventive "
                                 "measures."))
        return {}
    labels = {"root_cause": _("Root cause"), "preventive": _("Preventive measure")}
    return {k: _text(v, labels[k], required=False) for k, v in given.items()}


@transaction.atomic
def create_problem(campaign: Campaign, opinions, *, actor: Member, summary: str,
                   category: Category | None = None, scope: str = Scope.COMMON,
                   owner: Member | None = None, unit: Unit | None = None,
                   measures: str = "", deadline: dt.date | None = None,
                   first_raised: dt.date | None = None, at=None,
                   root_cause: str | None = None, preventive: str | None = None) -> Problem:
    """Summarise (归纳) opinions into a new problem; with an owner or unit, also assign it."""
    at = _now(at, campaign.org_id)
    opinions = _check_opinions(opinions, campaign, timezone.localdate(at))
    if category is not None and category.org_id != campaign.org_id:
        raise InvalidInput(_("The category must belong to this organisation."))
    if scope not in Scope.values:
        raise InvalidInput(_("Scope must be individual or common."))
    data = {
        "org": campaign.org_id, "campaign": campaign.pk,
        "summary": _text(summary, _("Summary")), "scope": scope,
        "category": category.pk if category else None, "unit": unit.pk if unit else None,
        "first_raised": first_raised.isoformat() if first_raised else None,
        "opinions": [opinion_ref(o).as_list() for o in opinions],
    }
    problem, _e = _commit(None, Kind.CREATE, actor=actor, at=at, campaign=campaign, data=data)
    _take_opinions(problem, opinions)
    if owner is not None or unit is not None:
        problem = assign(problem, actor=actor, owner=owner, unit=unit, measures=measures,
                         deadline=deadline, scope=scope, at=at, root_cause=root_cause,
                         preventive=preventive)
    return problem


@transaction.atomic
def assign(problem: Problem, *, actor: Member, owner: Member | None = None,
           unit: Unit | None = None, measures: str = "", deadline: dt.date | None = None,
           scope: str | None = None, at=None, expected_version: int | None = None,
           root_cause: str | None = None, preventive: str | None = None) -> Problem:
    data = _plan_data(problem.campaign, owner=owner, unit=unit, deadline=deadline,
                      measures=measures, scope=scope or problem.scope)
    data.update(_capa_data(problem.campaign, root_cause, preventive))
    return _commit(problem, Kind.ASSIGN, actor=actor, at=at, data=data,
                   expected_version=expected_version)[0]


@transaction.atomic
def update_problem(problem: Problem, *, actor: Member, summary: str | None = None,
                   scope: str | None = None, category: Category | None = None, at=None,
                   expected_version: int | None = None, root_cause: str | None = None,
                   preventive: str | None = None) -> Problem:
    data: dict = _capa_data(problem.campaign, root_cause, preventive)
    if summary is not None:
        data["summary"] = _text(summary, _("Summary"))
    if scope is not None:
        if scope not in Scope.values:
            raise InvalidInput(_("Scope must be individual or common."))
        data["scope"] = scope
    if category is not None:
        if category.org_id != problem.org_id:
            raise InvalidInput(_("The category must belong to this organisation."))
        data["category"] = category.pk
    if not data:
        raise InvalidInput(_("Nothing to change."))
    return _commit(problem, Kind.UPDATE, actor=actor, at=at, data=data,
                   expected_version=expected_version)[0]


@transaction.atomic
def add_opinions(problem: Problem, opinions, *, actor: Member, at=None,
                 expected_version: int | None = None) -> Problem:
    at = _now(at, problem.org_id)
    opinions = _check_opinions(opinions, problem.campaign, timezone.localdate(at))
    if not opinions:
        raise InvalidInput(_("Choose at least one opinion."))
    data = {"opinions": [opinion_ref(o).as_list() for o in opinions]}
    problem, _e = _commit(problem, Kind.ADD_OPINIONS, actor=actor, at=at, data=data,
                          expected_version=expected_version)
    _take_opinions(problem, opinions)
    return problem


def may_second(problem: Problem | None, campaign: Campaign) -> Problem:
    """The problem a new opinion of `campaign` may say "me too" (附议) on, read afresh, or
    the refusal, before anything is stored: a problem of this campaign that is not resolved
    yet (registry: `Kind.ME_TOO`). A verified, closed or declined one takes no more: if it
    still stands, it is a new opinion for the desk."""
    fresh = None if problem is None else Problem.objects.filter(pk=problem.pk).first()
    if fresh is None or fresh.campaign_id != campaign.pk:
        raise InvalidInput(_("No such problem in this campaign."))
    a = ACTIONS[Kind.ME_TOO]
    if fresh.state not in a.sources:
        raise Refused(_("Problem #%(id)s is %(state)s: it takes no “me too”. If it still "
                        "stands, submit it as a new opinion."), id=fresh.pk,
                      state=lifecycle.STATE_LABELS.get(fresh.state, fresh.state))
    return fresh


@transaction.atomic
def me_too(problem: Problem, opinion: Opinion, *, actor, at=None) -> Problem:
    """附议: the proposer's own new opinion joins `problem`; it counts as any other of its
    opinions. By receipt (anonymous): no actor and no time finer than the day."""
    anonymous = isinstance(actor, rules.ReceiptHolder)
    at = _now(at, problem.org_id)
    (opinion,) = _check_opinions([opinion], problem.campaign, timezone.localdate(at))
    data = {"opinions": [opinion_ref(opinion).as_list()]}
    problem, _e = _commit(problem, Kind.ME_TOO, actor=actor, at=at, data=data,
                          opinion=opinion, anonymous=anonymous)
    _take_opinions(problem, [opinion])
    return problem


@transaction.atomic
def remove_opinion(opinion: Opinion, *, actor: Member, at=None,
                   expected_version: int | None = None) -> Problem:
    """Split a wrongly grouped opinion out again. The opinion itself is untouched."""
    if opinion.problem_id is None:
        raise Refused(_("This opinion is not grouped into any problem."))
    problem = Problem.objects.get(pk=opinion.problem_id)
    data = {"opinion": opinion_ref(opinion).as_list()}
    problem, _e = _commit(problem, Kind.REMOVE_OPINION, actor=actor, at=at, data=data,
                          expected_version=expected_version)
    n = Opinion.objects.filter(pk=opinion.pk, problem=problem).update(problem=None)
    if n != 1:
        raise Conflict()
    opinion.problem_id = None
    return problem


@transaction.atomic
def claim(problem: Problem, *, actor: Member, done: str, evidence: str = "", at=None,
          expected_version: int | None = None, photos: list[bytes] = ()) -> Claim:
    """The owner's claim that it is rectified, with evidence as text and photos. Photos are
    checked and stripped of their metadata before anything is written."""
    done = _text(done, _("What was done"))
    evidence = _text(evidence, _("Evidence"), required=False)
    if len(photos) > photo_files.MAX_PHOTOS:
        raise InvalidInput(_("At most %(n)s photos with one claim."), n=photo_files.MAX_PHOTOS)
    cleaned = [photo_files.clean(data) for data in photos]
    problem, event = _commit(problem, Kind.CLAIM, actor=actor, at=at, note=done,
                             expected_version=expected_version)
    c = Claim.objects.create(problem=problem, event=event, by=actor, done=done,
                             evidence=evidence)
    written: list[ClaimPhoto] = []
    try:
        for ph in cleaned:
            row = ClaimPhoto(claim=c, content_type=ph.content_type, width=ph.width,
                             height=ph.height)
            row.image.save(ph.name, ContentFile(ph.data), save=False)
            written.append(row)
            row.save()
    except BaseException:
        # The transaction rolls the rows back; the files are ours to take back.
        for row in written:
            row.image.delete(save=False)
        raise
    return c


@transaction.atomic
def verify(problem: Problem, *, actor: Member, passed: bool, findings: str = "", at=None,
           expected_version: int | None = None) -> Event:
    """A representative's check of a claim (核对): passed, or not thorough and reopened."""
    findings = _text(findings, _("Findings"), required=not passed)
    if passed:
        days = problem.campaign.consolidation_days
        at_ = _now(at, problem.org_id)
        due = timezone.localdate(at_) + dt.timedelta(days=days)
        return _commit(problem, Kind.VERIFY_PASSED, actor=actor, at=at_, note=findings,
                       data={"recheck_due": due.isoformat()},
                       expected_version=expected_version)[1]
    # A claim sent back by a dissatisfied proposer fails for that reason.
    reason = (
        lifecycle.DISSATISFIED
        if problem.reopen_reason == lifecycle.DISSATISFIED
        else lifecycle.NOT_THOROUGH
    )
    return _commit(problem, Kind.VERIFY_NOT_THOROUGH, actor=actor, at=at, note=findings,
                   reason=reason, expected_version=expected_version)[1]


@transaction.atomic
def consolidation_check(problem: Problem, *, actor: Member, holds: bool, findings: str = "",
                        at=None, expected_version: int | None = None) -> Event:
    """A re-check some time after verification (巩固复查): holds, or deteriorated."""
    findings = _text(findings, _("Findings"), required=not holds)
    if holds:
        return _commit(problem, Kind.CHECK_HOLDS, actor=actor, at=at, note=findings,
                       expected_version=expected_version)[1]
    return _commit(problem, Kind.CHECK_DETERIORATED, actor=actor, at=at, note=findings,
                   reason=lifecycle.DETERIORATED, expected_version=expected_version)[1]


@transaction.atomic
def record_followup(opinion: Opinion, *, actor, channel: str, outcome: str, note: str = "",
                    at=None) -> FollowUp:
    """A follow-up (回访) with the proposer of `opinion`. “Not satisfied” on a resolved
    problem sends it back to verification."""
    if opinion.problem_id is None:
        raise Refused(_("This opinion is not yet part of a problem to follow up."))
    if channel not in FollowUp.Channel.values:
        raise InvalidInput(_("Unknown follow-up channel."))
    if outcome not in FollowUp.Outcome.values:
        raise InvalidInput(_("Unknown follow-up outcome."))
    note = _text(note, _("Note"), required=False)
    problem = Problem.objects.get(pk=opinion.problem_id)
    rules.check_followup_channel(problem.campaign, actor, opinion, channel)
    # The registry says where an outcome leads ("not satisfied": back to claimed).
    to_state = ACTIONS[Kind.FOLLOWUP].target_for(problem.state, outcome)
    if to_state == problem.state:
        to_state = None
    anonymous = opinion.anonymous
    problem, event = _commit(
        problem, Kind.FOLLOWUP, actor=actor, at=at, note="" if anonymous else note,
        reason=lifecycle.DISSATISFIED if to_state else "", to_state=to_state, opinion=opinion,
        data={"outcome": outcome, "channel": channel, "proposer": proposer_key(opinion)},
        anonymous=isinstance(actor, rules.ReceiptHolder),
    )
    return FollowUp.objects.create(
        problem=problem, event=event, opinion=opinion, channel=channel, outcome=outcome,
        recorded_by=None if isinstance(actor, rules.ReceiptHolder) else actor, note=note,
    )


def proposer_key(opinion: Opinion) -> str:
    """Who answers a follow-up about `opinion`, for "one answer per proposer per claim": a
    named proposer is one person however many opinions they gave; an anonymous one is their
    receipt's opinion."""
    if opinion.anonymous or opinion.author_id is None:
        return f"o{opinion.pk}"
    return f"m{opinion.author_id}"


def proposers_problem(opinion: Opinion) -> Problem:
    """The problem a proposer's opinion is part of, read afresh: a proposer answers, contests
    or posts on their case only once it is a problem."""
    problem = Problem.objects.filter(opinions__pk=opinion.pk).first()
    if problem is None:
        raise Refused(_("This opinion is not yet part of a problem."))
    return problem


def proposer_answer(opinion: Opinion, *, actor, outcome: str) -> FollowUp:
    """A proposer's own answer to "is it fixed to your satisfaction?": through the receipt
    when anonymous, as a questionnaire when named."""
    channel = (FollowUp.Channel.RECEIPT if isinstance(actor, rules.ReceiptHolder)
               else FollowUp.Channel.QUESTIONNAIRE)
    return record_followup(opinion, actor=actor, channel=channel, outcome=outcome)


@transaction.atomic
def post_poster(problem: Problem, *, actor, text: str, signed: bool = True, at=None) -> Poster:
    """A big-character poster (大字报). Unsigned posters keep no author and no time of day."""
    text = _text(text, _("Poster"), limit=2000)
    anonymous = not signed or isinstance(actor, rules.ReceiptHolder)
    problem, event = _commit(problem, Kind.POSTER, actor=actor, at=at, anonymous=anonymous)
    return Poster.objects.create(problem=problem, event=event, text=text,
                                 signed_by=None if anonymous else actor, day=event.day)


@transaction.atomic
def propose_decline(problem: Problem, *, actor: Member, reason: str, at=None,
                    expected_version: int | None = None) -> Event:
    reason = _text(reason, _("Reason"))
    return _commit(problem, Kind.PROPOSE_DECLINE, actor=actor, at=at, note=reason,
                   expected_version=expected_version)[1]


@transaction.atomic
def decline(problem: Problem, *, actor: Member, reason: str, at=None,
            expected_version: int | None = None) -> Event:
    """A leader declines the problem; the reason is shown to its proposers."""
    reason = _text(reason, _("Reason"))
    return _commit(problem, Kind.DECLINE, actor=actor, at=at, note=reason,
                   expected_version=expected_version)[1]


@transaction.atomic
def reject_decline(problem: Problem, *, actor: Member, note: str = "", at=None,
                   expected_version: int | None = None) -> Event:
    return _commit(problem, Kind.REJECT_DECLINE, actor=actor, at=at,
                   note=_text(note, _("Note"), required=False),
                   expected_version=expected_version)[1]


@transaction.atomic
def contest(problem: Problem, *, actor, reason: str, at=None) -> Event:
    """A proposer contests a decline; the problem opens again."""
    reason = _text(reason, _("Reason"))
    anonymous = isinstance(actor, rules.ReceiptHolder)
    return _commit(problem, Kind.CONTEST, actor=actor, at=at, note=reason,
                   anonymous=anonymous)[1]


@transaction.atomic
def carry_over(problem: Problem, to: Campaign, *, actor: Member, at=None) -> Problem:
    """Carry a problem into a later campaign; its first-raised date and age are kept."""
    if to.org_id != problem.org_id or to.pk == problem.campaign_id:
        raise InvalidInput(_("Carry over into another campaign of the same organisation."))
    if not has_role(actor, to, Role.LEADER):
        raise Forbidden(_("Only a leader of the receiving campaign may carry it over."))
    return _commit(problem, Kind.CARRY_OVER, actor=actor, at=at,
                   data={"campaign": to.pk, "from": problem.campaign_id})[0]


def unresolved_to_carry(campaign: Campaign):
    """The problems of `campaign` that may carry over into a later one: not resolved yet
    (open, assigned, reopened, or claimed and waiting for verification)."""
    return (Problem.objects.filter(campaign=campaign, state__in=sorted(lifecycle.UNRESOLVED))
            .order_by("first_raised", "pk"))


@transaction.atomic
def carry_over_many(to: Campaign, *, actor: Member, problems=None, at=None) -> list[Problem]:
    """A new campaign starts: its leader carries over the unresolved problems they pick of
    the campaign before it (`problems`: ids; None: all of them), one event each, all or
    nothing. Each keeps its first-raised day, so its age goes on counting."""
    if actor.org_id != to.org_id or not has_role(actor, to, Role.LEADER):
        raise Forbidden(_("Only a leader of the receiving campaign may carry problems over."))
    source = to.previous
    if source is None:
        raise Refused(_("Campaign “%(c)s” has no previous campaign to carry problems over "
                        "from. Set it in the admin."), c=to.name)
    candidates = {p.pk: p for p in unresolved_to_carry(source)}
    if problems is None:
        chosen = list(candidates.values())
    else:
        ids = list(dict.fromkeys(int(i) for i in problems))
        unknown = [i for i in ids if i not in candidates]
        if unknown:
            raise InvalidInput(_("Problem %(id)s is not an unresolved problem of campaign "
                                 "“%(c)s”."), id=unknown[0], c=source.name)
        chosen = [candidates[i] for i in ids]
    if not chosen:
        raise Refused(_("Nothing to carry over: campaign “%(c)s” has no unresolved "
                        "problem."), c=source.name)
    return [carry_over(p, to, actor=actor, at=at) for p in chosen]


def hand_over_candidates(campaign: Campaign, member: Member):
    """What a hand-over moves: the member's problems in the campaign that are not closed
    or declined."""
    return (Problem.objects.filter(campaign=campaign, owner=member,
                                   state__in=sorted(lifecycle.LIVE)).order_by("pk"))


@transaction.atomic
def hand_over_problem(problem: Problem, *, actor: Member, owner: Member | None = None,
                      unit: Unit | None = None, reason: str, at=None) -> Problem:
    """One problem to its successor, a person (its owning unit stays) or a unit."""
    data = {"from": problem.owner_id, "owner": owner.pk if owner else None,
            "unit": unit.pk if unit else problem.unit_id}
    return _commit(problem, Kind.HAND_OVER, actor=actor, at=at, note=reason, data=data)[0]


@transaction.atomic
def hand_over(campaign: Campaign, member: Member, *, actor: Member, to: Member | None = None,
              to_unit: Unit | None = None, reason: str, at=None) -> list[Problem]:
    """A member leaves or is transferred (下放): a leader hands all their live problems in
    the campaign to a successor, a person or a unit, one event per problem with the reason,
    all or nothing. The figures by owner move on the day of the hand-over; as of any day
    before it, the member who left still owns them."""
    if actor.org_id != campaign.org_id or not has_role(actor, campaign, Role.LEADER):
        raise Forbidden(_("Only a leader of campaign “%(c)s” hands problems over."),
                        c=campaign.name)
    if member.org_id != campaign.org_id:
        raise InvalidInput(_("%(who)s is not a member of this organisation."), who=member.name)
    if (to is None) == (to_unit is None):
        raise InvalidInput(_("Give the successor: a person or a unit, not both."))
    if to is not None:
        if to.pk == member.pk:
            raise InvalidInput(_("The successor must be someone else than %(who)s."),
                               who=member.name)
        if to.org_id != campaign.org_id:
            raise InvalidInput(_("The successor %(who)s is not a member of this "
                                 "organisation."), who=to.name)
    if to_unit is not None and to_unit.org_id != campaign.org_id:
        raise InvalidInput(_("The successor unit must belong to this organisation."))
    reason = _text(reason, _("Reason"), limit=1000)
    problems = list(hand_over_candidates(campaign, member))
    if not problems:
        raise Refused(_("%(who)s has no open problem to hand over in campaign “%(c)s”."),
                      who=member.name, c=campaign.name)
    if to_unit is not None:
        personal = sum(1 for p in problems if p.scope == Scope.INDIVIDUAL)
        if personal:
            raise InvalidInput(_("%(n)s of these problems are individual and need a person "
                                 "as successor."), n=personal)
    if to is not None and not has_role(to, campaign, Role.OWNER):
        from zhenggai.campaigns.roles import grant

        grant(to, campaign, Role.OWNER)  # so that they see the problems and may claim them
    return [hand_over_problem(p, actor=actor, owner=to, unit=to_unit, reason=reason, at=at)
            for p in problems]


@transaction.atomic
def start_review_round(campaign: Campaign, *, actor: Member, name: str, starts_on: dt.date,
                       ends_on: dt.date) -> ReviewRound:
    """A review round (复查): every problem counted as resolved is checked again, one by
    one, shared out among the representatives so that nobody checks their own."""
    if not rules.may_start_review_round(actor, campaign):
        raise Forbidden(_("Only a leader starts a review round."))
    if ends_on < starts_on:
        raise InvalidInput(_("A round ends after it starts."))
    rnd = ReviewRound.objects.create(campaign=campaign, name=_text(name, _("Name"), limit=200),
                                     starts_on=starts_on, ends_on=ends_on, started_by=actor)
    reps = list(
        CampaignRole.objects.filter(campaign=campaign, role=Role.REPRESENTATIVE)
        .order_by("member_id").values_list("member_id", flat=True)
    )
    problems = Problem.objects.filter(
        campaign=campaign, state__in=sorted(lifecycle.CLAIMED_RESOLVED)
    ).order_by("pk").values_list("pk", "owner_id", "last_claim_by_id", "verified_by_id")
    cycle = itertools.cycle(reps) if reps else None
    items = []
    for pk, owner, claimant, verifier in problems:
        assignee = None
        for _i in range(len(reps)):
            cand = next(cycle)
            # Not their own problem (rules.own_problem), nor one they verified.
            if not rules.own_problem(cand, owner, claimant) and cand != verifier:
                assignee = cand
                break
        items.append(ReviewItem(round=rnd, problem_id=pk, assignee_id=assignee))
    ReviewItem.objects.bulk_create(items, batch_size=1000)
    return rnd
