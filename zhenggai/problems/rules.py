"""Who may take an action on a problem: the lifecycle table's roles plus the rules about
who the actor is. Every action calls `check` before it writes anything."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from zhenggai.campaigns.models import Campaign
from zhenggai.campaigns.roles import has_role
from zhenggai.errors import Forbidden, Refused

from . import lifecycle as lc
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


def check(action: str, s: ProblemState, campaign: Campaign, actor, problem_id=None,
          opinion=None) -> lc.Transition:
    t = lc.TABLE[action]
    current = s.state or ""
    if action == "create":
        if current:
            raise Refused(_("This problem exists already."))
    elif current not in t.sources:
        raise Refused(
            _("A problem that is %(state)s cannot be “%(action)s”."),
            state=lc.STATE_LABELS.get(current, current), action=t.label,
        )
    if actor is None:
        raise Forbidden(_("Sign in, or show your receipt, to do this."))
    if isinstance(actor, ReceiptHolder):
        if lc.PROPOSER not in t.roles or not is_proposer(actor, problem_id, opinion):
            raise Forbidden(_("A receipt lets its holder follow and answer only their own case."))
        return t
    if actor.org_id != campaign.org_id:
        raise Forbidden(_("%(who)s is not a member of this organisation."), who=actor.name)
    member_roles = t.roles - {lc.PROPOSER}
    ok = bool(member_roles) and has_role(actor, campaign, *member_roles)
    if not ok and lc.PROPOSER in t.roles:
        ok = is_proposer(actor, problem_id, opinion)
    if not ok:
        names = _(" or ").join(sorted(str(_role_label(r)) for r in t.roles))
        raise Forbidden(
            _("Only a %(roles)s may “%(action)s” in campaign “%(campaign)s”."),
            roles=names, action=t.label, campaign=campaign.name,
        )
    _check_person(action, s, actor, campaign)
    return t


def may_start_review_round(actor, campaign: Campaign) -> bool:
    """A review round is started by a leader of the campaign."""
    from zhenggai.campaigns.models import Role

    return member_id(actor) is not None and has_role(actor, campaign, Role.LEADER)


def _role_label(role: str):
    from zhenggai.campaigns.models import Role

    return _("proposer of this problem") if role == lc.PROPOSER else Role(role).label


def _is_owner_of(s: ProblemState, actor) -> bool:
    """The problem's owner; without one, a member of its owning unit."""
    if s.owner is not None:
        return s.owner == actor.pk
    return s.unit is not None and actor.unit_id == s.unit


def _check_person(action: str, s: ProblemState, actor, campaign: Campaign) -> None:
    # A decline is proposed once and then decided; a leader may also decline unasked.
    if action == "propose_decline" and s.decline_requested:
        raise Refused(_("A decline is proposed already; a leader decides on it."))
    if action == "reject_decline" and not s.decline_requested:
        raise Refused(_("Nobody has proposed to decline this problem."))
    if action == "propose_decline" and not _is_owner_of(s, actor):
        from zhenggai.campaigns.models import Role

        # An owner proposes to decline their own problem; a clerk, any problem.
        if not has_role(actor, campaign, Role.CLERK):
            raise Forbidden(_("Only the problem's owner (or a clerk) may propose to decline "
                              "it."))
    if action == "claim":
        if s.owner is not None and s.owner != actor.pk:
            raise Forbidden(_("Only the problem's owner may claim it is rectified."))
        if s.owner is None and s.unit is not None and actor.unit_id != s.unit:
            raise Forbidden(_("Only a member of the owning unit may claim it is rectified."))
    if action.startswith(("verify_", "check_")):
        if s.owner == actor.pk:
            raise Forbidden(_("A representative never verifies a problem they own."))
        if s.last_claim_by == actor.pk:
            raise Forbidden(_("Nobody verifies their own claim."))


def offered(action_names, s: ProblemState, campaign: Campaign, actor, problem_id) -> set[str]:
    """Which of these actions `check` would allow this actor now: what a page offers.
    The action itself checks again when it is taken."""
    out = set()
    for action in action_names:
        try:
            check(action, s, campaign, actor, problem_id=problem_id)
        except Refused:
            continue
        out.add(action)
    return out
