"""The states of a problem and the kinds of event that move it between them.

Each kind of event (an action) is declared once, in `registry.py`: from which states, by
whom, how it folds into the state, what it counts in the figures, its labels, its form and
its API endpoint. This module holds only the vocabulary they share.
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from zhenggai.campaigns.models import Role

OPEN = "open"
ASSIGNED = "assigned"
CLAIMED = "claimed"
VERIFIED = "verified"
CLOSED = "closed"
REOPENED = "reopened"
DECLINED = "declined"

STATES = [OPEN, ASSIGNED, CLAIMED, VERIFIED, CLOSED, REOPENED, DECLINED]
STATE_LABELS = {
    OPEN: _("open"),
    ASSIGNED: _("assigned"),
    CLAIMED: _("claimed (awaiting verification)"),
    VERIFIED: _("verified"),
    CLOSED: _("closed"),
    REOPENED: _("reopened"),
    DECLINED: _("declined"),
}

# Reasons a problem is reopened.
NOT_THOROUGH = "not_thorough"
DETERIORATED = "deteriorated"
DISSATISFIED = "dissatisfied"
REOPEN_REASONS = {
    NOT_THOROUGH: _("not thorough"),
    DETERIORATED: _("deteriorated"),
    DISSATISFIED: _("proposer not satisfied"),
}

# Groups of states the figures use.
CLAIMED_RESOLVED = frozenset({CLAIMED, VERIFIED, CLOSED})
VERIFIED_RESOLVED = frozenset({VERIFIED, CLOSED})
UNCLAIMED = frozenset({OPEN, ASSIGNED, REOPENED})  # can be overdue
UNRESOLVED = frozenset({OPEN, ASSIGNED, REOPENED, CLAIMED})  # has an age

# Who may take an action: the campaign roles (campaigns.models.Role; every member is a
# `Role.WORKER`), or this: a proposer of one of the problem's opinions, named or holding
# the receipt. Not a campaign role, so not in Role.
PROPOSER = "proposer"
ROLES = frozenset({*Role.values, PROPOSER})


class Kind(StrEnum):
    """The kinds of event, as stored in `problems.Event.kind` (the values never change)."""

    CREATE = "create"
    ASSIGN = "assign"
    UPDATE = "update"
    ADD_OPINIONS = "add_opinions"
    REMOVE_OPINION = "remove_opinion"
    CLAIM = "claim"
    VERIFY_PASSED = "verify_passed"
    VERIFY_NOT_THOROUGH = "verify_not_thorough"
    CHECK_HOLDS = "check_holds"
    CHECK_DETERIORATED = "check_deteriorated"
    FOLLOWUP = "followup"
    PROPOSE_DECLINE = "propose_decline"
    DECLINE = "decline"
    REJECT_DECLINE = "reject_decline"
    CONTEST = "contest"
    CARRY_OVER = "carry_over"
    POSTER = "poster"
    HAND_OVER = "hand_over"
    ME_TOO = "me_too"


ALL = STATES
LIVE = [OPEN, ASSIGNED, CLAIMED, VERIFIED, REOPENED]


def allowed_actions(state: str) -> list[Kind]:
    """The actions the registry allows from `state` (whoever takes them)."""
    from .registry import ACTIONS  # the registry reads this module's names

    return [k for k, a in ACTIONS.items() if state in a.sources]
