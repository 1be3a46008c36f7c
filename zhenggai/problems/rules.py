"""Who may take an action on a problem: the registry's states and roles plus the rules
about who the actor is (each once, here; an entry names those it is subject to). Every
action calls `check` before it writes anything."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhenggai.campaigns.models import Campaign, Role
from zhenggai.campaigns.roles import has_role
from zhenggai.errors import Forbidden, InvalidInput, Refused

from . import lifecycle
from .lifecycle import Kind
from .registry import ACTIONS, Action, Rule
from .state import ProblemState


@dataclass(frozen=True)
class ReceiptHolder:
    """An anonymous proposer who has shown a valid receipt for `opinion`.

    Made only by `opinions.receipts.redeem`, after the receipt's hash matched.
    """

    opinion: object

    @property
    def pk(self):  # never a member
        return None


def member_id(actor) -> int | None:
    return None if actor is None or isinstance(actor, ReceiptHolder) else actor.pk


def is_proposer(actor, problem_id: int | None, opinion=None) -> bool:
    if actor is None:
        return False
    if isinstance(actor, ReceiptHolder):
        target = actor.opinion
        return target.problem_id == problem_id and (opinion is None or opinion.pk == target.pk)
    from zhenggai.opinions.models import Opinion

    qs = Opinion.objects.filter(problem_id=problem_id, author=actor)
    if opinion is not None:
        qs = qs.filter(pk=opinion.pk)
    return qs.exists()


def seconds_own_opinion(actor, opinion, campaign: Campaign) -> bool:
    """A "me too": the actor's own opinion (by receipt when anonymous), of this campaign,
    not yet part of any problem."""
    if opinion is None or opinion.campaign_id != campaign.pk or opinion.problem_id is not None:
        return False
    if isinstance(actor, ReceiptHolder):
        return actor.opinion.pk == opinion.pk and opinion.anonymous
    return not opinion.anonymous and opinion.author_id == actor.pk


def check(action: str, s: ProblemState, campaign: Campaign, actor, problem_id=None,
          opinion=None, day: dt.date | None = None) -> Action:
    """The registry's entry for `action` on a problem in state `s`, if `actor` may take it
    on `day` (the organisation's today when not given); else a Refused or Forbidden error."""
    a = ACTIONS[Kind(action)]
    current = s.state or ""
    if not a.sources:  # it creates the problem
        if current:
            raise Refused(_("This problem exists already."))
    elif current not in a.sources:
        raise Refused(
            _("A problem that is %(state)s cannot be “%(action)s”."),
            state=lifecycle.STATE_LABELS.get(current, current), action=a.label,
        )
    if actor is None:
        raise Forbidden(_("Sign in, or show your receipt, to do this."))
    if a.kind is Kind.ME_TOO:  # the proposer of the opinion that joins, and no one else
        if not seconds_own_opinion(actor, opinion, campaign):
            raise Forbidden(_("Only the proposer of a new opinion says “me too” with it."))
        return a
    if isinstance(actor, ReceiptHolder):
        if lifecycle.PROPOSER not in a.roles or not is_proposer(actor, problem_id, opinion):
            raise Forbidden(_("A receipt lets its holder follow and answer only their own case."))
        return a
    if actor.org_id != campaign.org_id:
        raise Forbidden(_("%(who)s is not a member of this organisation."), who=actor.name)
    member_roles = a.roles - {lifecycle.PROPOSER}
    ok = bool(member_roles) and has_role(actor, campaign, *member_roles)
    if not ok and lifecycle.PROPOSER in a.roles:
        ok = is_proposer(actor, problem_id, opinion)
    if not ok:
        names = _(" or ").join(sorted(str(_role_label(r)) for r in a.roles))
        raise Forbidden(
            _("Only a %(roles)s may “%(action)s” in campaign “%(campaign)s”."),
            roles=names, action=a.label, campaign=campaign.name,
        )
    for rule in sorted(a.rules, key=list(Rule).index):
        PERSON_RULES[rule](s, actor, campaign, day)
    return a


def consolidation_due(s: ProblemState, campaign: Campaign) -> dt.date | None:
    """The first day a consolidation check may be made: `consolidation_days` after the
    latest verification (domain.md: never earlier)."""
    if s.verified_on is None:
        return None
    return s.verified_on + dt.timedelta(days=campaign.consolidation_days)


def _check_consolidation(s: ProblemState, actor, campaign: Campaign, day) -> None:
    if s.verified_by is not None and s.verified_by == actor.pk:
        raise Forbidden(_("The consolidation check is made by a representative other than "
                          "the one who verified."))
    due = consolidation_due(s, campaign)
    if day is None:
        from zhenggai.org import clock

        day = clock.today(campaign.org_id)
    if due is not None and day < due:
        raise Refused(_("The consolidation check comes %(n)s days after verification, on "
                        "%(due)s at the earliest."), n=campaign.consolidation_days,
                      due=due.isoformat())


STAFF_ONLY_CHANNELS = ("conversation", "home_visit")  # a visit or a talk, made by staff


def check_followup_channel(campaign: Campaign, actor, opinion, channel: str) -> None:
    """Who records a follow-up through which channel: a conversation or a home visit is
    recorded by staff (a leader or a clerk), never about their own opinion; a questionnaire
    by staff or by the proposer answering it; a receipt check-in by its holder only."""
    holder = isinstance(actor, ReceiptHolder)
    if channel == "receipt":
        if not holder:
            raise InvalidInput(_("Only a receipt holder answers through the receipt."))
        return
    if holder:
        raise InvalidInput(_("A receipt holder answers through the receipt."))
    staff = actor is not None and has_role(actor, campaign, Role.LEADER, Role.CLERK)
    own = actor is not None and opinion is not None and opinion.author_id == actor.pk
    if channel in STAFF_ONLY_CHANNELS and (not staff or own):
        raise Forbidden(_("Conversations and home visits are recorded by a leader or a clerk "
                          "who visited the proposer; a proposer answers the questionnaire."))
    if channel == "questionnaire" and not (staff or own):
        raise Forbidden(_("Only the proposer or a leader or clerk records a questionnaire."))


def followup_channels(campaign: Campaign, actor) -> list[str]:
    """The staff channels this member may record a follow-up visit through (for a page)."""
    if member_id(actor) is None or not has_role(actor, campaign, Role.LEADER, Role.CLERK):
        return []
    return [*STAFF_ONLY_CHANNELS, "questionnaire"]


def may_start_review_round(actor, campaign: Campaign) -> bool:
    """A review round is started by a leader of the campaign."""
    return member_id(actor) is not None and has_role(actor, campaign, Role.LEADER)


def _role_label(role: str):
    return _("proposer of this problem") if role == lifecycle.PROPOSER else Role(role).label


def _is_owner_of(s: ProblemState, actor) -> bool:
    """The problem's owner; without one, a member of its owning unit."""
    if s.owner is not None:
        return s.owner == actor.pk
    return s.unit is not None and actor.unit_id == s.unit


def own_problem(member: int | None, owner: int | None, claimant: int | None) -> bool:
    """Nobody verifies or checks a problem they own or claimed: the one rule, which the
    verification queue (`not_own_problem`) and a review round's sharing-out also follow."""
    return member is not None and member in (owner, claimant)


def not_own_problem(member) -> Q:
    """`own_problem` as a query: the problems this member may verify or check."""
    return ~Q(owner_id=member.pk) & (Q(last_claim_by__isnull=True) | ~Q(last_claim_by=member))


def _check_not_own(s: ProblemState, actor, campaign: Campaign, day) -> None:
    if own_problem(actor.pk, s.owner, s.last_claim_by):
        if s.owner == actor.pk:
            raise Forbidden(_("A representative never verifies a problem they own."))
        raise Forbidden(_("Nobody verifies their own claim."))


def _check_owner_claims(s: ProblemState, actor, campaign: Campaign, day) -> None:
    if s.owner is not None and s.owner != actor.pk:
        raise Forbidden(_("Only the problem's owner may claim it is rectified."))
    if s.owner is None and s.unit is not None and actor.unit_id != s.unit:
        raise Forbidden(_("Only a member of the owning unit may claim it is rectified."))


def _check_decline_once(s: ProblemState, actor, campaign: Campaign, day) -> None:
    # A decline is proposed once and then decided; a leader may also decline unasked.
    if s.decline_requested:
        raise Refused(_("A decline is proposed already; a leader decides on it."))
    # An owner proposes to decline their own problem; a clerk, any problem.
    if not _is_owner_of(s, actor) and not has_role(actor, campaign, Role.CLERK):
        raise Forbidden(_("Only the problem's owner (or a clerk) may propose to decline it."))


def _check_decline_pending(s: ProblemState, actor, campaign: Campaign, day) -> None:
    if not s.decline_requested:
        raise Refused(_("Nobody has proposed to decline this problem."))


PERSON_RULES = {
    Rule.OWNER_CLAIMS: _check_owner_claims,
    Rule.NOT_OWN: _check_not_own,
    Rule.CONSOLIDATION: _check_consolidation,
    Rule.DECLINE_ONCE: _check_decline_once,
    Rule.DECLINE_PENDING: _check_decline_pending,
}


def offered(action_names, s: ProblemState, campaign: Campaign, actor, problem_id,
            day: dt.date | None = None) -> set[str]:
    """Which of these actions `check` would allow this actor on `day` (the organisation's
    today when not given): what a page offers. The action itself checks again when taken."""
    out = set()
    if day is None:
        from zhenggai.org import clock

        day = clock.today(campaign.org_id)
    for action in action_names:
        try:
            check(action, s, campaign, actor, problem_id=problem_id, day=day)
        except Refused:
            continue
        out.add(action)
    return out
